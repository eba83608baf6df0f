/**
 * The Cypher statements of the Neo4j backend, in one place. Parameters are
 * documented next to each; `$ns` is the registry namespace and every `uid`
 * is `{ns}:{id}`.
 *
 * @module
 */

import { intColumn, listColumn, textColumn } from "./columns.ts";
import { NODE_PROJECTION, TOPIC_PROJECTION } from "./records.ts";

/**
 * Query option of the diff statements: keep the cached plan even when the
 * graph's statistics have drifted. Their plans are fixed by the unique
 * `uid` constraints (every read is a unique index seek), so a re-plan can
 * only cost time — and planning one of these statements costs 0.5–2 s of
 * server CPU on the 2-core CI machine (measured), which a growing registry
 * would otherwise pay again whenever its node count moved enough.
 */
const REPLAN_SKIP = "CYPHER replan=skip";

/**
 * The node columns of the two statements that create nodes
 * ({@link Q_DIFF_SMALL}, {@link Q_DIFF_CREATE}), bound to one name each; the
 * node ids come from the column `idColumn`.
 */
function nodeColumns(idColumn: string): string {
  return `${textColumn(idColumn)} AS id, ${textColumn("type")} AS type,
  ${intColumn("interval")} AS interval, ${intColumn("period")} AS period,
  ${textColumn("code")} AS code, ${textColumn("compat")} AS compat,
  ${textColumn("params")} AS params, ${listColumn("inputs")} AS inputs,
  ${textColumn("name")} AS name, ${listColumn("tags")} AS tags,
  ${textColumn("meta")} AS meta, ${textColumn("topic")} AS topic`;
}

/**
 * Row `i` of {@link nodeColumns} as a new node of version `v`: the
 * ComputeNode, its Topic, and the version's `CONTAINS {created: true}`.
 */
const CREATE_NODE = `CREATE (n:ComputeNode {uid: $ns + ':' + id[i], ns: $ns,
  node_id: id[i], node_type: type[i], interval: interval[i],
  period: period[i], code_hash: code[i], schema_compat_id: compat[i],
  params_canon: params[i], inputs: inputs[i], name: name[i], tags: tags[i],
  metadata_json: meta[i], created_at: $now})
CREATE (n)-[:EMITS]->(:Topic {uid: $ns + ':' + topic[i], ns: $ns,
  name: topic[i], created_at: $now, retention_ms: $retention, partitions: 1})
CREATE (v)-[:CONTAINS {created: true}]->(n)`;

/**
 * The lookup shared by {@link Q_DIFF_OPEN} and {@link Q_CHUNK_LINK}: which
 * nodes of column `lid` exist (`found`: indexes, `found_nodes`), their
 * topics, and which to link (`$llink` character `1`) or to stamp (`0`).
 * Everything is collected first and written after, so the planner needs no
 * `Eager` buffer between reading and writing.
 */
const LOOKUP = `WITH ${textColumn("lid")} AS ids
  UNWIND range(0, size(ids) - 1) AS i
  MATCH (n:ComputeNode {uid: $ns + ':' + ids[i]})
  WITH i, n, substring($llink, i, 1) = '1' AS linkIt,
    coalesce(head([(n)-[:EMITS]->(t:Topic) | t.name]), '') AS topic
  RETURN collect(i) AS found, collect(topic) AS topics,
    collect(n) AS found_nodes, collect(CASE WHEN linkIt THEN n END) AS link,
    collect(CASE WHEN linkIt THEN null ELSE n END) AS stamp`;

/**
 * Open a diff: upsert the strategy and its version sentinel (the first
 * statement, so it also serialises concurrent attempts at one version) and
 * report the sentinel's state — `hash` and `retired` (conflict check),
 * `born` (this attempt created it) and `pending` (a chunked commit of it is
 * unfinished; a finished one that this attempt did not create is read back
 * with {@link Q_CONTENTS}). A new sentinel gets `pending = true` when
 * `$pending` (chunked commit), no property otherwise.
 *
 * When the sentinel is new (or pending and `$resumable`), the same statement
 * then looks up which of the nodes in column `lid` exist (node IDs sorted by
 * uid, so concurrent diffs lock in one order), locks them and links to the
 * sentinel those whose character in `$llink` is `1` (the DAG's own nodes,
 * `CONTAINS` without a `created` property: reused); a `0` marks an external
 * input, locked by stamping `last_ref_at` (it gets no link; the edges of its
 * new dependents keep it alive). Creating the `CONTAINS` link write-locks
 * the node until commit, which keeps a concurrent GC off it (the GC locks a
 * node, then re-checks that it has no live `CONTAINS`); a linked node's
 * `updated_at` and `last_ref_at` are not touched (no per-node property churn
 * on reuse). Returns `found` (indexes into `lid`) and `topics` (`''` for
 * none). A rejected diff throws afterwards and the whole transaction is
 * rolled back.
 *
 * Params: `$suid`, `$vuid`, `$ns`, `$strategyId`, `$owner`, `$sentinelId`,
 * `$version`, `$dagHash`, `$now`, `$token`, `$pending`, `$resumable`, the
 * text column `lid` and `$llink`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_DIFF_OPEN } from "./cypher.ts";
 * assert.ok(Q_DIFF_OPEN.includes("HAS_VERSION"));
 * ```
 */
