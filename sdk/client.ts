/**
 * `QmtlClient`: submit a strategy to a Gateway, read its status, wait for a
 * state, follow its events, retire it, and query the global DAG's nodes.
 *
 * Calls go through the generated `GatewayService` client of connect-es
 * (binary protobuf over the Connect protocol) with the schema-version
 * headers; events use the read-only SSE stream. Lifecycle states are names
 * (`"QUEUED"`, `"COMPLETED"`, …) everywhere. Errors are
 * {@link QmtlClientError}s (see `errors.ts`); unavailable answers are retried
 * with exponential backoff and jitter up to a bound.
 *
 * @module
 */

import { StrategyBuilder } from "./builder.ts";
import {
  checkSubmitFields,
  ContractError,
  type MatchMode,
  type StrategyDag,
} from "./contracts.ts";
import {
  QmtlClientError,
  UnexpectedStateError,
  ValidationError,
  WaitTimeoutError,
} from "./errors.ts";
import {
  type EventsOptions,
  followEvents,
  type StrategyEvent,
} from "./events.ts";
import {
  backoffMs,
  deadline,
  linkSignal,
  type RetryOptions,
  retryOptions,
  sleep,
} from "./retry.ts";
import { type Bar, fromBarRecord, toBarRecord } from "./runner/records.ts";
import type { TagMatch } from "./runner/live.ts";
import {
  LeaseLostError,
  type LeaseOutcome,
  type TopicIO,
} from "./runner/topic_io.ts";
import {
  call,
  CLIENT_SCHEMA,
  type ClientConfig,
  gatewayClient,
  get,
} from "./rpc.ts";
import { type StateName, stateName, toState } from "./states.ts";
import {
  type ListNodesResponse,
  type NodeRecord,
  nodeRecords,
  statusView,
  type StrategyStatus,
  type SubmitStrategyResponse,
  submitView,
} from "./views.ts";
import type { Client } from "@connectrpc/connect";
import type { GatewayService } from "./contracts.ts";

/**
 * Options of the {@link QmtlClient} constructor.
 *
 * @example
 * ```ts
 * import type { QmtlClientOptions } from "@qmtl/qmtl/sdk";
 * const o: QmtlClientOptions = {
 *   url: "http://127.0.0.1:8080", token: "eyJ…",
 *   retry: { maxAttempts: 4, baseMs: 100, maxMs: 2000 },
 * };
 * ```
 */
export interface QmtlClientOptions {
  /** Gateway base URL, e.g. `http://127.0.0.1:8080`. */
  url: string | URL;
  /** Bearer JWT, or a function returning one (called for every request). */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** A fetch implementation; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Retry policy for unavailable answers; defaults: 5 attempts, 200 ms, 5 s. */
  retry?: Partial<RetryOptions>;
  /** Per-attempt request timeout in ms (0: none); default 30 000. */
  requestTimeoutMs?: number;
  /** Override the schema version sent (for testing compatibility). */
  schemaVersion?: string;
  /** Override the schema hash sent (for testing compatibility). */
  schemaHash?: string;
}

/**
 * Options of {@link QmtlClient.submit}.
 *
 * @example
 * ```ts
 * import type { SubmitOptions } from "@qmtl/qmtl/sdk";
 * const o: SubmitOptions = { version: "1.0.0", callbackUrl: "https://example.com/hook" };
 * ```
 */
