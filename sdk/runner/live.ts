/**
 * Live runs: each node of the strategies is either produced here — this
 * process holds the node's producer lease, computes it and publishes its
 * topic — or consumed from its topic, computed by whoever holds the lease.
 *
 * - **One producer per node.** Leases are renewed every `renewMs`; a
 *   producer that stops renewing loses the lease after `leaseMs`, and a
 *   standby (another run with the same node) takes it on its next renewal
 *   round: within `leaseMs + renewMs` of the producer's last renewal.
 * - **No bar twice, none skipped.** A new producer first reads the topic up
 *   to its last published bar, then computes every later bar its inputs hold
 *   (`Engine.setComputing`); the topic refuses a bar at or before its last
 *   one, and an append with a stale lease token is fenced, so a stalled old
 *   producer cannot publish after a takeover.
 * - **Restart.** A restarted run warms every node from the tails of the
 *   topics and resumes after the last published bar.
 *
 * @module
 */

import { pause } from "../../lib/queue/pause.ts";
import type { Strategy } from "../builder.ts";
import { TAG_QUERY_NODE_TYPE } from "../contracts.ts";
import { ComputeError, Engine, type NodeStats } from "./engine.ts";
import {
  type PlannedNode,
  planRun,
  type Runnable,
  type RunPlan,
} from "./plan.ts";
import type { Bar } from "./records.ts";
import { LeaseLostError, type LeaseOutcome, type TopicIO } from "./topic_io.ts";

/**
 * A node a tag query matched, as the resolver reports it.
 *
 * @example
 * ```ts
 * import type { TagMatch } from "@qmtl/qmtl/sdk";
 * const m: TagMatch = { nodeId: "sha256:…", topic: "btc_StreamInput_ab12cd34_v1", intervalS: 60, inputs: [] };
 * ```
 */
export interface TagMatch {
  /** Node ID. */
  nodeId: string;
  /** Its topic. */
  topic: string;
  /** Its interval. */
  intervalS: number;
  /** Its input node IDs (a node reading the query itself is not matched). */
  inputs: readonly string[];
}

/**
 * What a live run needs from the Gateway: submit, wait, tag queries and
 * topic I/O. `QmtlClient` provides it.
 *
 * @example
 * ```ts
 * import type { LiveClient } from "@qmtl/qmtl/sdk";
 * const usesGateway = (c: LiveClient) => typeof c.topicIO === "function";
 * ```
 */
