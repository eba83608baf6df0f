/**
 * `DependencyWatch`: runs the dependency probes on an interval and on
 * demand (`/readyz`), keeps the last state of each, exports it as metrics
 * and tells listeners (the alert sources) after every check.
 *
 * @module
 */

import type { HealthStatus } from "../../dag/registry.ts";
import type { Logger } from "../logger/mod.ts";
import type { Metrics } from "../metrics/mod.ts";
import type { DependencyState, Probe, ProbeResult } from "./types.ts";

/** Metric: 1 when a dependency answered its last check. */
export const DEPENDENCY_UP = "qmtl_dependency_up";
/** Metric: duration of a dependency's last check. */
export const DEPENDENCY_CHECK_SECONDS = "qmtl_dependency_check_seconds";
/** Metric: 1 when Redis writes are confirmed by the required replicas. */
export const REDIS_WRITES_CONFIRMED = "qmtl_redis_writes_confirmed";

/**
 * Options of {@link DependencyWatch}.
 *
 * @example
 * ```ts
 * import type { DependencyWatchOptions } from "@qmtl/qmtl/gateway";
 * const o: DependencyWatchOptions = {
 *   probes: { neo4j: () => Promise.resolve({ up: true, detail: "ok" }) },
 *   intervalMs: 5_000,
 * };
 * ```
 */
export interface DependencyWatchOptions {
  /** Probe per dependency name. */
  probes: Record<string, Probe>;
  /** Bound of one probe, ms; default 3000. */
  timeoutMs?: number;
  /** A check younger than this is reused by `check()`, ms; default 1000. */
  maxAgeMs?: number;
  /** Interval of the periodic checks once started, ms; default 5000. */
  intervalMs?: number;
  /** Clock (ms); default `Date.now`. */
  clock?: () => number;
  /** Gauges `qmtl_dependency_up`, … are registered here when given. */
  metrics?: Metrics;
  /** Up/down changes are logged here. */
  logger?: Logger;
}

/**
 * Called after every check of a dependency.
 *
 * @example
 * ```ts
 * import type { DependencyListener } from "@qmtl/qmtl/gateway";
 * const l: DependencyListener = (s) => console.log(s.name, s.up);
 * ```
 */
export type DependencyListener = (state: DependencyState) => void;

/**
 * What `/readyz` shows for a dependency: its state and the readiness verdict.
 *
 * @example
 * ```ts
 * import type { DependencyReadiness } from "@qmtl/qmtl/gateway";
 * const r: DependencyReadiness = { ok: false, detail: "connection refused", up: false, latencyMs: 2 };
 * ```
 */
export interface DependencyReadiness extends HealthStatus {
  /** The dependency answered. */
  up: boolean;
  /** Duration of the check, ms. */
  latencyMs: number;
  /** When it was checked. */
  checkedAt?: string;
  /** When `up` last changed. */
  since?: string;
  /** The last failure. */
  lastError?: string;
  /** When it happened. */
  lastErrorAt?: string;
  /** Redis: writes confirmed by replicas. */
  writesConfirmed?: boolean;
  /** Redis: replicas that confirmed the probe write. */
  replicasConfirmed?: number;
  /** Redis: replicas required. */
  replicasRequired?: number;
}

/**
 * Watches dependencies; see the module documentation.
 *
 * @example
 * ```ts
 * import { DependencyWatch } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * let up = true;
 * const watch = new DependencyWatch({
 *   probes: { neo4j: () => up ? Promise.resolve({ up: true, detail: "ok" }) : Promise.reject(new Error("refused")) },
 *   maxAgeMs: 0,
 * });
 * assert.equal((await watch.check("neo4j")).ok, true);
 * up = false;
 * const s = await watch.check("neo4j");
 * assert.equal(s.up, false);
 * assert.equal(s.lastError, "refused");
 * ```
 */
export class DependencyWatch {
  #probes: Record<string, Probe>;
  #timeoutMs: number;
  #maxAgeMs: number;
  #intervalMs: number;
  #clock: () => number;
  #logger?: Logger;
  #states = new Map<string, DependencyState>();
  #inflight = new Map<string, Promise<DependencyState>>();
  #listeners = new Set<DependencyListener>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #stopped = new AbortController();