export const Q_DIFF_OPEN: string = `${REPLAN_SKIP}
MERGE (s:Strategy {uid: $suid})
ON CREATE SET s.ns = $ns, s.strategy_id = $strategyId, s.owner = $owner,
  s.created_at = $now
MERGE (v:VersionSentinel {uid: $vuid})
ON CREATE SET v.ns = $ns, v.sentinel_id = $sentinelId,
  v.strategy_id = $strategyId, v.version = $version, v.dag_hash = $dagHash,
  v.created_at = $now, v.traffic_weight = 1.0, v.retired = false,
  v._born = $token, v.pending = CASE WHEN $pending THEN true END
MERGE (s)-[:HAS_VERSION]->(v)
WITH v, v._born = $token AS born, coalesce(v.pending, false) AS pending
CALL {
  WITH v, born, pending
  WITH v WHERE born OR ($resumable AND pending)
  ${LOOKUP}
}
FOREACH (n IN link | CREATE (v)-[:CONTAINS]->(n))
FOREACH (n IN stamp | SET n.last_ref_at = $now)
RETURN v.dag_hash AS hash, v.retired AS retired, born, pending, found, topics`;

/**
 * A small first-attempt diff in one statement (one round trip instead of
 * two; see `diff_small.ts` for when it is used): {@link Q_DIFF_OPEN} with
 * `$pending` and `$resumable` false, then, when the sentinel is new, what
 * {@link Q_DIFF_CREATE} and {@link Q_DIFF_EDGES} write for the nodes the
 * lookup did not find. The node columns are aligned with column `lid`
 * (blanks for external inputs, which are never created: `$llink`
 * character `0`); a node is created when its `$llink` character is `1` and
 * its index is not in `found` (the `IN` test is linear, so this statement
 * is only for small DAGs). Missing nodes are created in `lid` order (sorted
 * by uid, as {@link Q_DIFF_CREATE} does), each with its topic and its
 * `CONTAINS {created: true}` link; then the input edges of the created nodes
 * (`ea` → `eb`, indexes into `lid`; the input may be found or created) and
 * their tags (`tn`: index into `lid`, `tg`: tag name; tags merged). Returns
 * the {@link Q_DIFF_OPEN} columns plus `made` (nodes created) and `edges`
 * (edges created), which the caller checks.
 *
 * Params: those of {@link Q_DIFF_OPEN} (`$pending` and `$resumable`
 * unused), `$retention`; text columns `type`, `code`, `compat`, `params`,
 * `name`, `meta`, `topic`, `tg`; integer columns `interval`, `period`,
 * `ea`, `eb`, `tn`; list columns `inputs`, `tags`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_DIFF_SMALL } from "./cypher.ts";
 * assert.ok(Q_DIFF_SMALL.includes("CREATE (n:ComputeNode"));
 * ```
 */
