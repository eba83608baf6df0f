/**
 * `Neo4jRegistry.diffAndCommit`: diff a DAG against the registry and commit
 * it, in one transaction when it fits the transaction budget, in chunks
 * otherwise.
 *
 * **One transaction** (the common case), at most three statements whatever
 * the DAG size — one when every node is reused, and one for a first attempt
 * at a DAG of up to 64 nodes ({@link Q_DIFF_SMALL}, `diff_small.ts`: the
 * statements below in one round trip):
 * 1. {@link Q_DIFF_OPEN}: strategy + sentinel, then look up, lock and link
 *    the nodes that exist;
 * 2. {@link Q_ATTACH_TOPICS}, only when an existing node has lost its topic;
 * 3. {@link Q_DIFF_CREATE}: every missing node with its topic, link, tags and
 *    input edges.
 * Columns are sent compactly (`columns.ts`), nodes are `CREATE`d (a
 * concurrent creator makes the attempt fail on the uniqueness constraint and
 * re-run), and reused nodes are not written to (the link locks them).
 *
 * **Chunked** (a DAG above the budget, e.g. the 50,000 nodes the policy
 * admits): the sentinel is opened `pending` in its own transaction, the
 * nodes are committed in dependency-ordered chunks — each chunk links its
 * existing nodes (`MERGE`, so a re-run is idempotent) and creates its
 * missing ones together with their topics, tags and input edges, so no node
 * ever exists without its edges and no edge points at a missing node — and a
 * last transaction drops the `pending` mark once the sentinel links exactly
 * the DAG's nodes. Crash safety:
 * - a pending sentinel is never reported as a committed version: a re-run of
 *   `diffAndCommit` for it resumes the chunks (nodes already there are found
 *   and linked, the rest created) and returns only after the close, so the
 *   Gateway never marks the strategy COMPLETED on partial state; the
 *   `created` list of the result still names the nodes an earlier, crashed
 *   attempt created (their links say so);
 * - while pending, the sentinel counts as a live reference, so the GC never
 *   takes a node a half-committed diff links;
 * - a permanent failure in a later chunk (an input that vanished, a store
 *   rejection) aborts: the links are removed in batches (nodes left without
 *   references are stamped for the GC, as a retire does) and the sentinel is
 *   deleted, so a later retry starts afresh; a transient failure leaves the
 *   pending state for the re-run to resume.
 * Chunks are separate transactions, so a large diff holds locks and
 * transaction memory for one chunk at a time and other strategies' diffs
 * interleave with it.
 *
 * @module
 */

import neo4j, { type ManagedTransaction } from "neo4j-driver";
import { create } from "@bufbuild/protobuf";
import {
  type DiffResult,
  DiffResultSchema,
  type NodeSpec,
  type StrategyDag,
} from "../../contracts/messages.ts";
import {
  ConflictError,
  RegistryError,
  UnavailableError,
  UnknownInputError,
} from "../errors.ts";
import { type DiffContext, sentinelIdOf } from "../registry.ts";
import { firstFreeTopicName, topicBase } from "../topic_name.ts";
import { defaultDagHash, validateDag } from "../validate.ts";
import { Columns } from "./columns.ts";
import * as Q from "./cypher.ts";
import { planDiff, type TransactionBudget } from "./diff_plan.ts";
import {
  finishSmallDiff,
  smallDiffColumns,
  smallDiffNames,
} from "./diff_small.ts";
import { ConcurrentChange } from "./errors_map.ts";
import { type Row, run } from "./run.ts";

/**
 * Batches of at most this many nodes name their topics optimistically on a
 * first attempt (see `topicNames`).
 */
const OPTIMISTIC_NAMES = 64;

/** Links removed per transaction when a chunked commit is aborted. */
const ABORT_BATCH = 5_000;

/**
 * What {@link commitDiff} needs from the registry.
 *
 * @example
 * ```ts
 * import type { DiffTarget } from "./diff.ts";
 * function describe(t: DiffTarget): string {
 *   return `${t.ns}: ${t.budget.maxNodes} nodes per transaction`;
 * }
 * ```
 */
