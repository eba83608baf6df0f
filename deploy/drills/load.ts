/**
 * The drill's load: several concurrent SDK clients ({@linkcode QmtlClient})
 * each submitting small strategies with new nodes, one after the other,
 * recording every acknowledged strategy id and when it was acknowledged.
 * Every HTTP answer the clients get is counted by status (the SDK retries
 * 503s on its own; they show up here), and every error that reaches the
 * caller after the SDK's retries is counted by code. A submission that
 * fails is submitted again (the same DAG: idempotent) until it is
 * acknowledged or the load stops.
 *
 * @module
 */

import {
  type NodeView,
  QmtlClient,
  QmtlClientError,
  StrategyBuilder,
  type StrategyDag,
} from "../../sdk/mod.ts";
import type { Timeline } from "./timeline.ts";
import { sleep } from "./wait.ts";

/** One acknowledged strategy. */
export interface Ack {
  /** The strategy id the Gateway answered. */
  strategyId: string;
  /** Client number. */
  client: number;
  /** Strategy number within the client. */
  seq: number;
  /** Acknowledgement, ms since the drill started. */
  atMs: number;
  /** The Gateway said `duplicate: true` (an earlier, failed-looking call had stored it). */
  duplicateAck: boolean;
  /** Submit calls made for this DAG (1 = acknowledged at once). */
  calls: number;
}

/** One error that reached a client after the SDK's retries. */
export interface ClientErrorRecord {
  /** When, ms since the drill started. */
  atMs: number;
  /** Client number. */
  client: number;
  /** QMTL error code, or the error's name. */
  code: string;
  /** Message (first 200 characters). */
  message: string;
}

/** Options of {@linkcode Load}. */
export interface LoadOptions {
  /** Gateway base URL. */
  url: string;
  /** Bearer token (role `submitter`). */
  token: string;
  /** Concurrent clients. */
  clients: number;
  /** Pause between two strategies of one client, ms. */
  pauseMs: number;
  /** Distinguishes this run's nodes from every other run's. */
  runId: string;
  /** The drill's clock. */
  clock: Timeline;
  /** Most strategies per client (a bound on the loop); default 5000. */
  maxPerClient?: number;
}

const mean = (view: NodeView<number>) =>
  view.values.reduce((a, b) => a + b, 0) / view.length;

/**
 * A small strategy whose two nodes are new for every `(runId, client, seq)`:
 * a stream input and a mean over it, both carrying the three in their params.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drillStrategy } from "./load.ts";
 * const a = drillStrategy("r1", 0, 0), b = drillStrategy("r1", 0, 1);
 * assert.equal(a.nodes.length, 2);
 * assert.notEqual(a.nodes[0].nodeId, b.nodes[0].nodeId);
 * ```
 */
export function drillStrategy(
  runId: string,
  client: number,
  seq: number,
): StrategyDag {
  const s = new StrategyBuilder(`drill_${runId}_c${client}_s${seq}`);
  const params = { drill: runId, client, seq };
  const price = s.streamInput({
    name: "price",
    tags: ["drill", `drill_${runId}`],
    intervalS: 60,
    period: 1,
    params,
  });
  s.processing({
    name: "mean",
    inputs: [price],
    intervalS: 60,
    period: 3,
    params,
    compute: mean,
  });
  return s.build();
}

/**
 * The error's QMTL code, else its name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QmtlClientError } from "../../sdk/mod.ts";
 * import { errorCode } from "./load.ts";
 * assert.equal(errorCode(new QmtlClientError("E_UNAVAILABLE", "down")), "E_UNAVAILABLE");
 * assert.equal(errorCode(new TypeError("x")), "TypeError");
 * ```
 */
export function errorCode(e: unknown): string {
  if (e instanceof QmtlClientError) return e.code;
  if (e instanceof Error) return e.name;
  return "unknown";
}