export const Q_DIFF_SMALL: string = `${REPLAN_SKIP}
MERGE (s:Strategy {uid: $suid})
ON CREATE SET s.ns = $ns, s.strategy_id = $strategyId, s.owner = $owner,
  s.created_at = $now
MERGE (v:VersionSentinel {uid: $vuid})
ON CREATE SET v.ns = $ns, v.sentinel_id = $sentinelId,
  v.strategy_id = $strategyId, v.version = $version, v.dag_hash = $dagHash,
  v.created_at = $now, v.traffic_weight = 1.0, v.retired = false,
  v._born = $token
MERGE (s)-[:HAS_VERSION]->(v)
WITH v, v._born = $token AS born, coalesce(v.pending, false) AS pending
CALL {
  WITH v, born
  WITH v WHERE born
  ${LOOKUP}
}
FOREACH (n IN link | CREATE (v)-[:CONTAINS]->(n))
FOREACH (n IN stamp | SET n.last_ref_at = $now)
WITH v, born, pending, found, topics
CALL {
  WITH v, born, found
  WITH v, found WHERE born
  WITH v, found, ${nodeColumns("lid")}
  UNWIND range(0, size(id) - 1) AS i
  WITH v, id, type, interval, period, code, compat, params, inputs, name,
    tags, meta, topic, i
  WHERE substring($llink, i, 1) = '1' AND NOT i IN found
  ${CREATE_NODE}
  RETURN count(n) AS made
}
CALL {
  WITH born, found
  WITH found WHERE born
  WITH found, ${textColumn("lid")} AS id, ${intColumn("ea")} AS a,
    ${intColumn("eb")} AS b
  UNWIND range(0, size(a) - 1) AS k
  WITH id, a[k] AS x, b[k] AS y, found
  WHERE NOT x IN found
  MATCH (c:ComputeNode {uid: $ns + ':' + id[x]})
  MATCH (p:ComputeNode {uid: $ns + ':' + id[y]})
  CREATE (c)-[:DEPENDS_ON]->(p)
  RETURN count(*) AS edges
}
CALL {
  WITH born, found
  WITH found WHERE born
  WITH found, ${textColumn("lid")} AS id, ${intColumn("tn")} AS tn,
    ${textColumn("tg")} AS tg
  UNWIND range(0, size(tn) - 1) AS k
  WITH id, tn[k] AS x, tg[k] AS tag, found
  WHERE NOT x IN found
  MATCH (n:ComputeNode {uid: $ns + ':' + id[x]})
  MERGE (g:Tag {uid: $ns + ':' + tag})
  ON CREATE SET g.ns = $ns, g.name = tag
  CREATE (n)-[:TAGGED]->(g)
  RETURN count(*) AS tagged
}
RETURN v.dag_hash AS hash, v.retired AS retired, born, pending, found, topics,
  made, edges`;

/**
 * What a committed strategy version contains: `[node_id, created, topic]`
 * per node (the stored result of its commit, returned to a re-run). A
 * statement of its own: reading `CONTAINS` in {@link Q_DIFF_OPEN}, which
 * creates `CONTAINS` links, would make the planner buffer every looked-up
 * row (an `Eager`). Params: `$vuid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_CONTENTS } from "./cypher.ts";
 * assert.ok(Q_CONTENTS.includes("CONTAINS"));
 * ```
 */
export const Q_CONTENTS: string = `${REPLAN_SKIP}
MATCH (v:VersionSentinel {uid: $vuid})-[c:CONTAINS]->(n:ComputeNode)
RETURN collect([n.node_id, c.created = true,
  coalesce(head([(n)-[:EMITS]->(t:Topic) | t.name]), '')]) AS contents`;

/**
 * One chunk of a chunked commit, first statement: like the lookup part of
 * {@link Q_DIFF_OPEN}, for the chunk's nodes and external inputs, but
 * idempotent (a resumed commit meets links an earlier attempt made:
 * `MERGE`), and only while the sentinel is still pending with this DAG hash
 * and not retired (else no row). Returns `found`, `topics` and `mine`
 * (whether an earlier attempt of this version created the node).
 *
 * Params: `$vuid`, `$dagHash`, `$ns`, `$now`, the text column `lid` and
 * `$llink`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_CHUNK_LINK } from "./cypher.ts";
 * assert.ok(Q_CHUNK_LINK.includes("MERGE (v)-[:CONTAINS]->(n)"));
 * ```
 */
export const Q_CHUNK_LINK: string = `${REPLAN_SKIP}
MATCH (v:VersionSentinel {uid: $vuid})
WHERE v.pending = true AND v.dag_hash = $dagHash AND v.retired = false
CALL {
  WITH v
  ${LOOKUP}
}
FOREACH (n IN link | MERGE (v)-[:CONTAINS]->(n))
FOREACH (n IN stamp | SET n.last_ref_at = $now)
RETURN found, topics,
  [n IN found_nodes | EXISTS { (v)-[:CONTAINS {created: true}]->(n) }] AS mine`;

/**
 * Which of the candidate topic names in text column `cand` are taken
 * (`taken`: indexes into the column; one unique index seek each). Params:
 * `$ns`, the text column `cand`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_TOPICS_TAKEN } from "./cypher.ts";
 * assert.ok(Q_TOPICS_TAKEN.includes("Topic"));
 * ```
 */
export const Q_TOPICS_TAKEN: string = `${REPLAN_SKIP}
WITH ${textColumn("cand")} AS c
UNWIND range(0, size(c) - 1) AS i
MATCH (t:Topic {uid: $ns + ':' + c[i]})
RETURN collect(i) AS taken`;

/**
 * Topic names already taken under some `{base}_v` prefixes. Params:
 * `$prefixes` (uids, i.e. `{ns}:{base}_v`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_TAKEN_TOPICS } from "./cypher.ts";
 * assert.ok(Q_TAKEN_TOPICS.includes("STARTS WITH"));
 * ```
 */
export const Q_TAKEN_TOPICS: string = `${REPLAN_SKIP}
UNWIND $prefixes AS p
MATCH (t:Topic) WHERE t.uid STARTS WITH p
RETURN t.name AS name`;