export interface SubmitOptions {
  /** Your version label of this strategy. */
  version: string;
  /** Webhook URL for lifecycle events. */
  callbackUrl?: string;
  /** Free-form submission metadata. */
  metadata?: Record<string, string>;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Options of {@link QmtlClient.waitFor}.
 *
 * @example
 * ```ts
 * import type { WaitForOptions } from "@qmtl/qmtl/sdk";
 * const o: WaitForOptions = { timeoutMs: 30_000, pollMs: 500 };
 * ```
 */
export interface WaitForOptions {
  /** Give up with a {@link WaitTimeoutError} after this long; default 60 000. */
  timeoutMs?: number;
  /** Cancels the wait (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Status poll interval in ms (alongside SSE); default 1 000. */
  pollMs?: number;
  /**
   * States that end the wait with an {@link UnexpectedStateError}; default
   * `FAILED` and `RETIRED`, minus the states waited for.
   */
  failOn?: StateName[];
  /** Use the SSE stream to notice changes early; default `true`. */
  useEvents?: boolean;
}

/**
 * Options of {@link QmtlClient.nodesByTags}.
 *
 * @example
 * ```ts
 * import type { NodesByTagsOptions } from "@qmtl/qmtl/sdk";
 * const o: NodesByTagsOptions = { matchMode: "all", intervalS: 60 };
 * ```
 */
export interface NodesByTagsOptions {
  /** `"any"` (default) or `"all"`. */
  matchMode?: MatchMode;
  /** Only nodes of this interval; default any. */
  intervalS?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Options of {@link QmtlClient.listNodes}.
 *
 * @example
 * ```ts
 * import type { ListNodesOptions } from "@qmtl/qmtl/sdk";
 * const o: ListNodesOptions = { pageSize: 100, nodeType: "Processing" };
 * ```
 */
export interface ListNodesOptions {
  /** Page size; default the server's. */
  pageSize?: number;
  /** `nextPageToken` of the previous page. */
  pageToken?: string;
  /** Only nodes of this type. */
  nodeType?: string;
  /** Only nodes of this interval. */
  intervalS?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Options of {@link QmtlClient.publishBars}.
 *
 * @example
 * ```ts
 * import type { PublishBarsOptions } from "@qmtl/qmtl/sdk";
 * const o: PublishBarsOptions = { leaseToken: "token-of-my-grant" };
 * ```
 */
export interface PublishBarsOptions {
  /** The producer lease token; omit for stream inputs. */
  leaseToken?: string;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Result of {@link QmtlClient.publishBars}.
 *
 * @example
 * ```ts
 * import type { PublishBarsResult } from "@qmtl/qmtl/sdk";
 * const r: PublishBarsResult = { accepted: 1, dropped: 0, lastBarTs: 60 };
 * ```
 */
export interface PublishBarsResult {
  /** Bars stored. */
  accepted: number;
  /** Bars dropped: at or before the topic's last bar. */
  dropped: number;
  /** The topic's last bar time after the call, or `null`. */
  lastBarTs: number | null;
}

/**
 * Options of {@link QmtlClient.readBars}.
 *
 * @example
 * ```ts
 * import type { ReadBarsOptions } from "@qmtl/qmtl/sdk";
 * const o: ReadBarsOptions = { waitMs: 10_000, limit: 500 };
 * ```
 */
export interface ReadBarsOptions {
  /** Long poll: wait up to this long for a new bar (capped at the request timeout − 5 s and 30 s). */
  waitMs?: number;
  /** At most this many bars per topic (default 1000). */
  limit?: number;
  /** The newest `tail` bars instead. */
  tail?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * A topic of the global DAG (`GET /v1/topics`).
 *
 * @example
 * ```ts
 * import type { TopicInfo } from "@qmtl/qmtl/sdk";
 * const t: TopicInfo = { name: "BTC_StreamInput_33ac53f0_v1", nodeId: "sha256:…", retentionMs: 604800000, partitions: 1, createdAtMs: 0 };
 * ```
 */
export interface TopicInfo {
  /** Topic name. */
  name: string;
  /** The node whose output it carries. */
  nodeId: string;
  /** Retention, ms. */
  retentionMs: number;
  /** Partitions. */
  partitions: number;
  /** Creation time, ms since the epoch. */
  createdAtMs: number;
}

/**
 * Options of {@link QmtlClient.listTopics}.
 *
 * @example
 * ```ts
 * import type { ListTopicsOptions } from "@qmtl/qmtl/sdk";
 * const o: ListTopicsOptions = { pageSize: 100 };
 * ```
 */
export interface ListTopicsOptions {
  /** Topics per page, 1-1000 (default 100). */
  pageSize?: number;
  /** `nextPageToken` of the previous page. */
  pageToken?: string;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Options of {@link QmtlClient.get} and {@link QmtlClient.retire}.
 *
 * @example
 * ```ts
 * import type { CallOptions } from "@qmtl/qmtl/sdk";
 * const o: CallOptions = { signal: AbortSignal.timeout(5000) };
 * ```
 */
export interface CallOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
}

function noStatus(method: string): QmtlClientError {
  return new QmtlClientError(
    "E_INTERNAL",
    `${method}: the answer has no status`,
  );
}

function nameOfNode(dag: StrategyDag, e: ValidationError): string | undefined {
  const m = /^nodes\[(\d+)\]/.exec(e.field ?? "");
  if (m) return dag.nodes[Number(m[1])]?.name;
  if (e.nodeId) return dag.nodes.find((n) => n.nodeId === e.nodeId)?.name;
  return undefined;
}

/**
 * Client of a QMTL Gateway.
 *
 * @example
 * ```ts ignore
 * import { QmtlClient, StrategyBuilder } from "@qmtl/qmtl/sdk";
 *
 * const client = new QmtlClient({ url: "http://127.0.0.1:8080", token: Deno.env.get("QMTL_TOKEN") });
 * const s = new StrategyBuilder("demo");
 * const price = s.streamInput({ name: "price", tags: ["btc"], intervalS: 60, period: 1 });
 * s.processing({ name: "sma5", inputs: [price], intervalS: 60, period: 5, compute: (xs: number[]) => xs[0] });
 * const { strategyId } = await client.submit(s, { version: "1" });
 * const done = await client.waitFor(strategyId, "COMPLETED", { timeoutMs: 30_000 });
 * console.log(done.queueMap);
 * ```
 */
export class QmtlClient {
  /** The Gateway base URL (no trailing slash). */
  readonly url: string;
  readonly #config: ClientConfig;
  readonly #rpc: Client<typeof GatewayService>;