export interface DiffTarget {
  /** Registry namespace. */
  ns: string;
  /** Most nodes / bytes per transaction. */
  budget: TransactionBudget;
  /** Retention of the topics created, ms. */
  retentionMs: number;
  /**
   * Most nodes a first attempt commits in one statement (`diff_small.ts`;
   * default and upper bound 64, 0: never, always the general path).
   */
  smallDiffMax?: number;
  /**
   * Run `work` in a write transaction, re-running it (with `attempt` + 1)
   * after a concurrent-transaction race; map failures to registry errors.
   */
  write<T>(
    work: (tx: ManagedTransaction, attempt: number) => Promise<T>,
  ): Promise<T>;
}

interface Found {
  topic: string;
  /** Linked to this sentinel as created by an earlier attempt. */
  mine: boolean;
}

interface Step {
  topics: Map<string, string>;
  created: Set<string>;
}

const byNodeId = (a: NodeSpec, b: NodeSpec) =>
  a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;

/** The lookup column: DAG nodes (linked) and external inputs (stamped). */
function lookup(nodes: readonly NodeSpec[], externals: Iterable<string>) {
  const inDag = new Set(nodes.map((n) => n.nodeId));
  // one namespace prefix for all: sorting IDs sorts the uids
  const ids = [...new Set([...inDag, ...externals])].sort();
  return {
    ids,
    params: {
      ...new Columns().text("lid", ids).params,
      llink: ids.map((id) => inDag.has(id) ? "1" : "0").join(""),
    },
  };
}

function foundOf(ids: readonly string[], row: Row): Map<string, Found> {
  const idx = (row.found ?? []) as number[];
  const topics = (row.topics ?? []) as string[];
  const mine = (row.mine ?? []) as boolean[];
  const out = new Map<string, Found>();
  for (let k = 0; k < idx.length; k++) {
    out.set(ids[Number(idx[k])], {
      topic: String(topics[k] ?? ""),
      mine: mine[k] === true,
    });
  }
  return out;
}

function checkExternals(
  externals: ReadonlyMap<string, string>,
  found: ReadonlyMap<string, Found>,
): void {
  for (const [input, consumer] of externals) {
    if (!found.has(input)) throw new UnknownInputError(consumer, input);
  }
}

/**
 * Topic names for nodes that need one: `{base}_v1` unless taken (by an
 * orphan topic, a node whose short hash clashes, or another node of the
 * batch), then the first free `_v{n}`. A batch of more than
 * {@link OPTIMISTIC_NAMES} nodes, or any batch on a re-run, first checks
 * its candidate names in one exact-name lookup ({@link Q_TOPICS_TAKEN}) and
 * lists only the bases found taken by prefix ({@link Q_TAKEN_TOPICS}); a
 * small first attempt skips that round trip. A name taken regardless (or
 * concurrently after the check) fails the topic uniqueness constraint and
 * the attempt re-runs. (With 8-hex-digit short hashes, a 10,000-node DAG
 * meets a clash in about one namespace in twenty once 20,000 nodes exist:
 * without the check, that attempt would do all its work and roll back.)
 */
async function topicNames(
  tx: ManagedTransaction,
  attempt: number,
  ns: string,
  nodes: readonly NodeSpec[],
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (nodes.length === 0) return names;
  const bases = nodes.map((n) => topicBase(n));
  const [r] = attempt === 1 && nodes.length <= OPTIMISTIC_NAMES
    ? []
    : await run(tx, Q.Q_TOPICS_TAKEN, {
      ...new Columns().text("cand", bases.map((b) => `${b}_v1`)).params,
      ns,
    });
  const taken = new Set<string>();
  const clashed = [
    ...new Set((r?.taken as number[] ?? []).map((k) => bases[Number(k)])),
  ];
  if (clashed.length > 0) {
    for (
      const t of await run(tx, Q.Q_TAKEN_TOPICS, {
        prefixes: clashed.map((b) => `${ns}:${b}_v`),
      })
    ) taken.add(String(t.name));
  }
  nodes.forEach((n, k) => {
    const name = firstFreeTopicName(bases[k], taken);
    taken.add(name);
    names.set(n.nodeId, name);
  });
  return names;
}

/**
 * After a lookup: attach topics to found nodes without one and create the
 * nodes not found, with their topics, links, tags and input edges.
 */