/**
 * Create the nodes a diff did not find, in one batch: each node with its
 * topic (`EMITS`), its `CONTAINS {created: true}` link from the sentinel,
 * its tags (`TAGGED`, tags merged once each) and its input edges
 * (`DEPENDS_ON`) to nodes of the same batch (by index, `ia` → `ib`; edges
 * to existing nodes follow in {@link Q_DIFF_EDGES}). Nodes are `CREATE`d, not merged:
 * the lookup found them missing under the same transaction, so a node (or a
 * topic name) created concurrently since fails the uniqueness constraint
 * and the whole attempt is re-run, which then finds it. A node stores no
 * `last_ref_at` (set when its last reference goes, see {@link Q_RELEASE})
 * and no `updated_at` until it changes (reads fall back to `created_at`),
 * so a new node costs one index entry besides its key.
 *
 * Params: `$vuid`, `$ns`, `$now`, `$retention`; text columns `id`, `type`,
 * `code`, `compat`, `params`, `name`, `meta`, `topic`, `tagName`; integer
 * columns `interval`, `period`, `tagNode`, `tagIdx`, `ia`, `ib`; list
 * columns `inputs`, `tags` (see `columns.ts`). Returns `made` (nodes
 * created), which the caller checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_DIFF_CREATE } from "./cypher.ts";
 * assert.ok(Q_DIFF_CREATE.includes("CREATE (n:ComputeNode"));
 * ```
 */
export const Q_DIFF_CREATE: string = `${REPLAN_SKIP}
MATCH (v:VersionSentinel {uid: $vuid})
WITH v, ${nodeColumns("id")}
UNWIND range(0, size(id) - 1) AS i
${CREATE_NODE}
WITH collect(n) AS made
CALL {
  WITH made
  UNWIND ${textColumn("tagName")} AS tag
  MERGE (g:Tag {uid: $ns + ':' + tag})
  ON CREATE SET g.ns = $ns, g.name = tag
  WITH made, collect(g) AS gs
  WITH made, gs, ${intColumn("tagNode")} AS tn, ${intColumn("tagIdx")} AS ti
  UNWIND range(0, size(tn) - 1) AS k
  WITH made[tn[k]] AS n, gs[ti[k]] AS g
  CREATE (n)-[:TAGGED]->(g)
}
CALL {
  WITH made
  WITH made, ${intColumn("ia")} AS a, ${intColumn("ib")} AS b
  UNWIND range(0, size(a) - 1) AS k
  WITH made[a[k]] AS c, made[b[k]] AS p
  CREATE (c)-[:DEPENDS_ON]->(p)
}
RETURN size(made) AS made`;

/**
 * Input edges from nodes {@link Q_DIFF_CREATE} just created to existing
 * nodes (a statement of its own, run only when there are such edges:
 * matching `ComputeNode`s in the statement that creates them would make the
 * planner buffer every created row). Params: `$ns`, text columns `xa`
 * (node IDs of the new consumers) and `xb` (node IDs of their existing
 * inputs). Returns `external`, the edges created, which the caller checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_DIFF_EDGES } from "./cypher.ts";
 * assert.ok(Q_DIFF_EDGES.includes("DEPENDS_ON"));
 * ```
 */
export const Q_DIFF_EDGES: string = `${REPLAN_SKIP}
WITH ${textColumn("xa")} AS a, ${textColumn("xb")} AS b
UNWIND range(0, size(a) - 1) AS k
MATCH (c:ComputeNode {uid: $ns + ':' + a[k]})
MATCH (p:ComputeNode {uid: $ns + ':' + b[k]})
CREATE (c)-[:DEPENDS_ON]->(p)
RETURN count(*) AS external`;

/**
 * Attach a topic to existing nodes of a diff that have none (their topic
 * was deleted while they had no reference). Params: `$ns`, `$now`,
 * `$retention`, `$ids` (node IDs), `$topics` (names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_ATTACH_TOPICS } from "./cypher.ts";
 * assert.ok(Q_ATTACH_TOPICS.includes("EMITS"));
 * ```
 */
export const Q_ATTACH_TOPICS: string = `${REPLAN_SKIP}
UNWIND range(0, size($ids) - 1) AS i
MATCH (n:ComputeNode {uid: $ns + ':' + $ids[i]})
WHERE NOT EXISTS { (n)-[:EMITS]->(:Topic) }
CREATE (n)-[:EMITS]->(:Topic {uid: $ns + ':' + $topics[i], ns: $ns,
  name: $topics[i], created_at: $now, retention_ms: $retention, partitions: 1})
SET n.updated_at = $now
RETURN count(*) AS attached`;

