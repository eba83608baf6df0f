/**
 * The chaos suite's harness: reference servers as child processes, a
 * bounded submit load, and the checks every chaos test makes afterwards —
 * every acknowledged submission COMPLETED exactly once (one `completed`
 * event, events in transition order once each), no 409 for accepted work,
 * the registry consistent with the strategies (nodes, reference counts,
 * topics in the registry and the topic store), no gateway restarted.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import {
  decode,
  type StrategyDag,
  StrategyDagSchema,
  StrategyState,
  SubmitStrategyResponseSchema,
} from "../../lib/contracts/mod.ts";
import { Neo4jRegistry } from "../../lib/dag/mod.ts";
import {
  RedisStrategyStore,
  type StrategyRecord,
  strategyStream,
} from "../../lib/gateway/mod.ts";
import {
  createRedis,
  RedisEventLog,
  RedisTopicStore,
} from "../../lib/queue/mod.ts";
import {
  chain,
  dag,
  node,
  rpcRaw,
  SECRET,
  submitBytes,
} from "../gateway/helpers.ts";
import { namespaceKeys } from "../../lib/gateway/store/namespace.ts";
import { pumpLines, signalChild } from "../support/child.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SERVER = `${ROOT}deploy/server.ts`;
const SLOW_CHILD = `${ROOT}tests/gateway/fixtures/gateway_child.ts`;

export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/** A reference server running as a child process. */
export interface GatewayProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Its process id (never changes: a chaos test restarts no gateway). */
  pid: number;
  /** True while the process runs. */
  running(): boolean;
  /** The last output lines (stdout and stderr). */
  lines: string[];
  /** Wait for an output line matching `re` (after `from`). */
  waitLine(re: RegExp, ms: number): Promise<RegExpMatchArray>;
  /** SIGKILL (a crash). */
  kill(): Promise<void>;
  /** SIGTERM and wait (a clean stop). */
  stop(): Promise<void>;
}

/**
 * Start the reference server (`deploy/server.ts`) — or, with
 * `diffDelayMs`, the test child that delays each diff and prints
 * `DIFF_STARTED <id>` (lease 2 s) — with `env` on top of the test's.
 */
