/**
 * A small first-attempt diff in ONE statement (`Q_DIFF_SMALL`): open
 * the version, look up, lock and link the existing nodes and create the
 * missing ones with their topics, links, edges and tags — one round trip
 * where the general path (`Q_DIFF_OPEN`, then `Q_DIFF_CREATE`)
 * needs two (each ≈ 4–5 ms for a 4-node DAG on the 2-core bench machine).
 *
 * Used only where the general path would not look anything else up
 * between its two statements: a first attempt (later attempts check topic
 * names first), at most {@link SMALL_DIFF_MAX} nodes (the general path
 * names their topics optimistically, `{base}_v1`, on a first attempt) and
 * no two nodes with one topic base (whose names the general path would
 * number in an order that depends on the lookup). The graph written is the
 * general path's: same nodes, properties, topics, links, edges and tags. A
 * node whose topic was deleted still gets one afterwards
 * ({@link Q_ATTACH_TOPICS}, rare).
 *
 * @module
 */

import neo4j, { type ManagedTransaction } from "neo4j-driver";
import type { NodeSpec } from "../../contracts/messages.ts";
import { topicBase } from "../topic_name.ts";
import { Columns } from "./columns.ts";
import { Q_ATTACH_TOPICS } from "./cypher.ts";
import { ConcurrentChange } from "./errors_map.ts";
import { type Row, run } from "./run.ts";

/**
 * Most DAG nodes committed in one statement (the general path's bound for
 * optimistic topic names on a first attempt).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SMALL_DIFF_MAX } from "./diff_small.ts";
 * assert.equal(SMALL_DIFF_MAX, 64);
 * ```
 */
export const SMALL_DIFF_MAX = 64;

/**
 * The topic name of each node for a one-statement diff (`{base}_v1`), or
 * null when the DAG does not qualify: more than `max` nodes (capped at
 * {@link SMALL_DIFF_MAX}) or two nodes with one topic base.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smallDiffNames } from "./diff_small.ts";
 * const n = { nodeId: "sha256:ab12cd34ff", nodeType: "P", metadata: {}, paramsJson: "{}" };
 * assert.equal(smallDiffNames([n])?.get(n.nodeId), "any_P_ab12cd34_v1");
 * assert.equal(smallDiffNames([n, { ...n }]), null); // one base twice
 * assert.equal(smallDiffNames([n], 0), null);
 * ```
 */
export function smallDiffNames(
  nodes: readonly Pick<
    NodeSpec,
    "nodeId" | "nodeType" | "metadata" | "paramsJson"
  >[],
  max: number = SMALL_DIFF_MAX,
): Map<string, string> | null {
  if (nodes.length > Math.min(max, SMALL_DIFF_MAX)) return null;
  const names = new Map<string, string>();
  const bases = new Set<string>();
  for (const n of nodes) {
    const base = topicBase(n);
    if (bases.has(base)) return null;
    bases.add(base);
    names.set(n.nodeId, `${base}_v1`);
  }
  return names;
}

/**
 * The node columns of `Q_DIFF_SMALL`, aligned with the lookup column
 * `ids` (blanks for the external inputs in it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smallDiffColumns } from "./diff_small.ts";
 * const a = { nodeId: "a", nodeType: "S", intervalS: 60, period: 1, inputs: ["x"], tags: ["t"], metadata: {} };
 * const p = smallDiffColumns([a as never], ["a", "x"], new Map([["a", "S_a_v1"]]));
 * assert.equal(p.ea, "0");
 * assert.equal(p.eb, "1");
 * assert.equal(p.tn, "0");
 * ```
 */
export function smallDiffColumns(
  nodes: readonly NodeSpec[],
  ids: readonly string[],
  names: ReadonlyMap<string, string>,
): Record<string, unknown> {
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  const at = new Map(ids.map((id, i) => [id, i]));
  const ea: number[] = [], eb: number[] = [];
  const tn: number[] = [], tg: string[] = [];
  const specs = ids.map((id) => byId.get(id));
  const inputs = specs.map((n) => [...new Set(n?.inputs ?? [])]);
  const tags = specs.map((n) => [...new Set(n?.tags ?? [])]);
  specs.forEach((n, i) => {
    if (!n) return;
    for (const input of inputs[i]) {
      ea.push(i);
      eb.push(at.get(input)!);
    }
    for (const tag of tags[i]) {
      tn.push(i);
      tg.push(tag);
    }
  });
  return new Columns()
    .text("type", specs.map((n) => n?.nodeType ?? ""))
    .int("interval", specs.map((n) => n?.intervalS ?? 0))
    .int("period", specs.map((n) => n?.period ?? 0))
    .text("code", specs.map((n) => n?.codeHash ?? ""))
    .text("compat", specs.map((n) => n?.schemaCompatId ?? ""))
    .text("params", specs.map((n) => n?.paramsJson ?? ""))
    .lists("inputs", inputs)
    .text("name", specs.map((n) => n?.name ?? ""))
    .lists("tags", tags)
    .text("meta", specs.map((n) => n ? JSON.stringify(n.metadata ?? {}) : ""))
    .text("topic", specs.map((n) => n ? names.get(n.nodeId) ?? "" : ""))
    .text("tg", tg)
    .int("ea", ea)
    .int("eb", eb)
    .int("tn", tn)
    .params;
}

/** What the diff wrote for its nodes: topic per node, the nodes created. */
export interface SmallDiffStep {
  /** Topic name per node ID. */
  topics: Map<string, string>;
  /** IDs of the nodes created. */
  created: Set<string>;
}

/**
 * After `Q_DIFF_SMALL` created the missing nodes (`row`): check its
 * counts, attach topics to found nodes that have none, and say what was
 * written. `found` maps each node found to its topic (`""`: none).
 *
 * @example
 * ```ts ignore
 * import { finishSmallDiff } from "./diff_small.ts";
 * const step = await finishSmallDiff(tx, { ns, now, retentionMs }, nodes, found, names, row);
 * ```
 */
export async function finishSmallDiff(
  tx: ManagedTransaction,
  t: { ns: string; now: number; retentionMs: number },
  nodes: readonly NodeSpec[],
  found: ReadonlyMap<string, { topic: string }>,
  names: ReadonlyMap<string, string>,
  row: Row,
): Promise<SmallDiffStep> {
  const step: SmallDiffStep = { topics: new Map(), created: new Set() };
  const attach: string[] = [];
  let edges = 0;
  for (const n of nodes) {
    const f = found.get(n.nodeId);
    if (!f) {
      step.created.add(n.nodeId);
      step.topics.set(n.nodeId, names.get(n.nodeId)!);
      edges += new Set(n.inputs ?? []).size;
    } else if (f.topic) step.topics.set(n.nodeId, f.topic);
    else attach.push(n.nodeId);
  }
  if (Number(row.made) !== step.created.size) {
    throw new ConcurrentChange(
      `created ${row.made}/${step.created.size} nodes`,
    );
  }
  if (Number(row.edges) !== edges) {
    // an input locked by the lookup cannot vanish: re-run
    throw new ConcurrentChange(`created ${row.edges}/${edges} edges`);
  }
  if (attach.length > 0) {
    const [r] = await run(tx, Q_ATTACH_TOPICS, {
      ns: t.ns,
      now: neo4j.int(t.now),
      retention: neo4j.int(t.retentionMs),
      ids: attach,
      topics: attach.map((id) => names.get(id)!),
    });
    if (Number(r?.attached) !== attach.length) {
      throw new ConcurrentChange("a topic was attached concurrently");
    }
    for (const id of attach) step.topics.set(id, names.get(id)!);
  }
  return step;
}