async function createMissing(
  tx: ManagedTransaction,
  attempt: number,
  t: DiffTarget,
  vuid: string,
  now: number,
  nodes: readonly NodeSpec[],
  found: ReadonlyMap<string, Found>,
): Promise<Step> {
  const step: Step = { topics: new Map(), created: new Set() };
  const missing: NodeSpec[] = [];
  const attach: NodeSpec[] = [];
  for (const n of nodes) {
    const f = found.get(n.nodeId);
    if (!f) missing.push(n);
    else {
      if (f.topic) step.topics.set(n.nodeId, f.topic);
      else attach.push(n);
      if (f.mine) step.created.add(n.nodeId);
    }
  }
  missing.sort(byNodeId); // creation (and so lock) order
  const names = await topicNames(tx, attempt, t.ns, [...attach, ...missing]);
  const retention = neo4j.int(t.retentionMs);
  if (attach.length > 0) {
    const ids = attach.map((n) => n.nodeId);
    const [r] = await run(tx, Q.Q_ATTACH_TOPICS, {
      ns: t.ns,
      now: neo4j.int(now),
      retention,
      ids,
      topics: ids.map((id) => names.get(id)!),
    });
    if (Number(r?.attached) !== attach.length) {
      throw new ConcurrentChange("a topic was attached concurrently");
    }
    for (const id of ids) step.topics.set(id, names.get(id)!);
  }
  if (missing.length === 0) return step;
  const at = new Map(missing.map((n, i) => [n.nodeId, i]));
  const ia: number[] = [], ib: number[] = [];
  const xa: string[] = [], xb: string[] = [];
  const tagIndex = new Map<string, number>();
  const tagNode: number[] = [], tagIdx: number[] = [];
  const tags: string[][] = [];
  const inputs: string[][] = [];
  missing.forEach((n, a) => {
    const ins = [...new Set(n.inputs ?? [])];
    inputs.push(ins);
    for (const input of ins) {
      const b = at.get(input);
      if (b !== undefined) {
        ia.push(a);
        ib.push(b);
      } else {
        xa.push(n.nodeId);
        xb.push(input);
      }
    }
    const ts = [...new Set(n.tags ?? [])];
    tags.push(ts);
    for (const tag of ts) {
      let k = tagIndex.get(tag);
      if (k === undefined) tagIndex.set(tag, k = tagIndex.size);
      tagNode.push(a);
      tagIdx.push(k);
    }
  });
  const c = new Columns()
    .text("id", missing.map((n) => n.nodeId))
    .text("type", missing.map((n) => n.nodeType))
    .int("interval", missing.map((n) => n.intervalS))
    .int("period", missing.map((n) => n.period))
    .text("code", missing.map((n) => n.codeHash ?? ""))
    .text("compat", missing.map((n) => n.schemaCompatId ?? ""))
    .text("params", missing.map((n) => n.paramsJson ?? ""))
    .lists("inputs", inputs)
    .text("name", missing.map((n) => n.name ?? ""))
    .lists("tags", tags)
    .text("meta", missing.map((n) => JSON.stringify(n.metadata ?? {})))
    .text("topic", missing.map((n) => names.get(n.nodeId)!))
    .text("tagName", [...tagIndex.keys()])
    .int("tagNode", tagNode)
    .int("tagIdx", tagIdx)
    .int("ia", ia)
    .int("ib", ib);
  const [r] = await run(tx, Q.Q_DIFF_CREATE, {
    ...c.params,
    vuid,
    ns: t.ns,
    now: neo4j.int(now),
    retention,
  });
  if (Number(r?.made) !== missing.length) {
    throw new ConcurrentChange(`created ${r?.made}/${missing.length} nodes`);
  }
  if (xa.length > 0) {
    const [e] = await run(tx, Q.Q_DIFF_EDGES, {
      ...new Columns().text("xa", xa).text("xb", xb).params,
      ns: t.ns,
    });
    if (Number(e?.external) !== xa.length) {
      // an input locked by the lookup cannot vanish; one of an earlier
      // chunk whose sentinel was retired and collected meanwhile can:
      // re-run, which then reports it
      throw new ConcurrentChange(
        `created ${e?.external}/${xa.length} edges to existing nodes`,
      );
    }
  }
  for (const n of missing) {
    step.topics.set(n.nodeId, names.get(n.nodeId)!);
    step.created.add(n.nodeId);
  }
  return step;
}

