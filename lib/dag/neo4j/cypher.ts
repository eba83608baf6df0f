/**
 * The Cypher statements of the Neo4j backend, in one place. Parameters are
 * documented next to each; `$ns` is the registry namespace and every `uid`
 * is `{ns}:{id}`.
 *
 * @module
 */

import { NODE_PROJECTION, TOPIC_PROJECTION } from "./records.ts";

/**
 * Open a diff: upsert the strategy and its version sentinel (the first
 * statement, so it also serialises concurrent attempts at one version) and
 * return the sentinel's hash and retired flag (conflict check), whether this
 * attempt created it and — when it did not — what it contains (the stored
 * result of an earlier commit of the same version). A rejected diff throws
 * afterwards and the whole transaction is rolled back. Params: `$suid`,
 * `$vuid`, `$ns`, `$strategyId`, `$owner`, `$sentinelId`, `$version`,
 * `$dagHash`, `$now`, `$token`.
 *
 * @example
 * ```ts
 * import { Q_OPEN_SENTINEL } from "./cypher.ts";
 * Q_OPEN_SENTINEL.includes("HAS_VERSION"); // true
 * ```
 */
export const Q_OPEN_SENTINEL: string = `
MERGE (s:Strategy {uid: $suid})
ON CREATE SET s.ns = $ns, s.strategy_id = $strategyId, s.owner = $owner,
  s.created_at = $now
MERGE (v:VersionSentinel {uid: $vuid})
ON CREATE SET v.ns = $ns, v.sentinel_id = $sentinelId,
  v.strategy_id = $strategyId, v.version = $version, v.dag_hash = $dagHash,
  v.created_at = $now, v.traffic_weight = 1.0, v.retired = false,
  v._born = $token
MERGE (s)-[:HAS_VERSION]->(v)
WITH v, v._born = $token AS born
RETURN v.dag_hash AS hash, v.retired AS retired, born,
  CASE WHEN born THEN [] ELSE
    [(v)-[c:CONTAINS]->(n:ComputeNode) | {id: n.node_id,
      created: c.created = true,
      topic: head([(n)-[:EMITS]->(t:Topic) | t.name])}]
  END AS contents`;

/**
 * Lock, and link to the new sentinel, the existing nodes among `$uids`
 * (sorted, so concurrent diffs lock in one order), in one pass. Writing a
 * property write-locks a node until commit, which keeps a concurrent GC off
 * it (the GC locks a node, then re-checks that it has no live `CONTAINS`):
 * `$link[i]` says whether `$uids[i]` is a node of the DAG — locked by
 * stamping `updated_at` and linked by a `CONTAINS` without a `created`
 * property (absent means reused) — or an external input, locked by stamping
 * `last_ref_at` (it gets no link; its dependents keep it alive once linked).
 * A linked node's `last_ref_at` is left alone: while it has a live reference
 * the GC never takes it, and retiring its last one stamps it (`Q_RELEASE`),
 * so a stamp here would only churn the `(ns, last_ref_at)` index. Returns
 * the indexes and topics (`''` for none) of the nodes found, as one row. Params: `$vuid`,
 * `$uids`, `$link` (booleans), `$now`.
 *
 * @example
 * ```ts
 * import { Q_LOCK_LINK } from "./cypher.ts";
 * Q_LOCK_LINK.includes("CONTAINS"); // true
 * ```
 */
export const Q_LOCK_LINK: string = `
MATCH (v:VersionSentinel {uid: $vuid})
UNWIND range(0, size($uids) - 1) AS i
MATCH (n:ComputeNode {uid: $uids[i]})
FOREACH (_ IN CASE WHEN $link[i] THEN [1] ELSE [] END |
  SET n.updated_at = $now
  CREATE (v)-[:CONTAINS]->(n))
FOREACH (_ IN CASE WHEN $link[i] THEN [] ELSE [1] END |
  SET n.last_ref_at = $now)
WITH i, coalesce(head([(n)-[:EMITS]->(t:Topic) | t.name]), '') AS topic
RETURN collect(i) AS found, collect(topic) AS topics`;

/**
 * Topic names already taken under some `{base}_v` prefixes. Params:
 * `$prefixes` (uids, i.e. `{ns}:{base}_v`).
 *
 * @example
 * ```ts
 * import { Q_TAKEN_TOPICS } from "./cypher.ts";
 * Q_TAKEN_TOPICS.includes("STARTS WITH"); // true
 * ```
 */
export const Q_TAKEN_TOPICS: string = `
UNWIND $prefixes AS p
MATCH (t:Topic) WHERE t.uid STARTS WITH p
RETURN t.name AS name`;