export async function startGateway(
  env: Record<string, string>,
  opts: { diffDelayMs?: number; startMs?: number } = {},
): Promise<GatewayProcess> {
  const slow = opts.diffDelayMs !== undefined;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", slow ? SLOW_CHILD : SERVER],
    env: {
      QMTL_JWT_SECRET: SECRET,
      QMTL_PORT: "0",
      QMTL_LOG_LEVEL: slow ? "warn" : "info",
      ...(slow ? { GW_TEST_DIFF_DELAY_MS: String(opts.diffDelayMs) } : {}),
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const waiters = new Set<() => void>();
  const pump = (stream: ReadableStream<Uint8Array>) =>
    pumpLines(stream, (line) => {
      lines.push(line);
      if (lines.length > 2_000) lines.splice(0, lines.length - 1_000);
    }, () => {
      for (const w of waiters) w();
    });
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let scanned = 0;
  const waitLine = async (re: RegExp, ms: number) => {
    const end = Date.now() + ms;
    while (true) {
      for (; scanned < lines.length; scanned++) {
        const m = re.exec(lines[scanned]);
        if (m) {
          scanned++;
          return m;
        }
      }
      scanned = Math.min(scanned, lines.length);
      if (exited) {
        throw new Error(`gateway exited; output:\n${lines.join("\n")}`);
      }
      if (Date.now() >= end) {
        throw new Error(
          `timed out waiting for ${re}; output:\n${
            lines.slice(-40).join("\n")
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(250, end - Date.now()));
        function done() {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  };
  const kill = async (sig: Deno.Signal) => {
    if (!exited) signalChild(child, sig);
    await status;
    await pumps.catch(() => {});
  };
  try {
    const m = await waitLine(
      slow ? /LISTENING (\S+)/ : /"msg":"listening".*"url":"([^"]+)"/,
      opts.startMs ?? 45_000,
    );
    return {
      url: m[1],
      pid: child.pid,
      running: () => !exited,
      lines,
      waitLine,
      kill: () => kill("SIGKILL"),
      stop: () => kill("SIGTERM"),
    };
  } catch (e) {
    await kill("SIGKILL");
    throw e;
  }
}

/** A fresh namespace for one test (Redis keys and Neo4j namespace). */
export function freshNamespace(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Every strategy of a load shares this source node (reference counts > 1). */
export function sharedSource(salt: string) {
  return node(`src-${salt}`, { type: "StreamInput", params: { salt } });
}

/** The `i`-th DAG of a load: the shared source and a private chain. */
export function loadDag(salt: string, i: number): StrategyDag {
  const src = sharedSource(salt);
  return dag(`load-${salt}-${i}`, [src, ...chain(`${salt}-${i}-`, 2, src)]);
}

/** What a load did. */
export interface LoadResult {
  /** Acknowledged strategy ids (200 answers) → their DAG. */
  acked: Map<string, StrategyDag>;
  /** Answers by HTTP status (and `timeout` / `network`). */
  answers: Record<string, number>;
  /** 409 answers, with their bodies: accepted work must never get one. */
  conflicts: string[];
  /** Answers a duplicate submission got (`duplicate: true`). */
  duplicates: number;
}

/**
 * Submit `dags` round-robin to `urls` with `concurrency` in flight; a
 * 503, a timeout or a network error retries the same DAG (the SDK's
 * rule) up to `retries` times, `retryMs` apart. Bounded in count and
 * by `deadlineMs`.
 */
export async function submitLoad(opts: {
  urls: () => string[];
  dags: StrategyDag[];
  token: string;
  concurrency: number;
  retries?: number;
  retryMs?: number;
  timeoutMs?: number;
  deadlineMs: number;
  /** Also send each DAG to every url at once (identical pairs). */
  pairs?: boolean;
}): Promise<LoadResult> {
  const res: LoadResult = {
    acked: new Map(),
    answers: {},
    conflicts: [],
    duplicates: 0,
  };
  const count = (k: string) => res.answers[k] = (res.answers[k] ?? 0) + 1;
  const end = Date.now() + opts.deadlineMs;
  let next = 0;
  const once = async (url: string, d: StrategyDag): Promise<boolean> => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 10_000);
    try {
      const r = await rpcRaw(
        {
          app: {
            request: (p, i) => fetch(url + p, { ...i, signal: ac.signal }),
          },
        },
        "SubmitStrategy",
        submitBytes({ dag: d, version: "1" }),
        opts.token,
      );
      const body = new Uint8Array(await r.arrayBuffer());
      count(String(r.status));
      if (r.status === 200) {
        const ack = fromBinary(SubmitStrategyResponseSchema, body);
        res.acked.set(ack.strategyId, d);
        if (ack.duplicate) res.duplicates++;
        return true;
      }
      if (r.status === 409) {
        res.conflicts.push(new TextDecoder().decode(body));
        return true;
      }
      return r.status !== 503;
    } catch (e) {
      count(ac.signal.aborted ? "timeout" : "network");
      void e;
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  const worker = async (w: number) => {
    while (Date.now() < end) {
      const i = next++;
      if (i >= opts.dags.length) return;
      const d = opts.dags[i];
      const urls = opts.urls();
      const targets = opts.pairs ? urls : [urls[(i + w) % urls.length]];
      await Promise.all(targets.map(async (url, k) => {
        for (let a = 0; a <= (opts.retries ?? 20) && Date.now() < end; a++) {
          if (await once(opts.urls()[(k + a) % opts.urls().length] ?? url, d)) {
            return;
          }
          await sleep(opts.retryMs ?? 300);
        }
      }));
    }
  };
  await Promise.all(
    Array.from({ length: opts.concurrency }, (_, w) => worker(w)),
  );
  return res;
}

/** Handles on a namespace's state, for the checks. */
export interface Inspect {
  store: RedisStrategyStore;
  events: RedisEventLog;
  topics: RedisTopicStore;
  close(): Promise<void>;
}

/** Every strategy record of `store`, read page by page. */
async function allRecords(
  store: RedisStrategyStore,
): Promise<StrategyRecord[]> {
  const all: StrategyRecord[] = [];
  let token = "";
  do {
    const page = await store.list({ pageSize: 1000, pageToken: token });
    const recs = await inBatches(
      page.strategies,
      (s) => store.get(s.strategyId),
    );
    for (const r of recs) if (r) all.push(r);
    token = page.nextPageToken;
  } while (token);
  return all;
}

/** Open the namespace's store, event log and topic store. */
export function inspect(redisUrl: string, namespace: string): Inspect {
  const redis = createRedis(redisUrl, {
    connectionName: "chaos-check",
    extra: { failoverDetector: false }, // see deploy/server.ts
  });
  const keys = namespaceKeys(namespace);
  const store = new RedisStrategyStore({ redis, prefix: keys.storePrefix });
  const events = new RedisEventLog({ redis, keyPrefix: keys.eventPrefix });
  const topics = new RedisTopicStore({ redis, keyPrefix: keys.topicPrefix });
  return {
    store,
    events,
    topics,
    async close() {
      await events.close();
      await topics.close();
      await store.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Wait until no strategy of the namespace is QUEUED or PROCESSING, then
 * until no record keeps a pending event. An event whose publication a
 * failover interrupted stays pending until its publisher's claim lapses and
 * the recovery sweep (every 30 s by default) publishes it, so that second
 * wait gets `pendingTimeoutMs` of its own.
 */
export async function settle(
  i: Inspect,
  timeoutMs: number,
  pendingTimeoutMs = 75_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let left: string[] = [];
  while (Date.now() < end) {
    left = await i.store.idsInStates([
      StrategyState.QUEUED,
      StrategyState.PROCESSING,
    ]).catch(() => ["?"]);
    if (left.length === 0) break;
    await sleep(250);
  }
  if (left.length > 0) {
    throw new Error(
      `${left.length} strategies still unsettled: ${left.slice(0, 5)}`,
    );
  }
  const pendingEnd = Date.now() + pendingTimeoutMs;
  let pending: string[] = [];
  while (Date.now() < pendingEnd) {
    pending = (await allRecords(i.store))
      .filter((r) => r.pendingEvents?.length)
      .map((r) => r.status.strategyId);
    if (pending.length === 0) return;
    await sleep(500);
  }
  throw new Error(
    `${pending.length} strategies keep pending events: ${pending.slice(0, 5)}`,
  );
}

/**
 * The checks of every chaos test (after {@link settle}): no 409; every
 * acknowledged strategy COMPLETED, its event stream `e1…en` in order once
 * each, queued first and completed exactly once and last (and no pending
 * event left); the registry's nodes, reference counts and topics match the
 * COMPLETED strategies; the topics exist in the topic store.
 */
export async function checkAll(opts: {
  load: LoadResult;
  inspect: Inspect;
  neo4jUrl: string;
  namespace: string;
}): Promise<{ completed: number }> {
  const { load, inspect: i } = opts;
  assert.deepEqual(load.conflicts, [], "409 for accepted work");
  assert.ok(load.acked.size > 0, "something was acknowledged");
  const all = await allRecords(i.store);
  const byId = new Map(all.map((r) => [r.status.strategyId, r]));
  for (const id of load.acked.keys()) {
    const r = byId.get(id);
    assert.ok(r, `acknowledged ${id} is in the store`);
    assert.equal(
      StrategyState[r.status.state],
      "COMPLETED",
      `${id}: ${JSON.stringify(r.status.error ?? {})}`,
    );
  }
  const completed = all.filter((r) =>
    r.status.state === StrategyState.COMPLETED
  );
  assert.equal(
    all.length,
    completed.length,
    `every strategy settled COMPLETED (${
      all.filter((r) => r.status.state !== StrategyState.COMPLETED)
        .map((r) =>
          `${r.status.strategyId}=${StrategyState[r.status.state]} ${
            JSON.stringify(r.status.error ?? {})
          }`
        ).slice(0, 3)
    })`,
  );
  // Events: e1…en once each, in order; one completed, last.
  await inBatches(completed, async (r) => {
    const id = r.status.strategyId;
    assert.equal(r.pendingEvents, undefined, `${id} has pending events`);
    const evs = await i.events.read(strategyStream(id), { count: 1000 });
    const ids = evs.map((e) => e.event.id);
    const want = Array.from(
      { length: r.eventSeq ?? 0 },
      (_, k) => `${id}-e${k + 1}`,
    );
    assert.deepEqual(
      ids,
      want,
      `${id}: events in order, once each: ${
        evs.map((e) => `${e.id} ${e.event.id} ${e.event.type}`).join(", ")
      }`,
    );
    const types = evs.map((e) => e.event.type);
    assert.equal(types[0], "qmtl.strategy.queued");
    assert.equal(types.at(-1), "qmtl.strategy.completed");
    assert.equal(
      types.filter((t) => t === "qmtl.strategy.completed").length,
      1,
      `${id}: COMPLETED exactly once`,
    );
  });
  // Registry: nodes, reference counts, topics.
  const refs = new Map<string, number>();
  const topicOf = new Map<string, string>();
  const dags = await inBatches(
    completed,
    async (r) =>
      [
        r,
        decode(StrategyDagSchema, (await i.store.getDag(r.status.strategyId))!),
      ] as const,
  );
  for (const [r, d] of dags) {
    for (const n of d.nodes) {
      refs.set(n.nodeId, (refs.get(n.nodeId) ?? 0) + 1);
      const t = r.status.queueMap[n.nodeId];
      assert.ok(t, `${r.status.strategyId}: queue map names ${n.nodeId}`);
      const prev = topicOf.get(n.nodeId);
      assert.ok(prev === undefined || prev === t, "one topic per node");
      topicOf.set(n.nodeId, t);
    }
  }
  const reg = await Neo4jRegistry.connect({
    url: opts.neo4jUrl,
    namespace: opts.namespace,
    migrate: "check",
    warn: () => {},
  });
  try {
    const nodes = new Map<string, { refCount: number; topic: string }>();
    let pageToken = "";
    do {
      const page = await reg.listNodes({ pageSize: 1000, pageToken });
      for (const n of page.nodes) nodes.set(n.node!.nodeId, n);
      pageToken = page.nextPageToken;
    } while (pageToken);
    const regTopics = new Set<string>();
    do {
      const page = await reg.listTopics({ pageSize: 1000, pageToken });
      for (const t of page.topics) regTopics.add(t.name);
      pageToken = page.nextPageToken;
    } while (pageToken);
    const storeTopics = new Set(await i.topics.list());
    for (const [nodeId, n] of refs) {
      const rec = nodes.get(nodeId);
      assert.ok(rec, `node ${nodeId} in the registry`);
      assert.equal(rec.refCount, n, `ref count of ${nodeId}`);
      const t = topicOf.get(nodeId)!;
      assert.equal(rec.topic, t, `topic of ${nodeId}`);
      assert.ok(regTopics.has(t), `topic ${t} in the registry`);
      assert.ok(storeTopics.has(t), `topic ${t} in the topic store`);
    }
    assert.equal(nodes.size, refs.size, "no stray nodes");
  } finally {
    await reg.close();
  }
  return { completed: completed.length };
}

/** `fn` over `items`, 16 at a time; results in order. */
async function inBatches<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let k = 0; k < items.length; k += 16) {
    out.push(...await Promise.all(items.slice(k, k + 16).map(fn)));
  }
  return out;
}

/** On failure, print the gateways' last warnings and errors (then rethrow). */
export function dumpLogs(gateways: (GatewayProcess | undefined)[]): void {
  for (const g of gateways) {
    if (!g) continue;
    const tail = g.lines.filter((l) => /"level":"(warn|error)"/.test(l))
      .slice(-30);
    console.error(
      `--- gateway ${g.pid} (last warnings) ---\n${tail.join("\n")}`,
    );
  }
}

/** Every gateway still runs, under the pid it started with. */
export function assertNoneRestarted(gateways: GatewayProcess[]): void {
  for (const g of gateways) {
    assert.ok(g.running(), `gateway ${g.pid} is still running`);
  }
}

/** GET a JSON endpoint. */
export async function getJson(
  url: string,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: r.status, body: await r.json() };
}

/** GET /metrics. */
export async function metrics(url: string, token: string): Promise<string> {
  const r = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return await r.text();
}

export { chain, dag };