/**
 * Finish a chunked commit: when the sentinel is pending with this DAG hash,
 * not retired and links exactly `$count` nodes, drop its `pending` mark in
 * the same statement. Returns what it found (`same`, `retired`, `links`)
 * and whether the sentinel is now `complete`. Params: `$vuid`, `$dagHash`,
 * `$count`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_CHUNK_CLOSE } from "./cypher.ts";
 * assert.ok(Q_CHUNK_CLOSE.includes("REMOVE v.pending"));
 * ```
 */
export const Q_CHUNK_CLOSE: string = `${REPLAN_SKIP}
MATCH (v:VersionSentinel {uid: $vuid})
WITH v, COUNT { (v)-[:CONTAINS]->(:ComputeNode) } AS links,
  v.dag_hash = $dagHash AS same, v.retired AS retired
FOREACH (_ IN CASE WHEN same AND NOT retired AND v.pending = true
  AND links = $count THEN [1] ELSE [] END | REMOVE v.pending)
RETURN same, retired, links, v.pending IS NULL AS complete`;

/**
 * Undo part of an unfinished chunked commit: remove up to `$batch` links of
 * a pending sentinel, locking each node and stamping `last_ref_at` on those
 * left without a live reference (as {@link Q_RELEASE} does, so the GC takes
 * them after the grace period). Returns how many links were removed.
 * Params: `$vuid`, `$batch`, `$now`, `$token`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_CHUNK_ABORT } from "./cypher.ts";
 * assert.ok(Q_CHUNK_ABORT.includes("DELETE c"));
 * ```
 */
export const Q_CHUNK_ABORT: string = `${REPLAN_SKIP}
MATCH (v:VersionSentinel {uid: $vuid})-[c:CONTAINS]->(n:ComputeNode)
WHERE v.pending = true
WITH c, n LIMIT $batch
SET n._lock = $token
DELETE c
WITH n,
  NOT EXISTS { (n)<-[:CONTAINS]-(o:VersionSentinel) WHERE o.retired = false }
  AS orphan
FOREACH (_ IN CASE WHEN orphan THEN [1] ELSE [] END |
  SET n.last_ref_at = $now)
RETURN count(*) AS removed`;

/**
 * Delete a pending sentinel left without links (the end of an abort).
 * Params: `$vuid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_CHUNK_DROP } from "./cypher.ts";
 * assert.ok(Q_CHUNK_DROP.includes("DETACH DELETE v"));
 * ```
 */
export const Q_CHUNK_DROP: string = `
MATCH (v:VersionSentinel {uid: $vuid})
WHERE v.pending = true AND NOT EXISTS { (v)-[:CONTAINS]->() }
DETACH DELETE v
RETURN count(*) AS dropped`;

/**
 * One node. Params: `$uid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_GET_NODE } from "./cypher.ts";
 * assert.ok(Q_GET_NODE.includes("$uid"));
 * ```
 */
export const Q_GET_NODE: string = `
MATCH (n:ComputeNode {uid: $uid})
RETURN ${NODE_PROJECTION}`;

/**
 * A page of nodes by uid. Params: `$prefix` (`{ns}:`), `$after` (uid),
 * `$nodeType` (or null), `$interval` (or null), `$limit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_LIST_NODES } from "./cypher.ts";
 * assert.ok(Q_LIST_NODES.includes("ORDER BY n.uid"));
 * ```
 */
export const Q_LIST_NODES: string = `
MATCH (n:ComputeNode)
WHERE n.uid STARTS WITH $prefix AND n.uid > $after
  AND ($nodeType IS NULL OR n.node_type = $nodeType)
  AND ($interval IS NULL OR n.interval = $interval)
WITH n ORDER BY n.uid LIMIT $limit
RETURN ${NODE_PROJECTION}`;

/**
 * Inputs (`out`) or dependents (`in`) of a node; null row when the node is
 * absent. Params: `$uid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qNeighbours } from "./cypher.ts";
 * assert.ok(qNeighbours("out").includes("DEPENDS_ON"));
 * ```
 */
export function qNeighbours(direction: "out" | "in"): string {
  const pattern = direction === "out"
    ? "(m)-[:DEPENDS_ON]->(n:ComputeNode)"
    : "(m)<-[:DEPENDS_ON]-(n:ComputeNode)";
  return `
MATCH (m:ComputeNode {uid: $uid})
OPTIONAL MATCH ${pattern}
WITH n ORDER BY n.uid
RETURN n IS NOT NULL AS present, ${NODE_PROJECTION}`;
}

/**
 * Nodes tagged with any / all of `$tagUids`, starting from a unique index
 * seek on `Tag.uid`. Params: `$tagUids`, `$need` (1 for any, the tag count
 * for all), `$interval` (or null), `$limit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_BY_TAGS } from "./cypher.ts";
 * assert.ok(Q_BY_TAGS.includes("TAGGED"));
 * ```
 */