/**
 * Upsert the DAG's nodes that were not found (and attach a topic to found
 * nodes without one) in one batch: create missing nodes (marked with the
 * attempt's `$token`), their tags and — when a node has no topic — its
 * topic, and link rows with `$link[i]` to the sentinel, `created` true when
 * this attempt created the node (a node created concurrently since the lock
 * pass is merged, locked and linked as reused). A topic is `CREATE`d, so a
 * name taken concurrently fails the uniqueness constraint and the whole
 * attempt is re-run. A `CONTAINS` link's `created` flag is absent or false
 * for a reused node.
 *
 * Rows are passed column by column (one list per field, row `i` at index
 * `i`): neo4j-driver encodes parameters item by item in JavaScript, and a
 * list of maps repeats every key in every row — 1,000 rows as maps took
 * ≈ 70 ms to send, as columns ≈ 45 ms. Uids are `$ns + ':' + id`. Params:
 * `$vuid`, `$ns`, `$now`, `$token`, `$retention`, and the columns `$id`,
 * `$node_type`, `$interval`, `$period`, `$code_hash`, `$schema_compat_id`,
 * `$params_canon`, `$inputs`, `$name`, `$tags`, `$metadata_json`, `$topic`,
 * `$link`.
 *
 * @example
 * ```ts
 * import { Q_UPSERT_NODES } from "./cypher.ts";
 * Q_UPSERT_NODES.includes("MERGE (n:ComputeNode"); // true
 * ```
 */
export const Q_UPSERT_NODES: string = `
MATCH (v:VersionSentinel {uid: $vuid})
UNWIND range(0, size($id) - 1) AS i
MERGE (n:ComputeNode {uid: $ns + ':' + $id[i]})
ON CREATE SET n.ns = $ns, n.node_id = $id[i], n.node_type = $node_type[i],
  n.interval = $interval[i], n.period = $period[i],
  n.code_hash = $code_hash[i], n.schema_compat_id = $schema_compat_id[i],
  n.params_canon = $params_canon[i], n.inputs = $inputs[i], n.name = $name[i],
  n.tags = $tags[i], n.metadata_json = $metadata_json[i], n.created_at = $now,
  n._born = $token
SET n.updated_at = $now, n.last_ref_at = $now
WITH v, n, i, n._born = $token AS born,
  head([(n)-[:EMITS]->(t:Topic) | t]) AS t0
FOREACH (_ IN CASE WHEN t0 IS NULL THEN [1] ELSE [] END |
  CREATE (t:Topic {uid: $ns + ':' + $topic[i], ns: $ns, name: $topic[i],
                   created_at: $now, retention_ms: $retention, partitions: 1})
  CREATE (n)-[:EMITS]->(t))
FOREACH (tag IN CASE WHEN born THEN $tags[i] ELSE [] END |
  MERGE (g:Tag {uid: $ns + ':' + tag})
  ON CREATE SET g.ns = $ns, g.name = tag
  MERGE (n)-[:TAGGED]->(g))
FOREACH (_ IN CASE WHEN $link[i] THEN [1] ELSE [] END |
  CREATE (v)-[:CONTAINS {created: born}]->(n))
RETURN i, born AS created, coalesce(t0.name, $topic[i]) AS topic`;

/**
 * Input edges of the nodes this attempt created. Params: `$edges`
 * (`{from, to}` uids: `from` depends on `to`), `$token`.
 *
 * @example
 * ```ts
 * import { Q_CREATE_EDGES } from "./cypher.ts";
 * Q_CREATE_EDGES.includes("DEPENDS_ON"); // true
 * ```
 */
export const Q_CREATE_EDGES: string = `
UNWIND $edges AS e
MATCH (c:ComputeNode {uid: e.from})
WHERE c._born = $token
MATCH (p:ComputeNode {uid: e.to})
MERGE (c)-[:DEPENDS_ON]->(p)`;

/**
 * One node. Params: `$uid`.
 *
 * @example
 * ```ts
 * import { Q_GET_NODE } from "./cypher.ts";
 * Q_GET_NODE.includes("$uid"); // true
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
 * import { Q_LIST_NODES } from "./cypher.ts";
 * Q_LIST_NODES.includes("ORDER BY n.uid"); // true
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
 * import { qNeighbours } from "./cypher.ts";
 * qNeighbours("out").includes("DEPENDS_ON"); // true
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
 * import { Q_BY_TAGS } from "./cypher.ts";
 * Q_BY_TAGS.includes("TAGGED"); // true
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
 * Strategy versions containing a node. Params: `$uid`.
 *
 * @example
 * ```ts
 * import { Q_STRATEGIES_USING } from "./cypher.ts";
 * Q_STRATEGIES_USING.includes("CONTAINS"); // true
 * ```
 */