/**
 * Concurrent submitting clients.
 *
 * @example
 * ```ts ignore
 * const load = new Load({ url, token, clients: 4, pauseMs: 50, runId: "ab12", clock });
 * load.start();
 * await sleep(5_000);
 * await load.stop();
 * console.log(load.acks.size, load.httpStatuses, load.errors);
 * ```
 */
export class Load {
  /** Acknowledged strategies by id. */
  readonly acks: Map<string, Ack> = new Map();
  /** Every HTTP answer of a submission attempt, by status (`"200"`, `"503"`, `"network"`). */
  readonly httpStatuses: Record<string, number> = {};
  /** Errors that reached a client (after the SDK's retries), by code. */
  readonly errors: Record<string, number> = {};
  /** The first 50 of those errors. */
  readonly errorLog: ClientErrorRecord[] = [];
  /** DAGs built (acknowledged or not). */
  submitted = 0;
  readonly #o: LoadOptions;
  #pauseMs: number;
  readonly #stop = new AbortController();
  readonly #hardStop = new AbortController();
  #loops: Promise<void>[] = [];

  /** @param options clients, pace, token, clock */
  constructor(options: LoadOptions) {
    this.#o = options;
    this.#pauseMs = options.pauseMs;
  }

  /** Pause between two strategies of one client, ms (can be changed while running). */
  get pauseMs(): number {
    return this.#pauseMs;
  }
  set pauseMs(ms: number) {
    this.#pauseMs = Math.max(0, ms);
  }

  /** Acknowledgements made after a time (ms since the drill started), oldest first. */
  acksAfter(atMs: number): Ack[] {
    return [...this.acks.values()].filter((a) => a.atMs > atMs).sort((a, b) =>
      a.atMs - b.atMs
    );
  }

  /** Start every client. */
  start(): void {
    for (let i = 0; i < this.#o.clients; i++) this.#loops.push(this.#run(i));
  }

  /**
   * Stop submitting: calls in flight may finish within `graceMs` (default
   * 15 s) and are cancelled after that (a cancelled call is not an
   * acknowledgement).
   */
  async stop(graceMs = 15_000): Promise<void> {
    this.#stop.abort();
    const all = Promise.all(this.#loops);
    const t = setTimeout(() => this.#hardStop.abort(), graceMs);
    try {
      await all;
    } finally {
      clearTimeout(t);
    }
  }

  #count(map: Record<string, number>, key: string): void {
    map[key] = (map[key] ?? 0) + 1;
  }

  async #run(client: number): Promise<void> {
    const o = this.#o;
    const counting: typeof fetch = async (input, init) => {
      try {
        const res = await fetch(input, init);
        this.#count(this.httpStatuses, String(res.status));
        return res;
      } catch (e) {
        this.#count(this.httpStatuses, "network");
        throw e;
      }
    };
    const c = new QmtlClient({
      url: o.url,
      token: o.token,
      fetch: counting,
      retry: { maxAttempts: 4, baseMs: 200, maxMs: 2_000 },
      requestTimeoutMs: 10_000,
    });
    const max = o.maxPerClient ?? 5_000;
    for (let seq = 0; seq < max && !this.#stop.signal.aborted; seq++) {
      const dag = drillStrategy(o.runId, client, seq);
      this.submitted++;
      for (let calls = 1; !this.#stop.signal.aborted; calls++) {
        try {
          const ack = await c.submit(dag, {
            version: "1",
            signal: this.#hardStop.signal,
          });
          this.acks.set(ack.strategyId, {
            strategyId: ack.strategyId,
            client,
            seq,
            atMs: o.clock.at(),
            duplicateAck: ack.duplicate,
            calls,
          });
          break;
        } catch (e) {
          if (this.#hardStop.signal.aborted) return;
          const code = errorCode(e);
          this.#count(this.errors, code);
          if (this.errorLog.length < 50) {
            this.errorLog.push({
              atMs: o.clock.at(),
              client,
              code,
              message: String((e as Error)?.message ?? e).slice(0, 200),
            });
          }
          await sleep(250, this.#stop.signal);
        }
      }
      await sleep(this.#pauseMs, this.#stop.signal);
    }
  }
}