  /**
   * Create a client. Nothing is sent until the first call.
   *
   * @param options URL, token, fetch, retry policy, timeouts
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * const client = new QmtlClient({ url: "http://127.0.0.1:8080/", token: "t" });
   * assert.equal(client.url, "http://127.0.0.1:8080");
   * ```
   */
  constructor(options: QmtlClientOptions) {
    const url = String(options.url).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(url)) {
      throw new TypeError(
        `QmtlClient: url must be http(s), got ${JSON.stringify(url)}`,
      );
    }
    this.url = url;
    const token = options.token;
    const f = options.fetch ?? globalThis.fetch;
    this.#config = {
      baseUrl: url,
      token: typeof token === "function" ? token : () => token,
      fetch: (input, init) => f(input, init),
      retry: retryOptions(options.retry),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      schemaVersion: options.schemaVersion ?? CLIENT_SCHEMA.version,
      schemaHash: options.schemaHash ?? CLIENT_SCHEMA.hash,
    };
    this.#rpc = gatewayClient(this.#config);
  }

  /**
   * Submit a strategy (a builder, which is built first, or a built DAG).
   * Idempotent: the same DAG from the same owner returns the same strategy
   * ID with `duplicate: true`. A {@link ValidationError} from the Gateway
   * gets `node` set to the offending node's name.
   *
   * @param strategy a {@link StrategyBuilder} or a `StrategyDag`
   * @param options version label, webhook URL, metadata, signal
   * @example
   * ```ts ignore
   * import { QmtlClient, StrategyBuilder } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * declare const s: StrategyBuilder;
   * const ack = await client.submit(s, { version: "1" });
   * console.log(ack.strategyId, ack.duplicate);
   * ```
   */
  async submit(
    strategy: StrategyBuilder | StrategyDag,
    options: SubmitOptions,
  ): Promise<SubmitStrategyResponse> {
    const dag = strategy instanceof StrategyBuilder
      ? strategy.build()
      : strategy;
    if (typeof options?.version !== "string" || options.version === "") {
      throw new ValidationError(
        "submit: options.version must be a non-empty string",
        {
          field: "version",
        },
      );
    }
    // The Gateway's own checks of version, callback URL and metadata: refused
    // here, before anything is sent.
    try {
      checkSubmitFields({
        version: options.version,
        callbackUrl: options.callbackUrl ?? "",
        metadata: options.metadata ?? {},
      });
    } catch (e) {
      if (!(e instanceof ContractError)) throw e;
      throw new ValidationError(`submit: ${e.message}`, {
        ...(e.field !== undefined ? { field: e.field } : {}),
        ...(e.details !== undefined ? { details: e.details } : {}),
        cause: e,
      });
    }
    try {
      const ack = await call(
        (signal) =>
          this.#rpc.submitStrategy({
            dag,
            version: options.version,
            callbackUrl: options.callbackUrl ?? "",
            metadata: { ...(options.metadata ?? {}) },
          }, { signal }),
        options.signal,
      );
      return submitView(ack);
    } catch (e) {
      if (e instanceof ValidationError && e.node === undefined) {
        const node = nameOfNode(dag, e);
        if (node !== undefined) {
          throw new ValidationError(e.message, {
            code: e.code,
            node,
            connectCode: e.connectCode,
            ...(e.field !== undefined ? { field: e.field } : {}),
            ...(e.nodeId !== undefined ? { nodeId: e.nodeId } : {}),
            ...(e.details !== undefined ? { details: e.details } : {}),
            ...(e.status !== undefined ? { status: e.status } : {}),
            cause: e,
          });
        }
      }
      throw e;
    }
  }