export const Q_STRATEGIES_USING: string = `
MATCH (n:ComputeNode {uid: $uid})<-[:CONTAINS]-(v:VersionSentinel)
RETURN v.strategy_id AS strategyId, v.version AS version,
  v.sentinel_id AS sentinelId, v.retired AS retired
ORDER BY v.sentinel_id`;

/**
 * Serialise dependency-edge edits of one namespace (cycle checks need a
 * stable graph). Params: `$lockUid`, `$ns`, `$now`.
 *
 * @example
 * ```ts
 * import { Q_EDGE_LOCK } from "./cypher.ts";
 * Q_EDGE_LOCK.includes("DagLock"); // true
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
 * import { Q_EDGE_CHECK } from "./cypher.ts";
 * Q_EDGE_CHECK.includes("shortestPath"); // true
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
 * import { Q_EDGE_ADD } from "./cypher.ts";
 * Q_EDGE_ADD.includes("MERGE (f)-[:DEPENDS_ON]->(t)"); // true
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
 * import { Q_EDGE_REMOVE } from "./cypher.ts";
 * Q_EDGE_REMOVE.includes("DELETE r"); // true
 * ```
 */
export const Q_EDGE_REMOVE: string = `
MATCH (f:ComputeNode {uid: $fuid})-[r:DEPENDS_ON]->(t:ComputeNode {uid: $tuid})
DELETE r
SET f.updated_at = $now
RETURN count(*) AS removed`;

/**
 * Mark a sentinel retired; returns whether it already was. Params: `$vuid`,
 * `$now`.
 *
 * @example
 * ```ts
 * import { Q_RETIRE } from "./cypher.ts";
 * Q_RETIRE.includes("retired_at"); // true
 * ```
 */
export const Q_RETIRE: string = `
MATCH (v:VersionSentinel {uid: $vuid})
WITH v, v.retired AS was
SET v.retired = true, v.retired_at = coalesce(v.retired_at, $now)
RETURN was`;

/**
 * After retiring: lock every node of the sentinel, then return (and stamp
 * `last_ref_at` on) those left without live references. Params: `$vuid`,
 * `$now`, `$token`.
 *
 * @example
 * ```ts
 * import { Q_RELEASE } from "./cypher.ts";
 * Q_RELEASE.includes("_lock"); // true
 * ```
 */
export const Q_RELEASE: string = `
MATCH (:VersionSentinel {uid: $vuid})-[:CONTAINS]->(n:ComputeNode)
SET n._lock = $token
WITH n
WHERE NOT EXISTS { (n)<-[:CONTAINS]-(o:VersionSentinel) WHERE o.retired = false }
SET n.last_ref_at = $now, n.updated_at = $now
RETURN n.node_id AS id`;

/**
 * A topic. Params: `$uid`.
 *
 * @example
 * ```ts
 * import { Q_GET_TOPIC } from "./cypher.ts";
 * Q_GET_TOPIC.includes("Topic"); // true
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
 * import { Q_LIST_TOPICS } from "./cypher.ts";
 * Q_LIST_TOPICS.includes("ORDER BY t.uid"); // true
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
 * import { Q_LOCK_NODE } from "./cypher.ts";
 * Q_LOCK_NODE.includes("_lock"); // true
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
 * import { Q_CREATE_TOPIC } from "./cypher.ts";
 * Q_CREATE_TOPIC.includes("CREATE (t:Topic"); // true
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
 * import { Q_TOPIC_FOR_DELETE } from "./cypher.ts";
 * Q_TOPIC_FOR_DELETE.includes("refs"); // true
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
 * import { Q_DELETE_TOPIC } from "./cypher.ts";
 * Q_DELETE_TOPIC.includes("DETACH DELETE"); // true
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
 * import { Q_GC_SCAN } from "./cypher.ts";
 * Q_GC_SCAN.includes("last_ref_at"); // true
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
 * it with its topic. Params: `$uids`, `$cutoff`, `$token`.
 *
 * @example
 * ```ts
 * import { Q_GC_DELETE } from "./cypher.ts";
 * Q_GC_DELETE.includes("DETACH DELETE n"); // true
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
WITH n, n.node_id AS id, collect(t) AS topics
WITH n, id, topics, [x IN topics | x.name] AS names
FOREACH (x IN topics | DETACH DELETE x)
DETACH DELETE n
RETURN id, names`;

/**
 * Delete up to `$batch` nodes of a namespace (any label). Params: `$ns`,
 * `$batch`.
 *
 * @example
 * ```ts
 * import { Q_PURGE_BATCH } from "./cypher.ts";
 * Q_PURGE_BATCH.includes("DETACH DELETE"); // true
 * ```
 */
export const Q_PURGE_BATCH: string = `
MATCH (n)
WHERE n.ns = $ns
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted`;