/**
 * Diff `dag` against the registry of `t` and commit it (see the module
 * documentation).
 *
 * @example
 * ```ts ignore
 * import { commitDiff } from "./diff.ts";
 * const result = await commitDiff(target, dag, { strategyId: "st_1", version: "1", owner: "alice" });
 * ```
 */
export async function commitDiff(
  t: DiffTarget,
  dag: StrategyDag,
  ctx: DiffContext,
): Promise<DiffResult> {
  const v = validateDag(dag);
  const dagHash = ctx.dagHash ?? defaultDagHash(dag);
  const sentinelId = sentinelIdOf(ctx.strategyId, ctx.version);
  const vuid = `${t.ns}:${sentinelId}`;
  const clock = () => ctx.now ?? Date.now();
  const order = v.nodes.map((n) => n.nodeId);
  const result = (step: Step): DiffResult => {
    const queueMap: Record<string, string> = {};
    for (const id of order) queueMap[id] = step.topics.get(id) ?? "";
    return create(DiffResultSchema, {
      strategyId: ctx.strategyId,
      version: ctx.version,
      queueMap,
      reused: order.filter((id) => !step.created.has(id)),
      created: order.filter((id) => step.created.has(id)),
      sentinelId,
    });
  };
  const conflict = (row: Row): ConflictError | null => {
    if (row.retired === true) {
      return new ConflictError(`strategy version ${sentinelId} is retired`);
    }
    if (row.hash !== dagHash) {
      return new ConflictError(
        `strategy version ${sentinelId} was committed with another DAG`,
      );
    }
    return null;
  };
  const stored = async (tx: ManagedTransaction): Promise<DiffResult> => {
    const [row] = await run(tx, Q.Q_CONTENTS, { vuid });
    const step: Step = { topics: new Map(), created: new Set() };
    type Content = [string, boolean, string];
    for (const [id, created, topic] of (row?.contents ?? []) as Content[]) {
      step.topics.set(String(id), String(topic ?? ""));
      if (created === true) step.created.add(String(id));
    }
    return result(step);
  };
  const openParams = (pending: boolean, now: number, params: Row): Row => ({
    suid: `${t.ns}:${ctx.strategyId}`,
    vuid,
    ns: t.ns,
    strategyId: ctx.strategyId,
    owner: ctx.owner,
    sentinelId,
    version: ctx.version,
    dagHash,
    now: neo4j.int(now),
    token: crypto.randomUUID(),
    pending,
    resumable: pending,
    ...params,
  });
  const open =
    (pending: boolean, ids: string[], params: Row) =>
    async (tx: ManagedTransaction) => {
      const [row] = await run(
        tx,
        Q.Q_DIFF_OPEN,
        openParams(pending, clock(), params),
      );
      return { row, found: foundOf(ids, row) };
    };

  const plan = planDiff(v, t.budget);
  // a small first attempt: one statement (see diff_small.ts)
  const small = plan.chunks.length === 1
    ? smallDiffNames(v.nodes, t.smallDiffMax)
    : null;
  if (plan.chunks.length === 1) {
    const single = await t.write(async (tx, attempt) => {
      const { ids, params } = lookup(v.nodes, v.externalInputs.keys());
      let row: Row, found: Map<string, Found>;
      const now = clock();
      if (attempt === 1 && small) {
        [row] = await run(tx, Q.Q_DIFF_SMALL, {
          ...openParams(false, now, params),
          ...smallDiffColumns(v.nodes, ids, small),
          retention: neo4j.int(t.retentionMs),
        });
        found = foundOf(ids, row);
      } else ({ row, found } = await open(false, ids, params)(tx));
      if (row.born !== true) {
        const err = conflict(row);
        if (err) throw err;
        // pending: a chunked commit of this version (under another budget)
        // is unfinished; resume it chunked
        return row.pending === true ? null : await stored(tx);
      }
      checkExternals(v.externalInputs, found);
      if (attempt === 1 && small) {
        return result(
          await finishSmallDiff(
            tx,
            { ns: t.ns, now, retentionMs: t.retentionMs },
            v.nodes,
            found,
            small,
            row,
          ),
        );
      }
      return result(
        await createMissing(tx, attempt, t, vuid, clock(), v.nodes, found),
      );
    });
    if (single) return single;
  }
  // above the budget, or resuming an unfinished chunked commit (then a DAG
  // that fits is one chunk)
  return await commitChunked(t, v, plan.chunks, {
    vuid,
    sentinelId,
    dagHash,
    clock,
    open,
    conflict,
    stored,
    result,
  });
}