  /**
   * The full status of a strategy.
   *
   * @param strategyId the strategy
   * @param options signal
   * @example
   * ```ts ignore
   * import { QmtlClient, stateName } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const st = await client.get("st_1");
   * console.log(stateName(st.state), Object.keys(st.queueMap).length);
   * ```
   */
  async get(
    strategyId: string,
    options: CallOptions = {},
  ): Promise<StrategyStatus> {
    const { status } = await call(
      (signal) => this.#rpc.getStrategy({ strategyId }, { signal }),
      options.signal,
    );
    if (status === undefined) throw noStatus("GetStrategy");
    return statusView(status);
  }

  /**
   * Retire a strategy: its node references are dropped (unreferenced nodes
   * are garbage-collected later). Returns the new status.
   *
   * @param strategyId the strategy
   * @param options signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const st = await client.retire("st_1");
   * ```
   */
  async retire(
    strategyId: string,
    options: CallOptions = {},
  ): Promise<StrategyStatus> {
    const { status } = await call(
      (signal) => this.#rpc.retireStrategy({ strategyId }, { signal }),
      options.signal,
    );
    if (status === undefined) throw noStatus("RetireStrategy");
    return statusView(status);
  }

  /**
   * Nodes of the global DAG whose tags match.
   *
   * @param tags tags to match
   * @param options match mode (`"any"` default), interval, signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const nodes = await client.nodesByTags(["btc", "close"], { matchMode: "all" });
   * for (const r of nodes) console.log(r.node.name, r.topic, r.refCount);
   * ```
   */
  async nodesByTags(
    tags: readonly string[],
    options: NodesByTagsOptions = {},
  ): Promise<NodeRecord[]> {
    const res = await call(
      (signal) =>
        this.#rpc.queryNodesByTags({
          tags: [...tags],
          matchMode: options.matchMode ?? "any",
          intervalS: options.intervalS ?? 0,
        }, { signal }),
      options.signal,
    );
    return nodeRecords(res.nodes);
  }

  /**
   * One page of the global DAG's nodes; pass `nextPageToken` back as
   * `pageToken` for the next one (empty at the end).
   *
   * @param options page size and token, node type and interval filters
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * let pageToken = "";
   * for (let page = 0; page < 100; page++) {
   *   const res = await client.listNodes({ pageSize: 50, pageToken });
   *   res.nodes.forEach((r) => console.log(r.node.nodeId, r.topic));
   *   if (!(pageToken = res.nextPageToken)) break;
   * }
   * ```
   */
  async listNodes(
    options: ListNodesOptions = {},
  ): Promise<ListNodesResponse> {
    const res = await call(
      (signal) =>
        this.#rpc.listNodes({
          pageSize: options.pageSize ?? 0,
          pageToken: options.pageToken ?? "",
          nodeType: options.nodeType ?? "",
          intervalS: options.intervalS ?? 0,
        }, { signal }),
      options.signal,
    );
    return { nodes: nodeRecords(res.nodes), nextPageToken: res.nextPageToken };
  }

  /**
   * Follow a strategy's lifecycle events (SSE). The iterator reconnects after
   * a dropped connection and resumes after the last event it saw
   * (`Last-Event-ID`); it ends when `signal` aborts or you `break`.
   *
   * @param strategyId the strategy
   * @param options resume point (`lastEventId` = an event's `cursor`), signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * for await (const e of client.events("st_1", { signal: AbortSignal.timeout(30_000) })) {
   *   console.log(e.type, e.state);
   *   if (e.state === "COMPLETED") break;
   * }
   * ```
   */
  events(
    strategyId: string,
    options: EventsOptions = {},
  ): AsyncGenerator<StrategyEvent, void, undefined> {
    return followEvents(this.#config, strategyId, options);
  }

  /**
   * Wait until a strategy is in one of `states` and return its status.
   *
   * Listens to the SSE stream and polls the status every `pollMs`, so it
   * works without SSE too. Unavailable answers (a Gateway restart, a network
   * blip) are retried until the timeout. Throws {@link WaitTimeoutError} on
   * timeout, {@link UnexpectedStateError} when the strategy reaches a
   * `failOn` state (default FAILED or RETIRED), the signal's reason when
   * `signal` aborts, and other typed errors (not found, unauthenticated, …)
   * as they come.
   *
   * @param strategyId the strategy
   * @param states the state or states to wait for
   * @param options timeout, signal, poll interval, failure states
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const st = await client.waitFor("st_1", "COMPLETED", { timeoutMs: 30_000 });
   * console.log(st.queueMap);
   * ```
   */
  async waitFor(
    strategyId: string,
    states: StateName | readonly StateName[],
    options: WaitForOptions = {},
  ): Promise<StrategyStatus> {
    const wanted = new Set<StateName>(
      (Array.isArray(states) ? states : [states] as StateName[]).map((s) =>
        stateName(toState(s))
      ),
    );
    if (wanted.size === 0) {
      throw new TypeError("waitFor: give at least one state");
    }
    const failOn = new Set<StateName>(
      (options.failOn ?? ["FAILED", "RETIRED"]).map((s) =>
        stateName(toState(s))
      ),
    );
    for (const s of wanted) failOn.delete(s);
    const wantedNames = [...wanted];
    const timeoutMs = options.timeoutMs ?? 60_000;
    const pollMs = Math.max(10, options.pollMs ?? 1000);

    const done = new AbortController();
    const timer = deadline(timeoutMs);
    const timeout = timer.signal;
    // The caller's signal only through a link detached at the end (a
    // listener left on an AbortSignal.timeout keeps the process alive).
    const caller = linkSignal(options.signal);
    const signal = AbortSignal.any([done.signal, timeout, caller.signal]);
    let last: StrategyStatus | undefined;

    // Fetch the status, retrying unavailable answers until the wait ends.
    const check = async (): Promise<StrategyStatus | undefined> => {
      for (let attempt = 1;; attempt++) {
        try {
          last = await this.get(strategyId, { signal });
          break;
        } catch (e) {
          if (
            !(e instanceof QmtlClientError && e.retryable) || signal.aborted
          ) {
            throw e;
          }
          await sleep(
            backoffMs(attempt, this.#config.retry, e.retryAfterMs),
            signal,
          );
        }
      }
      if (wanted.has(last.state)) return last;
      if (failOn.has(last.state)) {
        throw new UnexpectedStateError(last, wantedNames);
      }
      return undefined;
    };

    const poll = async (): Promise<StrategyStatus> => {
      for (;;) {
        const hit = await check();
        if (hit) return hit;
        await sleep(pollMs, signal);
      }
    };

    const listen = async (): Promise<StrategyStatus> => {
      try {
        for await (
          const e of followEvents(this.#config, strategyId, {
            signal,
            maxReconnects: Infinity,
          })
        ) {
          const s = e.state;
          if (s === undefined || wanted.has(s) || failOn.has(s)) {
            const hit = await check();
            if (hit) return hit;
          }
        }
      } catch (e) {
        // Typed failures surface through polling; SSE is only a shortcut.
        if (e instanceof UnexpectedStateError) throw e;
      }
      return new Promise<never>(() => {}); // leave it to polling
    };

    try {
      const tasks = [poll()];
      if (options.useEvents !== false) tasks.push(listen());
      // The loser settles after `done` aborts; its outcome is irrelevant.
      for (const t of tasks) t.catch(() => {});
      return await Promise.race(tasks);
    } catch (e) {
      if (timeout.aborted && !options.signal?.aborted) {
        throw new WaitTimeoutError(strategyId, wantedNames, timeoutMs, last);
      }
      if (options.signal?.aborted) throw options.signal.reason;
      throw e;
    } finally {
      timer.clear();
      caller.dispose();
      done.abort();
    }
  }

  /**
   * Publish bars to a topic: a data adapter feeding a stream input (no
   * lease), or a producer under its lease (`leaseToken`). Bars at or before
   * the topic's last bar are dropped (counted in `dropped`): a bar is never
   * stored twice. A stale lease token fails with code `E_LEASE_LOST`.
   *
   * @param topic the topic (from a strategy's queue map, or {@link QmtlClient.streamTopics})
   * @param bars bars in increasing bar time
   * @param options lease token, signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const [topic] = await client.streamTopics(["btc", "close"]);
   * await client.publishBars(topic, [{ barTs: 1_700_000_040, value: 37_001.5 }]);
   * ```
   */
  async publishBars(
    topic: string,
    bars: readonly Bar[],
    options: PublishBarsOptions = {},
  ): Promise<PublishBarsResult> {
    const res = await call(
      (signal) =>
        this.#rpc.publishBars({
          topic,
          bars: bars.map(toBarRecord),
          leaseToken: options.leaseToken ?? "",
        }, { signal }),
      options.signal,
    );
    return {
      accepted: res.accepted,
      dropped: res.dropped,
      lastBarTs: res.lastBarTs ?? null,
    };
  }

  /**
   * New bars of several topics (bars after each cursor, oldest first, or
   * the newest `tail` ones); when none has any, the Gateway waits up to
   * `waitMs` (a long poll). Topics with nothing new are left out.
   *
   * @param cursors a topic and the bar time read up to, per topic
   * @param options wait, limit per topic, tail, signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const got = await client.readBars([{ topic: "BTC_Signal_1a2b3c4d_v1", afterBarTs: 0 }], { waitMs: 10_000 });
   * for (const t of got) console.log(t.topic, t.bars.map((b) => b.value));
   * ```
   */
  async readBars(
    cursors: readonly { topic: string; afterBarTs?: number }[],
    options: ReadBarsOptions = {},
  ): Promise<{ topic: string; bars: Bar[] }[]> {
    // Leave the answer time inside the per-attempt timeout.
    const budget = this.#config.requestTimeoutMs > 0
      ? Math.max(0, this.#config.requestTimeoutMs - 5_000)
      : 30_000;
    const res = await call(
      (signal) =>
        this.#rpc.readBars({
          cursors: cursors.map((c) => ({
            topic: c.topic,
            ...(c.afterBarTs !== undefined ? { afterBarTs: c.afterBarTs } : {}),
          })),
          limit: options.limit ?? 0,
          waitMs: Math.min(options.waitMs ?? 0, budget),
          tail: options.tail ?? 0,
        }, { signal }),
      options.signal,
    );
    return res.topics.map((t) => ({
      topic: t.topic,
      bars: t.bars.map(fromBarRecord),
    }));
  }

  /**
   * Acquire or renew producer leases (a request with the current grant's
   * token renews it). One outcome per request, in order, with the topic's
   * last bar (a new producer resumes after it).
   *
   * @param holder this runner's name
   * @param ttlMs lease length, 1000 to 600000 ms
   * @param leases topics, with tokens to renew
   * @param options signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const [g] = await client.acquireLeases("runner-1", 10_000, [{ topic: "BTC_Processing_1a2b3c4d_v1" }]);
   * if (g.granted) console.log("producing after", g.lastBarTs);
   * ```
   */
  async acquireLeases(
    holder: string,
    ttlMs: number,
    leases: readonly { topic: string; token?: string }[],
    options: CallOptions = {},
  ): Promise<LeaseOutcome[]> {
    const res = await call(
      (signal) =>
        this.#rpc.acquireLeases({
          holder,
          ttlMs,
          leases: leases.map((l) => ({ topic: l.topic, token: l.token ?? "" })),
        }, { signal }),
      options.signal,
    );
    return res.grants.map((g) => ({
      topic: g.topic,
      granted: g.granted,
      holder: g.holder,
      token: g.token,
      ttlMs: g.ttlMs,
      takeover: g.takeover,
      previousHolder: g.previousHolder,
      lastBarTs: g.lastBarTs ?? null,
    }));
  }

  /**
   * Release producer leases held with their tokens; returns how many were
   * released.
   *
   * @param leases topics and tokens
   * @param options signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * await client.releaseLeases([{ topic: "BTC_Processing_1a2b3c4d_v1", token: "…" }]);
   * ```
   */
  async releaseLeases(
    leases: readonly { topic: string; token: string }[],
    options: CallOptions = {},
  ): Promise<number> {
    const res = await call(
      (signal) =>
        this.#rpc.releaseLeases({
          leases: leases.map((l) => ({ topic: l.topic, token: l.token })),
        }, { signal }),
      options.signal,
    );
    return res.released;
  }

  /**
   * The topics of the stream inputs whose tags are exactly `tags` (of one
   * interval, when given): where a data adapter publishes a market stream.
   *
   * @param tags the stream's tags
   * @param options interval, signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * for (const topic of await client.streamTopics(["btc", "close"])) {
   *   await client.publishBars(topic, [{ barTs: 1_700_000_040, value: 37_001.5 }]);
   * }
   * ```
   */
  async streamTopics(
    tags: readonly string[],
    options: NodesByTagsOptions = {},
  ): Promise<string[]> {
    const want = [...new Set(tags)].sort().join("\u0000");
    const nodes = await this.nodesByTags(tags, {
      ...options,
      matchMode: "all",
    });
    return nodes.filter((r) =>
      r.node?.nodeType === "StreamInput" &&
      [...new Set(r.node.tags)].sort().join("\u0000") === want
    ).map((r) => r.topic).sort();
  }

  /**
   * The topic of a node of the global DAG (`GET /v1/nodes/{id}`).
   *
   * @param nodeId the node
   * @param options signal
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * console.log(await client.topicOf("sha256:…"));
   * ```
   */
  async topicOf(nodeId: string, options: CallOptions = {}): Promise<string> {
    const caller = linkSignal(options.signal);
    let body: { topic?: unknown };
    try {
      const res = await get(
        this.#config,
        `/v1/nodes/${encodeURIComponent(nodeId)}`,
        { signal: caller.signal },
      );
      body = await res.json() as { topic?: unknown };
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw e;
    } finally {
      caller.dispose();
    }
    if (typeof body.topic !== "string") {
      throw new QmtlClientError("E_INTERNAL", `node ${nodeId} has no topic`);
    }
    return body.topic;
  }

  /**
   * One page of the global DAG's topics, ordered by name
   * (`GET /v1/topics`; roles reader, operator, service).
   *
   * @param options page size and token, signal
   * @returns the topics and the token of the next page (empty at the end)
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const { topics } = await client.listTopics({ pageSize: 50 });
   * for (const t of topics) console.log(t.name, t.nodeId);
   * ```
   */
  async listTopics(
    options: ListTopicsOptions = {},
  ): Promise<{ topics: TopicInfo[]; nextPageToken: string }> {
    const q = new URLSearchParams();
    if (options.pageSize !== undefined) {
      q.set("page_size", String(options.pageSize));
    }
    if (options.pageToken) q.set("page_token", options.pageToken);
    const caller = linkSignal(options.signal);
    try {
      const res = await get(
        this.#config,
        `/v1/topics${q.size ? `?${q}` : ""}`,
        { signal: caller.signal },
      );
      const body = await res.json() as {
        topics: TopicInfo[];
        nextPageToken: string;
      };
      return {
        topics: body.topics.map((t) => ({
          name: t.name,
          nodeId: t.nodeId,
          retentionMs: t.retentionMs,
          partitions: t.partitions,
          createdAtMs: t.createdAtMs,
        })),
        nextPageToken: body.nextPageToken,
      };
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw e;
    } finally {
      caller.dispose();
    }
  }

  /**
   * Nodes a tag query matches (the runner's resolver): nodes of one interval
   * whose tags match, with their topics and inputs.
   *
   * @param tags query tags
   * @param matchMode `"any"` or `"all"`
   * @param intervalS the query's interval
   * @example
   * ```ts ignore
   * import { QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const m = await client.tagMatches(["close"], "any", 60);
   * ```
   */
  async tagMatches(
    tags: readonly string[],
    matchMode: "any" | "all",
    intervalS: number,
  ): Promise<TagMatch[]> {
    const nodes = await this.nodesByTags(tags, { matchMode, intervalS });
    return nodes.filter((r) => r.node).map((r) => ({
      nodeId: r.node!.nodeId,
      topic: r.topic,
      intervalS: r.node!.intervalS,
      inputs: [...r.node!.inputs],
    }));
  }

  /**
   * Topic and lease operations through this client, for `live()`: a
   * publish refused for a stale lease throws `LeaseLostError`.
   *
   * @returns the topic I/O
   * @example
   * ```ts ignore
   * import { live, QmtlClient } from "@qmtl/qmtl/sdk";
   * declare const client: QmtlClient;
   * const io = client.topicIO();
   * ```
   */
  topicIO(): TopicIO {
    return {
      publish: async (topic, bars, leaseToken) => {
        try {
          return await this.publishBars(topic, bars, { leaseToken });
        } catch (e) {
          if (e instanceof QmtlClientError && e.code === "E_LEASE_LOST") {
            throw new LeaseLostError(topic, String(e.details?.holder ?? ""));
          }
          throw e;
        }
      },
      read: (cursors, o) =>
        this.readBars(cursors, {
          waitMs: o.waitMs,
          ...(o.limit ? { limit: o.limit } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
        }),
      tail: (topics, n) =>
        this.readBars(topics.map((topic) => ({ topic })), { tail: n }).then(
          (got) =>
            topics.map((topic) => ({
              topic,
              bars: got.find((t) => t.topic === topic)?.bars ?? [],
            })),
        ),
      acquire: (holder, ttlMs, leases) =>
        this.acquireLeases(holder, ttlMs, leases),
      release: (leases) => this.releaseLeases(leases),
    };
  }
}