export const Q_BY_TAGS: string = `
UNWIND $tagUids AS tu
MATCH (g:Tag {uid: tu})<-[:TAGGED]-(n:ComputeNode)
WHERE ($interval IS NULL OR n.interval = $interval) AND n.node_type <> 'TagQuery'
WITH n, count(DISTINCT g) AS hits
WHERE hits >= $need
WITH n ORDER BY n.uid LIMIT $limit
RETURN ${NODE_PROJECTION}`;

/**
 * Strategy versions containing a node; a version whose chunked commit is
 * unfinished (`pending`) is not listed until it completes. Params: `$uid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_STRATEGIES_USING } from "./cypher.ts";
 * assert.ok(Q_STRATEGIES_USING.includes("CONTAINS"));
 * ```
 */
export const Q_STRATEGIES_USING: string = `
MATCH (n:ComputeNode {uid: $uid})<-[:CONTAINS]-(v:VersionSentinel)
WHERE v.pending IS NULL
RETURN v.strategy_id AS strategyId, v.version AS version,
  v.sentinel_id AS sentinelId, v.retired AS retired
ORDER BY v.sentinel_id`;

/**
 * Serialise dependency-edge edits of one namespace (cycle checks need a
 * stable graph). Params: `$lockUid`, `$ns`, `$now`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_EDGE_LOCK } from "./cypher.ts";
 * assert.ok(Q_EDGE_LOCK.includes("DagLock"));
 * ```
 */
export const Q_EDGE_LOCK: string = `
MERGE (l:DagLock {uid: $lockUid})
ON CREATE SET l.ns = $ns
SET l.at = $now`;

/**
 * Both endpoints of a new edge, whether it exists, and a path that the edge
 * would close into a cycle. Params: `$fuid`, `$tuid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_EDGE_CHECK } from "./cypher.ts";
 * assert.ok(Q_EDGE_CHECK.includes("shortestPath"));
 * ```
 */
export const Q_EDGE_CHECK: string = `
OPTIONAL MATCH (f:ComputeNode {uid: $fuid})
OPTIONAL MATCH (t:ComputeNode {uid: $tuid})
OPTIONAL MATCH p = shortestPath((t)-[:DEPENDS_ON*1..]->(f))
WHERE f IS NOT NULL AND t IS NOT NULL AND f <> t
RETURN f IS NOT NULL AS hasFrom, t IS NOT NULL AS hasTo,
  CASE WHEN f IS NULL OR t IS NULL THEN false
       ELSE EXISTS { (f)-[:DEPENDS_ON]->(t) } END AS exists,
  CASE WHEN p IS NULL THEN null ELSE [x IN nodes(p) | x.node_id] END AS path`;

/**
 * Create the edge "`$fuid` depends on `$tuid`". Params: `$fuid`, `$tuid`,
 * `$now`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_EDGE_ADD } from "./cypher.ts";
 * assert.ok(Q_EDGE_ADD.includes("MERGE (f)-[:DEPENDS_ON]->(t)"));
 * ```
 */
export const Q_EDGE_ADD: string = `
MATCH (f:ComputeNode {uid: $fuid}), (t:ComputeNode {uid: $tuid})
MERGE (f)-[:DEPENDS_ON]->(t)
SET f.updated_at = $now`;

/**
 * Delete the edge "`$fuid` depends on `$tuid`". Params: `$fuid`, `$tuid`,
 * `$now`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_EDGE_REMOVE } from "./cypher.ts";
 * assert.ok(Q_EDGE_REMOVE.includes("DELETE r"));
 * ```
 */
export const Q_EDGE_REMOVE: string = `
MATCH (f:ComputeNode {uid: $fuid})-[r:DEPENDS_ON]->(t:ComputeNode {uid: $tuid})
DELETE r
SET f.updated_at = $now
RETURN count(*) AS removed`;

/**
 * Mark a sentinel retired; returns whether it already was (`was`) and
 * whether its release is still to do (`releasing`: set here when this call
 * retires it, dropped by {@link Q_RELEASE_DONE}). Params: `$vuid`, `$now`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_RETIRE } from "./cypher.ts";
 * assert.ok(Q_RETIRE.includes("retired_at"));
 * ```
 */
export const Q_RETIRE: string = `
MATCH (v:VersionSentinel {uid: $vuid})
WITH v, v.retired AS was
SET v.retired = true, v.retired_at = coalesce(v.retired_at, $now),
  v.releasing = CASE WHEN was THEN v.releasing ELSE true END
RETURN was, coalesce(v.releasing, false) AS releasing`;

