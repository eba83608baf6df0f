/**
 * Types of dependency health: what a probe reports and what the watch keeps.
 *
 * @module
 */

/**
 * What one probe of a dependency found.
 *
 * @example
 * ```ts
 * import type { ProbeResult } from "@qmtl/qmtl/gateway";
 * const r: ProbeResult = { up: true, detail: "PONG", writesConfirmed: true, replicasConfirmed: 1, replicasRequired: 1 };
 * ```
 */
export interface ProbeResult {
  /** The dependency answered. */
  up: boolean;
  /** Human-readable detail (version, or what failed). */
  detail: string;
  /**
   * Redis only, when writes must be confirmed by replicas: whether a probe
   * write was confirmed by `WAIT` in time. Absent when not required.
   */
  writesConfirmed?: boolean;
  /** Replicas that confirmed the probe write. */
  replicasConfirmed?: number;
  /** Replicas required (`QMTL_REDIS_WAIT_REPLICAS`). */
  replicasRequired?: number;
}

/**
 * A probe: checks one dependency. It may throw (counted as down, the
 * message becomes `lastError`); the watch bounds it with a timeout and
 * aborts `signal` then.
 *
 * @example
 * ```ts
 * import type { Probe } from "@qmtl/qmtl/gateway";
 * const alwaysUp: Probe = () => Promise.resolve({ up: true, detail: "ok" });
 * ```
 */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

/**
 * The last known state of a dependency, as `/readyz` reports it. `ok` (the
 * readiness verdict) is `up` and, where replica confirmation is required,
 * `writesConfirmed`.
 *
 * @example
 * ```ts
 * import type { DependencyState } from "@qmtl/qmtl/gateway";
 * function line(s: DependencyState): string {
 *   return `${s.name}: ${s.up ? "up" : "down"} (${s.latencyMs} ms) ${s.lastError ?? ""}`;
 * }
 * ```
 */
export interface DependencyState extends ProbeResult {
  /** Dependency name (`redis`, `neo4j`). */
  name: string;
  /** Readiness verdict. */
  ok: boolean;
  /** Duration of the last check, ms. */
  latencyMs: number;
  /** When the last check finished (ISO 8601). */
  checkedAt: string;
  /** When `up` last changed, or the first check (ISO 8601). */
  since: string;
  /** `since` in ms since the epoch (watch clock). */
  sinceMs: number;
  /** The last failure's message, if any check has failed. */
  lastError?: string;
  /** When that failure happened (ISO 8601). */
  lastErrorAt?: string;
}