  /**
   * Creates the watch (no check runs until `check()` or `start()`) and
   * registers its gauges.
   *
   * @param options Probes, bounds, clock, metrics, logger.
   */
  constructor(options: DependencyWatchOptions) {
    this.#probes = { ...options.probes };
    this.#timeoutMs = options.timeoutMs ?? 3_000;
    this.#maxAgeMs = options.maxAgeMs ?? 1_000;
    this.#intervalMs = options.intervalMs ?? 5_000;
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger;
    const m = options.metrics;
    if (m) {
      m.gauge(
        DEPENDENCY_UP,
        "1 when the dependency answered its last check, else 0.",
        () =>
          this.names.map((n) => ({
            labels: { dependency: n },
            value: this.#states.get(n)?.up ? 1 : 0,
          })),
      );
      m.gauge(
        DEPENDENCY_CHECK_SECONDS,
        "Duration of the dependency's last check, seconds.",
        () =>
          [...this.#states.values()].map((s) => ({
            labels: { dependency: s.name },
            value: s.latencyMs / 1000,
          })),
      );
      m.gauge(
        REDIS_WRITES_CONFIRMED,
        "1 when Redis writes are confirmed by the required replicas (WAIT), 0 when they cannot be (writes answer 503).",
        () =>
          [...this.#states.values()]
            .filter((s) => s.writesConfirmed !== undefined)
            .map((s) => ({
              labels: { dependency: s.name },
              value: s.writesConfirmed ? 1 : 0,
            })),
      );
    }
  }

  /** Names of the watched dependencies. */
  get names(): string[] {
    return Object.keys(this.#probes);
  }

  /** The last state of `name`, if checked. */
  state(name: string): DependencyState | undefined {
    return this.#states.get(name);
  }

  /**
   * Adds a listener called after every check; returns its remover.
   *
   * @param listener Called with the new state.
   * @returns Unsubscribe.
   */
  onCheck(listener: DependencyListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Check `name` now, or reuse a check younger than `maxAgeMs` or one in
   * flight. Never throws for a failing dependency (its state says so).
   *
   * @param name A dependency.
   * @returns Its state.
   */
  check(name: string): Promise<DependencyState> {
    const probe = this.#probes[name];
    if (!probe) {
      return Promise.reject(new RangeError(`no dependency named "${name}"`));
    }
    const last = this.#states.get(name);
    if (
      last && this.#maxAgeMs > 0 &&
      this.#clock() - Date.parse(last.checkedAt) < this.#maxAgeMs
    ) return Promise.resolve(last);
    let p = this.#inflight.get(name);
    if (p === undefined) {
      p = this.#run(name, probe).finally(() => this.#inflight.delete(name));
      this.#inflight.set(name, p);
    }
    return p;
  }

  /** Check every dependency (in parallel). */
  checkAll(): Promise<DependencyState[]> {
    return Promise.all(this.names.map((n) => this.check(n)));
  }

  /**
   * Readiness checks for `createGateway({readiness})`: one per dependency.
   *
   * @example
   * ```ts
   * import { DependencyWatch } from "@qmtl/qmtl/gateway";
   * import assert from "node:assert/strict";
   * const w = new DependencyWatch({ probes: { neo4j: () => Promise.resolve({ up: true, detail: "ok" }) } });
   * const r = await w.readiness().neo4j();
   * assert.equal(r.ok, true);
   * ```
   */
  readiness(): Record<string, () => Promise<DependencyReadiness>> {
    return Object.fromEntries(
      this.names.map((n) => [n, async () => toReadiness(await this.check(n))]),
    );
  }

  /** Start periodic checks (first one now). Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const tick = async () => {
      await this.checkAll().catch(() => {});
      if (!this.#running) return;
      this.#timer = setTimeout(() => {
        this.#loop = tick();
      }, this.#intervalMs);
    };
    this.#loop = tick();
  }

  /** Stop periodic checks and abort probes in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#stopped.abort();
    await this.#loop?.catch(() => {});
    await Promise.allSettled([...this.#inflight.values()]);
  }

  async #run(name: string, probe: Probe): Promise<DependencyState> {
    const ac = new AbortController();
    const onStop = () => ac.abort();
    this.#stopped.signal.addEventListener("abort", onStop);
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let result: ProbeResult;
    let error: string | undefined;
    try {
      result = await Promise.race([
        probe(ac.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            // Reject first: the probe may reject synchronously on abort.
            reject(new Error(`no answer within ${this.#timeoutMs} ms`));
            ac.abort();
          }, this.#timeoutMs);
        }),
      ]);
      if (!result.up) error = result.detail;
    } catch (e) {
      error = (e as Error)?.message ?? String(e);
      result = { up: false, detail: error };
    } finally {
      clearTimeout(timer);
      this.#stopped.signal.removeEventListener("abort", onStop);
    }
    const latencyMs = Math.round((performance.now() - t0) * 10) / 10;
    const now = this.#clock();
    const prev = this.#states.get(name);
    const changed = prev === undefined || prev.up !== result.up;
    const sinceMs = changed ? now : prev.sinceMs;
    const state: DependencyState = {
      ...result,
      name,
      ok: result.up && result.writesConfirmed !== false,
      latencyMs,
      checkedAt: new Date(now).toISOString(),
      since: new Date(sinceMs).toISOString(),
      sinceMs,
      lastError: error ?? prev?.lastError,
      lastErrorAt: error !== undefined
        ? new Date(now).toISOString()
        : prev?.lastErrorAt,
    };
    if (!result.up) state.detail = `unreachable: ${result.detail}`;
    if (result.writesConfirmed === false && error === undefined) {
      state.lastError = result.detail;
      state.lastErrorAt = state.checkedAt;
    }
    this.#states.set(name, state);
    if (prev !== undefined && prev.ok !== state.ok) {
      const log = state.ok ? this.#logger?.info : this.#logger?.warn;
      log?.call(
        this.#logger,
        `dependency ${name} ${state.ok ? "ok" : "not ok"}`,
        {
          dependency: name,
          up: state.up,
          writesConfirmed: state.writesConfirmed,
          detail: state.detail,
        },
      );
    }
    for (const l of [...this.#listeners]) {
      try {
        l(state);
      } catch (e) {
        this.#logger?.error("dependency listener failed", { error: e });
      }
    }
    return state;
  }
}

function toReadiness(s: DependencyState): DependencyReadiness {
  const r: DependencyReadiness = {
    ok: s.ok,
    detail: s.detail,
    up: s.up,
    latencyMs: s.latencyMs,
    checkedAt: s.checkedAt,
    since: s.since,
  };
  if (s.lastError !== undefined) {
    r.lastError = s.lastError;
    r.lastErrorAt = s.lastErrorAt;
  }
  if (s.writesConfirmed !== undefined) {
    r.writesConfirmed = s.writesConfirmed;
    r.replicasConfirmed = s.replicasConfirmed;
    r.replicasRequired = s.replicasRequired;
  }
  return r;
}