/**
 * After retiring, one batch of the release: the next `$batch` nodes of the
 * sentinel after uid `$after` (in uid order), each locked, and those left
 * without live references stamped (`last_ref_at`, which makes them GC
 * candidates) and returned. Batches keep a 50,000-node version within one
 * transaction's memory limit; a release cut short is finished by the next
 * `retireVersion` or GC run (the sentinel keeps `releasing` until
 * {@link Q_RELEASE_DONE}). Returns `released` (node IDs), `last` (the
 * largest uid seen) and `seen`. Params: `$vuid`, `$after`, `$batch`,
 * `$now`, `$token`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_RELEASE } from "./cypher.ts";
 * assert.ok(Q_RELEASE.includes("_lock"));
 * ```
 */
export const Q_RELEASE: string = `
MATCH (:VersionSentinel {uid: $vuid})-[:CONTAINS]->(n:ComputeNode)
WHERE n.uid > $after
WITH n ORDER BY n.uid LIMIT $batch
SET n._lock = $token
WITH n,
  NOT EXISTS { (n)<-[:CONTAINS]-(o:VersionSentinel) WHERE o.retired = false }
  AS free
FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END |
  SET n.last_ref_at = $now, n.updated_at = $now)
RETURN collect(CASE WHEN free THEN n.node_id END) AS released,
  max(n.uid) AS last, count(n) AS seen`;

/**
 * End of a release: drop the sentinel's `releasing` mark. Params: `$vuid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_RELEASE_DONE } from "./cypher.ts";
 * assert.ok(Q_RELEASE_DONE.includes("REMOVE v.releasing"));
 * ```
 */
export const Q_RELEASE_DONE: string = `
MATCH (v:VersionSentinel {uid: $vuid})
REMOVE v.releasing`;

/**
 * Retired sentinels of a namespace whose release was cut short. Params:
 * `$ns`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_RELEASING } from "./cypher.ts";
 * assert.ok(Q_RELEASING.includes("releasing"));
 * ```
 */
export const Q_RELEASING: string = `
MATCH (v:VersionSentinel)
WHERE v.ns = $ns AND v.releasing = true
RETURN v.uid AS uid`;

/**
 * A topic. Params: `$uid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_GET_TOPIC } from "./cypher.ts";
 * assert.ok(Q_GET_TOPIC.includes("Topic"));
 * ```
 */
export const Q_GET_TOPIC: string = `
MATCH (t:Topic {uid: $uid})
RETURN ${TOPIC_PROJECTION}`;

/**
 * A page of topics. Params: `$prefix`, `$after`, `$limit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_LIST_TOPICS } from "./cypher.ts";
 * assert.ok(Q_LIST_TOPICS.includes("ORDER BY t.uid"));
 * ```
 */
export const Q_LIST_TOPICS: string = `
MATCH (t:Topic)
WHERE t.uid STARTS WITH $prefix AND t.uid > $after
WITH t ORDER BY t.uid LIMIT $limit
RETURN ${TOPIC_PROJECTION}`;

/**
 * Lock a node and report its topic (createTopic). Params: `$uid`, `$token`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_LOCK_NODE } from "./cypher.ts";
 * assert.ok(Q_LOCK_NODE.includes("_lock"));
 * ```
 */
export const Q_LOCK_NODE: string = `
MATCH (n:ComputeNode {uid: $uid})
SET n._lock = $token
RETURN head([(n)-[:EMITS]->(t:Topic) | t.name]) AS topic,
  COUNT { (n)<-[:CONTAINS]-(v:VersionSentinel) WHERE v.retired = false } AS refs`;

/**
 * Create a topic, linked to its node when `$nodeUid` is not null. Params:
 * `$uid`, `$ns`, `$name`, `$now`, `$retention`, `$partitions`, `$nodeUid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_CREATE_TOPIC } from "./cypher.ts";
 * assert.ok(Q_CREATE_TOPIC.includes("CREATE (t:Topic"));
 * ```
 */
export const Q_CREATE_TOPIC: string = `
CREATE (t:Topic {uid: $uid, ns: $ns, name: $name, created_at: $now,
                 retention_ms: $retention, partitions: $partitions})
WITH t
OPTIONAL MATCH (n:ComputeNode {uid: $nodeUid})
FOREACH (_ IN CASE WHEN n IS NULL THEN [] ELSE [1] END |
  CREATE (n)-[:EMITS]->(t))
RETURN ${TOPIC_PROJECTION}`;

/**
 * Lock a topic and its emitting node, and report the node's live
 * references. Params: `$uid`, `$token`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_TOPIC_FOR_DELETE } from "./cypher.ts";
 * assert.ok(Q_TOPIC_FOR_DELETE.includes("refs"));
 * ```
 */
export const Q_TOPIC_FOR_DELETE: string = `
MATCH (t:Topic {uid: $uid})
SET t._lock = $token
WITH t
OPTIONAL MATCH (t)<-[:EMITS]-(n:ComputeNode)
SET n._lock = $token
RETURN n.node_id AS nodeId,
  CASE WHEN n IS NULL THEN 0 ELSE
    COUNT { (n)<-[:CONTAINS]-(v:VersionSentinel) WHERE v.retired = false }
  END AS refs`;