async function commitChunked(
  t: DiffTarget,
  v: ReturnType<typeof validateDag>,
  chunks: NodeSpec[][],
  k: {
    vuid: string;
    sentinelId: string;
    dagHash: string;
    clock: () => number;
    open: (
      pending: boolean,
      ids: string[],
      params: Row,
    ) => (
      tx: ManagedTransaction,
    ) => Promise<{ row: Row; found: Map<string, Found> }>;
    conflict: (row: Row) => ConflictError | null;
    stored: (tx: ManagedTransaction) => Promise<DiffResult>;
    result: (step: Step) => DiffResult;
  },
): Promise<DiffResult> {
  const done = await t.write(async (tx) => {
    const { ids, params } = lookup([], v.externalInputs.keys());
    const { row, found } = await k.open(true, ids, params)(tx);
    if (row.born !== true) {
      const err = k.conflict(row);
      if (err) throw err;
      if (row.pending !== true) return await k.stored(tx);
    }
    // every external input exists before anything is written (a throw
    // here rolls the new sentinel back)
    checkExternals(v.externalInputs, found);
    return null;
  });
  if (done) return done;
  const inDag = new Set(v.nodes.map((n) => n.nodeId));
  const all: Step = { topics: new Map(), created: new Set() };
  try {
    for (const chunk of chunks) {
      const externals = new Map<string, string>();
      for (const n of chunk) {
        for (const input of n.inputs ?? []) {
          if (!inDag.has(input)) externals.set(input, n.nodeId);
        }
      }
      const step = await t.write(async (tx, attempt) => {
        const now = k.clock();
        const { ids, params } = lookup(chunk, externals.keys());
        const rows = await run(tx, Q.Q_CHUNK_LINK, {
          ...params,
          vuid: k.vuid,
          dagHash: k.dagHash,
          ns: t.ns,
          now: neo4j.int(now),
        });
        if (rows.length === 0) {
          throw new ConflictError(
            `strategy version ${k.sentinelId} was retired or replaced while it was being committed`,
          );
        }
        const found = foundOf(ids, rows[0]);
        checkExternals(externals, found);
        return await createMissing(tx, attempt, t, k.vuid, now, chunk, found);
      });
      for (const [id, topic] of step.topics) all.topics.set(id, topic);
      for (const id of step.created) all.created.add(id);
    }
    const [c] = await t.write((tx) =>
      run(tx, Q.Q_CHUNK_CLOSE, {
        vuid: k.vuid,
        dagHash: k.dagHash,
        count: neo4j.int(v.nodes.length),
      })
    );
    if (!c) {
      throw new ConflictError(
        `strategy version ${k.sentinelId} was removed while it was being committed`,
      );
    }
    const err = k.conflict({
      retired: c.retired,
      hash: c.same ? k.dagHash : "",
    });
    if (err) throw err;
    if (c.complete !== true) {
      throw new UnavailableError(
        `strategy version ${k.sentinelId} links ${c.links} of ${v.nodes.length} nodes after its last chunk; retry to resume it`,
      );
    }
  } catch (e) {
    if (
      e instanceof RegistryError && !e.retryable &&
      !(e instanceof ConflictError)
    ) await abort(t, k.vuid, k.clock).catch(() => {});
    throw e;
  }
  return k.result(all);
}

/** Undo an unfinished chunked commit (see the module documentation). */
async function abort(
  t: DiffTarget,
  vuid: string,
  clock: () => number,
): Promise<void> {
  const token = crypto.randomUUID();
  for (let i = 0; i < 100_000; i++) {
    const [r] = await t.write((tx) =>
      run(tx, Q.Q_CHUNK_ABORT, {
        vuid,
        batch: neo4j.int(ABORT_BATCH),
        now: neo4j.int(clock()),
        token,
      })
    );
    if (Number(r?.removed ?? 0) === 0) break;
  }
  await t.write((tx) => run(tx, Q.Q_CHUNK_DROP, { vuid }));
}