export interface LiveClient {
  /** Submit a strategy DAG (idempotent); returns its id. */
  submit(
    dag: Strategy["dag"],
    options?: { version?: string },
  ): Promise<{ strategyId: string }>;
  /** Wait until the strategy is COMPLETED; returns its queue map. */
  waitFor(
    strategyId: string,
    state: "COMPLETED",
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<{ queueMap: Record<string, string> }>;
  /** Nodes matching tags (`any`/`all`), of one interval. */
  tagMatches(
    tags: readonly string[],
    matchMode: "any" | "all",
    intervalS: number,
  ): Promise<TagMatch[]>;
  /** The topic of a node of the global DAG. */
  topicOf(nodeId: string): Promise<string>;
  /** Topic and lease operations through the Gateway. */
  topicIO(): TopicIO;
}

/**
 * Something that happened in a live run.
 *
 * @example
 * ```ts
 * import type { LiveEvent } from "@qmtl/qmtl/sdk";
 * const log = (e: LiveEvent) => console.log(e.type, e.node ?? "");
 * ```
 */
export interface LiveEvent {
  /** What happened. */
  type:
    | "lease_acquired"
    | "lease_lost"
    | "tag_query_changed"
    | "compute_error"
    | "io_error";
  /** Node name, when about one node. */
  node?: string;
  /** Node ID. */
  nodeId?: string;
  /** Topic. */
  topic?: string;
  /** On `lease_acquired`: the grant replaced a dead producer's. */
  takeover?: boolean;
  /** The other holder (previous on a takeover, new on a loss). */
  holder?: string;
  /** The topic's last bar when the lease was acquired. */
  lastBarTs?: number | null;
  /** On `tag_query_changed`: the matched node IDs. */
  matches?: string[];
  /** On errors: the error. */
  error?: unknown;
}

/**
 * Options of {@link live}.
 *
 * @example
 * ```ts
 * import type { LiveOptions } from "@qmtl/qmtl/sdk";
 * const o: LiveOptions = { leaseMs: 5_000, holder: "worker-1" };
 * ```
 */
export interface LiveOptions {
  /** The Gateway client: submits the strategies and carries topic I/O. */
  client?: LiveClient;
  /** Topic I/O to use instead of the client's (e.g. `storeTopicIO`). */
  io?: TopicIO;
  /** Node ID → topic, when the strategies are not submitted through `client`. */
  queueMap?: Readonly<Record<string, string>>;
  /** Stops the run when aborted. */
  signal?: AbortSignal;
  /** This run's name in leases; default host, pid and a random suffix. */
  holder?: string;
  /** Producer lease length, ms; default 10000. */
  leaseMs?: number;
  /** Lease renewal (and standby takeover) interval, ms; default `leaseMs / 5`. */
  renewMs?: number;
  /** Long-poll wait of a topic read, ms; default 5000. */
  waitMs?: number;
  /** How often tag queries are re-resolved, ms; default 5000. */
  tagRefreshMs?: number;
  /** Strategy version sent on submit; default "1". */
  version?: string;
  /** Called for every output of every node (computed here or read). */
  onOutput?: (output: LiveOutput) => void;
  /** Called for lease changes, tag-query changes and errors. */
  onEvent?: (event: LiveEvent) => void;
}

/**
 * One output seen by a live run.
 *
 * @example
 * ```ts
 * import type { LiveOutput } from "@qmtl/qmtl/sdk";
 * const line = (o: LiveOutput) => `${o.name}@${o.barTs}=${o.value}${o.computed ? " (here)" : ""}`;
 * ```
 */
export interface LiveOutput {
  /** Node ID. */
  nodeId: string;
  /** Node name. */
  name: string;
  /** Bar time. */
  barTs: number;
  /** The value. */
  value: unknown;
  /** True when this run computed it. */
  computed: boolean;
}

/** A node's role in a live run. */
export type LiveRole = "input" | "producer" | "standby" | "consumer";

/**
 * Counters of one node in a live run.
 *
 * @example
 * ```ts
 * import type { LiveNodeStats } from "@qmtl/qmtl/sdk";
 * const here = (s: LiveNodeStats) => s.role === "producer" ? s.evaluations : 0;
 * ```
 */
export interface LiveNodeStats extends NodeStats {
  /** Node ID. */
  nodeId: string;
  /** Node name. */
  name: string;
  /** Topic. */
  topic: string;
  /** Current role. */
  role: LiveRole;
  /** Bars this run published to the topic. */
  published: number;
  /** Leases acquired over the run (a takeover counts too). */
  leasesAcquired: number;
  /** Of those, takeovers of a dead producer's lease. */
  takeovers: number;
  /** Leases lost. */
  leasesLost: number;
}

/**
 * A running live run.
 *
 * @example
 * ```ts
 * import type { LiveRun } from "@qmtl/qmtl/sdk";
 * async function runFor(run: LiveRun, ms: number) {
 *   await new Promise((r) => setTimeout(r, ms));
 *   return await run.stop();
 * }
 * ```
 */
export interface LiveRun {
  /** This run's lease holder name. */
  readonly holder: string;
  /** Strategy ids (when submitted through a client), in order. */
  readonly strategyIds: readonly string[];
  /** Node ID → topic of every node the run reads or writes. */
  readonly queueMap: Readonly<Record<string, string>>;
  /** Current counters, by node ID. */
  stats(): Record<string, LiveNodeStats>;
  /** Stop: flush publishes, release leases. Resolves with the final counters. */
  stop(): Promise<Record<string, LiveNodeStats>>;
  /** Resolves when the run has stopped (by `stop()` or the signal). */
  readonly done: Promise<Record<string, LiveNodeStats>>;
}

const MAX_QUEUE = 100_000;
/** Most bars read per topic to resume (about 70 days of 1-minute bars). */
const MAX_WARMUP = 100_000;

function defaultHolder(): string {
  let host = "host";
  try {
    host = Deno.hostname();
  } catch {
    // no --allow-sys: keep the generic name
  }
  return `${host}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
}

interface NodeState {
  planned?: PlannedNode;
  id: string;
  name: string;
  topic: string;
  role: LiveRole;
  topo: number;
  token: string;
  queue: Bar[];
  flushing: boolean;
  published: number;
  leasesAcquired: number;
  takeovers: number;
  leasesLost: number;
}

class LiveRunner implements LiveRun {
  readonly holder: string;
  readonly strategyIds: string[] = [];
  readonly queueMap: Record<string, string> = {};
  readonly done: Promise<Record<string, LiveNodeStats>>;
  #resolveDone!: (s: Record<string, LiveNodeStats>) => void;
  #plan: RunPlan;
  #o: LiveOptions;
  #io!: TopicIO;
  #engine: Engine;
  #nodes = new Map<string, NodeState>();
  #byTopic = new Map<string, NodeState>();
  #cursors = new Map<string, number | undefined>();
  #tagMatches = new Map<string, string[]>();
  #stop = new AbortController();
  #readAbort = new AbortController();
  #unlisten: () => void = () => {};
  /** The node whose topic bar is being injected (its emission is not ours). */
  #injecting = "";
  #loops: Promise<void>[] = [];
  #stopped: Promise<Record<string, LiveNodeStats>> | null = null;
  #leaseMs: number;
  #renewMs: number;

  constructor(plan: RunPlan, options: LiveOptions) {
    this.#plan = plan;
    this.#o = options;
    this.holder = options.holder ?? defaultHolder();
    this.#leaseMs = options.leaseMs ?? 10_000;
    this.#renewMs = options.renewMs ?? Math.max(50, this.#leaseMs / 5);
    this.done = new Promise((r) => this.#resolveDone = r);
    this.#engine = new Engine({
      onOutput: (id, t, v) => this.#output(id, t, v),
      onError: (e) =>
        this.#event({
          type: "compute_error",
          node: e.node,
          nodeId: e.nodeId,
          error: e,
        }),
    });
  }

  async start(): Promise<void> {
    const o = this.#o;
    const client = o.client;
    this.#io = o.io ?? client?.topicIO() ??
      (() => {
        throw new TypeError("live() needs `client` or `io`");
      })();
    // Queue maps: submit through the client, or take the one given.
    if (client) {
      for (const s of this.#plan.strategies) {
        const ack = await client.submit(s.dag, { version: o.version ?? "1" });
        const st = await client.waitFor(ack.strategyId, "COMPLETED", {
          timeoutMs: 60_000,
          ...(o.signal ? { signal: o.signal } : {}),
        });
        this.strategyIds.push(ack.strategyId);
        Object.assign(this.queueMap, st.queueMap);
      }
      for (const ext of this.#plan.external) {
        this.queueMap[ext] ??= await client.topicOf(ext);
      }
    }
    if (o.queueMap) Object.assign(this.queueMap, o.queueMap);
    // External inputs are read from their topics.
    for (const ext of this.#plan.external) {
      this.#engine.add({
        id: ext,
        name: ext.slice(0, 15),
        kind: "stream",
        intervalS: 1,
        period: 1,
        inputs: [],
        params: {},
      });
      this.#track(ext, ext.slice(0, 15), "consumer", undefined);
    }
    this.#plan.nodes.forEach((p) => {
      this.#engine.add(p.engine);
      const kind = p.engine.kind;
      const role: LiveRole = kind === "stream"
        ? "input"
        : kind === "tagQuery" || p.engine.compute
        ? "standby"
        : "consumer";
      this.#track(p.engine.id, p.engine.name, role, p);
      this.#engine.setComputing(p.engine.id, false);
    });
    await this.#resolveTags(true);
    await this.#warmUp([...this.#nodes.values()]);
    await this.#leaseRound();
    if (o.signal?.aborted) {
      void this.stop();
      return;
    }
    // Removed again by stop(): a listener left on the caller's signal (say
    // AbortSignal.timeout(…)) would keep the process alive until it fires.
    if (o.signal) {
      const signal = o.signal;
      const onAbort = () => void this.stop();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#unlisten = () => signal.removeEventListener("abort", onAbort);
    }
    this.#loops.push(this.#readLoop(), this.#leaseLoop(), this.#tagLoop());
  }

  #track(id: string, name: string, role: LiveRole, planned?: PlannedNode) {
    const topic = this.queueMap[id];
    if (!topic) {
      throw new Error(
        `node ${
          JSON.stringify(name)
        } (${id}) has no topic: give queueMap or submit through a client`,
      );
    }
    const st: NodeState = {
      ...(planned ? { planned } : {}),
      id,
      name,
      topic,
      role,
      topo: this.#nodes.size,
      token: "",
      queue: [],
      flushing: false,
      published: 0,
      leasesAcquired: 0,
      takeovers: 0,
      leasesLost: 0,
    };
    this.#nodes.set(id, st);
    this.#byTopic.set(topic, st);
    if (role !== "producer") this.#cursors.set(topic, undefined);
  }

  /** Warm the engine from the tail of each node's topic, in time order. */
  /**
   * Warm the engine from the topics, in time order. A consumer that has
   * published before resumes after its last bar, so each of its inputs is
   * read from `period` bars before that bar on (nothing is skipped); a
   * consumer that never published starts from the newest `period` bars.
   */
  async #warmUp(nodes: NodeState[]): Promise<void> {
    const all = [...this.#nodes.values()];
    const lastOf = new Map<string, number | null>();
    for (const t of await this.#io.tail(all.map((n) => n.topic), 1)) {
      lastOf.set(t.topic, t.bars.at(-1)?.barTs ?? null);
    }
    const reads = nodes.map(async (n) => {
      let from: number | undefined;
      let depth = 1;
      for (const c of this.#engine.node(n.id)?.consumers ?? []) {
        const cs = this.#nodes.get(c.node.spec.id);
        const last = cs ? lastOf.get(cs.topic) ?? null : null;
        if (last === null) {
          depth = Math.max(depth, c.node.spec.period);
        } else {
          const need = last - c.node.spec.period * c.node.spec.intervalS;
          from = from === undefined ? need : Math.min(from, need);
        }
      }
      if (from === undefined) return await this.#io.tail([n.topic], depth);
      const bars: Bar[] = [];
      let after = from;
      while (bars.length < MAX_WARMUP) {
        const [got] = await this.#io.read([{
          topic: n.topic,
          afterBarTs: after,
        }], {
          waitMs: 0,
          limit: 10_000,
        });
        if (!got || got.bars.length === 0) break;
        bars.push(...got.bars);
        after = got.bars[got.bars.length - 1].barTs;
      }
      // The node's own newest bar too (it marks where it resumes).
      const [own] = await this.#io.tail([n.topic], 1);
      if (
        own.bars.length && own.bars[0].barTs > (bars.at(-1)?.barTs ?? -Infinity)
      ) {
        bars.push(own.bars[0]);
      }
      return [{ topic: n.topic, bars }];
    });
    this.#inject((await Promise.all(reads)).flat());
  }

  /** Inject bars read from topics, merged by bar time then DAG order. */
  #inject(batches: { topic: string; bars: Bar[] }[]): void {
    const all: [NodeState, Bar][] = [];
    for (const b of batches) {
      const st = this.#byTopic.get(b.topic);
      if (!st) continue;
      for (const bar of b.bars) all.push([st, bar]);
    }
    all.sort((a, b) => a[1].barTs - b[1].barTs || a[0].topo - b[0].topo);
    try {
      for (const [st, bar] of all) {
        const c = this.#cursors.get(st.topic);
        if (c === undefined || bar.barTs > c) {
          this.#cursors.set(st.topic, bar.barTs);
        }
        if (st.role === "producer") continue;
        this.#injecting = st.id;
        this.#engine.inject(st.id, bar.barTs, bar.value);
      }
    } finally {
      this.#injecting = "";
    }
  }

  #output(id: string, barTs: number, value: unknown): void {
    const st = this.#nodes.get(id);
    if (!st) return;
    const computed = id !== this.#injecting && st.role === "producer";
    this.#o.onOutput?.({ nodeId: id, name: st.name, barTs, value, computed });
    if (!computed) return;
    if (st.queue.length >= MAX_QUEUE) st.queue.shift();
    st.queue.push({ barTs, value });
    void this.#flush(st);
  }

  async #flush(st: NodeState): Promise<void> {
    if (st.flushing) return;
    st.flushing = true;
    let backoff = 50;
    try {
      while (st.queue.length > 0 && st.role === "producer") {
        const batch = st.queue.slice(0, 1000);
        try {
          const r = await this.#io.publish(st.topic, batch, st.token);
          st.published += r.accepted;
          st.queue.splice(0, batch.length);
          backoff = 50;
        } catch (e) {
          if (e instanceof LeaseLostError) {
            this.#lose(st, e.holder);
            break;
          }
          this.#event({
            type: "io_error",
            node: st.name,
            topic: st.topic,
            error: e,
          });
          if (this.#stop.signal.aborted && st.queue.length === 0) break;
          await pause(backoff, this.#stop.signal);
          if (this.#stop.signal.aborted) break;
          backoff = Math.min(backoff * 2, 2_000);
        }
      }
    } finally {
      st.flushing = false;
    }
  }

  #lose(st: NodeState, holder: string): void {
    if (st.role !== "producer") return;
    st.role = "standby";
    st.token = "";
    st.queue.length = 0;
    st.leasesLost++;
    this.#engine.setComputing(st.id, false);
    const last = this.#engine.node(st.id)!.lastEmitted;
    this.#cursors.set(st.topic, Number.isFinite(last) ? last : undefined);
    this.#readAbort.abort();
    this.#event({
      type: "lease_lost",
      node: st.name,
      nodeId: st.id,
      topic: st.topic,
      holder,
    });
  }

  async #become(st: NodeState, g: LeaseOutcome): Promise<void> {
    // Read the topic up to its last bar before computing the bars after it.
    let cursor = this.#cursors.get(st.topic);
    while (
      g.lastBarTs !== null && (cursor === undefined || cursor < g.lastBarTs)
    ) {
      const got = await this.#io.read([{
        topic: st.topic,
        ...(cursor !== undefined ? { afterBarTs: cursor } : {}),
      }], {
        waitMs: 0,
        limit: 10_000,
      });
      if (got.length === 0) break;
      this.#inject(got);
      cursor = this.#cursors.get(st.topic);
    }
    st.role = "producer";
    st.token = g.token;
    st.leasesAcquired++;
    if (g.takeover) st.takeovers++;
    this.#cursors.delete(st.topic);
    this.#readAbort.abort();
    this.#event({
      type: "lease_acquired",
      node: st.name,
      nodeId: st.id,
      topic: st.topic,
      takeover: g.takeover,
      holder: g.previousHolder,
      lastBarTs: g.lastBarTs,
    });
    this.#engine.setComputing(st.id, true, g.lastBarTs ?? undefined);
  }

  async #leaseRound(): Promise<void> {
    const wanted = [...this.#nodes.values()].filter((s) =>
      s.role === "producer" || s.role === "standby"
    );
    if (wanted.length === 0) return;
    const outcomes = await this.#io.acquire(
      this.holder,
      this.#leaseMs,
      wanted.map((s) => ({
        topic: s.topic,
        ...(s.token ? { token: s.token } : {}),
      })),
    );
    for (let i = 0; i < wanted.length; i++) {
      const st = wanted[i];
      const g = outcomes[i];
      if (this.#stop.signal.aborted) return;
      if (g.granted) {
        if (st.role === "producer") {
          // Renewed — or re-granted with a new token after our lease
          // expired with nobody taking it: keep the queue (the topic drops
          // any bar it already has) under the new token.
          if (g.token !== st.token) {
            st.token = g.token;
            void this.#flush(st);
          }
          continue;
        }
        await this.#become(st, g);
      } else if (st.role === "producer") {
        this.#lose(st, g.holder);
      }
    }
  }

  async #leaseLoop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      await pause(this.#renewMs, signal);
      if (signal.aborted) break;
      try {
        await this.#leaseRound();
      } catch (e) {
        this.#event({ type: "io_error", error: e });
      }
    }
  }

  async #readLoop(): Promise<void> {
    const signal = this.#stop.signal;
    let backoff = 50;
    while (!signal.aborted) {
      const cursors = [...this.#cursors].map(([topic, after]) => ({
        topic,
        ...(after !== undefined ? { afterBarTs: after } : {}),
      }));
      this.#readAbort = new AbortController();
      const both = AbortSignal.any([signal, this.#readAbort.signal]);
      if (cursors.length === 0) {
        await pause(this.#o.waitMs ?? 5_000, both);
        continue;
      }
      try {
        const got = await this.#io.read(cursors, {
          waitMs: this.#o.waitMs ?? 5_000,
          signal: both,
        });
        this.#inject(got);
        backoff = 50;
      } catch (e) {
        if (signal.aborted) break;
        if (this.#readAbort.signal.aborted) continue;
        if (e instanceof ComputeError) throw e;
        this.#event({ type: "io_error", error: e });
        await pause(backoff, signal);
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  /** Resolve every tag query; on a change, re-wire and warm the new inputs. */
  async #resolveTags(initial: boolean): Promise<void> {
    for (const p of this.#plan.nodes) {
      if (p.engine.kind !== "tagQuery") continue;
      const params = p.compiled.params as {
        match_mode?: "any" | "all";
        query_tags?: string[];
      };
      const below = new Set<string>([p.engine.id]);
      for (const n of this.#plan.nodes) {
        if (n.engine.inputs.some((i) => below.has(i))) below.add(n.engine.id);
      }
      let matches: TagMatch[];
      if (this.#o.client) {
        matches = await this.#o.client.tagMatches(
          params.query_tags ?? [],
          params.match_mode ?? "any",
          p.engine.intervalS,
        );
      } else {
        const want = params.query_tags ?? [];
        matches = this.#plan.nodes.filter((n) => {
          const tags = new Set(n.compiled.spec.tags);
          return n.compiled.spec.nodeType !== TAG_QUERY_NODE_TYPE &&
            n.engine.intervalS === p.engine.intervalS &&
            (params.match_mode === "all"
              ? want.every((t) => tags.has(t))
              : want.some((t) => tags.has(t)));
        }).map((n) => ({
          nodeId: n.engine.id,
          topic: this.queueMap[n.engine.id],
          intervalS: n.engine.intervalS,
          inputs: n.engine.inputs,
        }));
      }
      const ids = matches.filter((m) =>
        !below.has(m.nodeId) && !m.inputs.includes(p.engine.id)
      )
        .map((m) => m.nodeId).sort();
      const before = this.#tagMatches.get(p.engine.id);
      if (before && before.join() === ids.join()) continue;
      const fresh: NodeState[] = [];
      for (const m of matches) {
        if (!ids.includes(m.nodeId) || this.#nodes.has(m.nodeId)) continue;
        this.queueMap[m.nodeId] = m.topic;
        this.#engine.add({
          id: m.nodeId,
          name: m.nodeId.slice(0, 15),
          kind: "stream",
          intervalS: m.intervalS,
          period: 1,
          inputs: [],
          params: {},
        });
        this.#track(m.nodeId, m.nodeId.slice(0, 15), "consumer");
        fresh.push(this.#nodes.get(m.nodeId)!);
      }
      this.#tagMatches.set(p.engine.id, ids);
      this.#engine.setTagInputs(p.engine.id, ids);
      if (!initial) {
        await this.#warmUp(fresh);
        this.#readAbort.abort();
      }
      this.#event({
        type: "tag_query_changed",
        node: p.engine.name,
        nodeId: p.engine.id,
        matches: ids,
      });
    }
  }

  async #tagLoop(): Promise<void> {
    if (!this.#plan.nodes.some((p) => p.engine.kind === "tagQuery")) return;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      await pause(this.#o.tagRefreshMs ?? 5_000, signal);
      if (signal.aborted) break;
      try {
        await this.#resolveTags(false);
      } catch (e) {
        this.#event({ type: "io_error", error: e });
      }
    }
  }

  #event(e: LiveEvent): void {
    try {
      this.#o.onEvent?.(e);
    } catch {
      // a failing listener never stops the run
    }
  }

  stats(): Record<string, LiveNodeStats> {
    const out: Record<string, LiveNodeStats> = {};
    for (const st of this.#nodes.values()) {
      const n = this.#engine.node(st.id)!;
      out[st.id] = {
        ...n.stats,
        nodeId: st.id,
        name: st.name,
        topic: st.topic,
        role: st.role,
        published: st.published,
        leasesAcquired: st.leasesAcquired,
        takeovers: st.takeovers,
        leasesLost: st.leasesLost,
      };
    }
    return out;
  }

  stop(): Promise<Record<string, LiveNodeStats>> {
    return this.#stopped ??= (async () => {
      this.#unlisten();
      this.#stop.abort();
      this.#readAbort.abort();
      await Promise.allSettled(this.#loops);
      // Flush what was computed, bounded in time, then release the leases.
      const producers = [...this.#nodes.values()].filter((s) =>
        s.role === "producer"
      );
      const deadline = Date.now() + 5_000;
      for (const st of producers) {
        while (
          st.queue.length > 0 && st.role === "producer" && Date.now() < deadline
        ) {
          try {
            const r = await this.#io.publish(
              st.topic,
              st.queue.slice(0, 1000),
              st.token,
            );
            st.published += r.accepted;
            st.queue.splice(0, 1000);
          } catch (e) {
            this.#event({
              type: "io_error",
              node: st.name,
              topic: st.topic,
              error: e,
            });
            break;
          }
        }
      }
      try {
        await this.#io.release(
          producers.map((s) => ({ topic: s.topic, token: s.token })),
        );
      } catch (e) {
        this.#event({ type: "io_error", error: e });
      }
      for (const st of producers) st.role = "standby";
      const s = this.stats();
      this.#resolveDone(s);
      return s;
    })();
  }
}

/**
 * Run strategies live: submit them (or take `queueMap`), then produce or
 * consume every node as the module documentation describes. Resolves once
 * the run is warm and its first lease round is done.
 *
 * @param strategies one or many builders or compiled strategies
 * @param options client (or io + queueMap), signal, lease settings, callbacks
 * @returns the running run
 * @example
 * ```ts
 * import { live, storeTopicIO } from "@qmtl/qmtl/sdk";
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import { MemoryTopicStore } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 *
 * const s = new StrategyBuilder("x2");
 * const p = s.streamInput({ name: "p", tags: ["p"], intervalS: 60, period: 1 });
 * s.processing({ name: "double", inputs: [p], intervalS: 60, period: 1, compute: (v) => v.last * 2 });
 * const st = s.compile();
 * const store = new MemoryTopicStore();
 * const queueMap = Object.fromEntries(st.nodes.map((n) => [n.spec.nodeId, n.spec.name]));
 * for (const t of Object.values(queueMap)) await store.create(t);
 * const io = storeTopicIO(store);
 * const run = await live(st, { io, queueMap, renewMs: 50 });
 * await io.publish("p", [{ barTs: 60, value: 21 }], "");
 * while ((await store.lastBarTs("double")) === null) await new Promise((r) => setTimeout(r, 10));
 * const stats = await run.stop();
 * assert.equal(stats[st.nodes[1].spec.nodeId].evaluations, 1);
 * assert.deepEqual((await io.tail(["double"], 1))[0].bars, [{ barTs: 60, value: 42 }]);
 * await store.close();
 * ```
 */
export async function live(
  strategies: Runnable | readonly Runnable[],
  options: LiveOptions,
): Promise<LiveRun> {
  const runner = new LiveRunner(planRun(strategies), options);
  await runner.start();
  return runner;
}