/**
 * Delete a topic. Params: `$uid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_DELETE_TOPIC } from "./cypher.ts";
 * assert.ok(Q_DELETE_TOPIC.includes("DETACH DELETE"));
 * ```
 */
export const Q_DELETE_TOPIC: string = `
MATCH (t:Topic {uid: $uid})
DETACH DELETE t`;

/**
 * GC scan: nodes of the namespace with zero live references, their last
 * reference change and dependents. Params: `$ns`, `$limit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_GC_SCAN } from "./cypher.ts";
 * assert.ok(Q_GC_SCAN.includes("last_ref_at"));
 * ```
 */
export const Q_GC_SCAN: string = `
MATCH (n:ComputeNode)
WHERE n.ns = $ns AND n.last_ref_at IS NOT NULL
  AND NOT EXISTS { (n)<-[:CONTAINS]-(v:VersionSentinel) WHERE v.retired = false }
RETURN n.node_id AS id, n.last_ref_at AS lastRefAt,
  [(n)<-[:DEPENDS_ON]-(d:ComputeNode) | d.node_id] AS dependents
LIMIT $limit`;

/**
 * GC delete of one level: lock each node, re-check under the lock that it
 * still has no live reference, no dependent and is out of grace, then delete
 * it with its topic. Returns each deleted node's ID, topic names and tag
 * uids (for {@link Q_GC_TAGS}). Params: `$uids`, `$cutoff`, `$token`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_GC_DELETE } from "./cypher.ts";
 * assert.ok(Q_GC_DELETE.includes("DETACH DELETE n"));
 * ```
 */
export const Q_GC_DELETE: string = `
UNWIND $uids AS uid
MATCH (n:ComputeNode {uid: uid})
SET n._lock = $token
WITH n
WHERE n.last_ref_at <= $cutoff
  AND NOT EXISTS { (n)<-[:CONTAINS]-(v:VersionSentinel) WHERE v.retired = false }
  AND NOT EXISTS { (n)<-[:DEPENDS_ON]-(:ComputeNode) }
OPTIONAL MATCH (n)-[:EMITS]->(t:Topic)
WITH n, n.node_id AS id, collect(t) AS topics,
  [(n)-[:TAGGED]->(g:Tag) | g.uid] AS tags
WITH n, id, topics, tags, [x IN topics | x.name] AS names
FOREACH (x IN topics | DETACH DELETE x)
DETACH DELETE n
RETURN id, names, tags`;

/**
 * After a GC delete: lock each tag the deleted nodes carried and delete
 * those no node is tagged with any more (a diff that tags a node with it
 * concurrently either committed first — the tag is kept — or waits for the
 * lock and then merges a fresh tag). Returns how many were deleted. Params:
 * `$uids` (tag uids), `$token`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_GC_TAGS } from "./cypher.ts";
 * assert.ok(Q_GC_TAGS.includes("TAGGED"));
 * ```
 */
export const Q_GC_TAGS: string = `
UNWIND $uids AS uid
MATCH (g:Tag {uid: uid})
SET g._lock = $token
WITH g
WHERE NOT EXISTS { (g)<-[:TAGGED]-() }
DETACH DELETE g
RETURN count(*) AS deleted`;

/**
 * Delete up to `$batch` links of the namespace's high-degree nodes
 * (`CONTAINS` of version sentinels, `TAGGED` of tags), so that
 * {@link Q_PURGE_BATCH} then deletes nodes with few relationships each: one
 * `DETACH DELETE` of a sentinel that contains 50,000 nodes would otherwise
 * need more transaction memory than the per-transaction limit allows.
 * Params: `$ns`, `$batch`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_PURGE_LINKS } from "./cypher.ts";
 * assert.ok(Q_PURGE_LINKS.includes("DELETE r"));
 * ```
 */
export const Q_PURGE_LINKS: string = `
CALL {
  MATCH (v:VersionSentinel)-[r:CONTAINS]->()
  WHERE v.ns = $ns
  RETURN r LIMIT $batch
  UNION
  MATCH (g:Tag)<-[r:TAGGED]-()
  WHERE g.ns = $ns
  RETURN r LIMIT $batch
}
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted`;

/**
 * Delete up to `$batch` nodes of a namespace (any label). Params: `$ns`,
 * `$batch`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Q_PURGE_BATCH } from "./cypher.ts";
 * assert.ok(Q_PURGE_BATCH.includes("DETACH DELETE"));
 * ```
 */
export const Q_PURGE_BATCH: string = `
MATCH (n)
WHERE n.ns = $ns
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted`;
