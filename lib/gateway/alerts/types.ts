/**
 * The shape of an alert and of the places alerts are sent to.
 *
 * @module
 */

/**
 * How urgent an alert is. Recovery alerts (`status: "resolved"`) are `info`.
 *
 * @example
 * ```ts
 * import type { AlertSeverity } from "@qmtl/qmtl/gateway";
 * const s: AlertSeverity = "critical";
 * ```
 */
export type AlertSeverity = "critical" | "warning" | "info";

/**
 * `firing` when a condition starts, `resolved` when it ends (only conditions
 * with a recovery send one).
 *
 * @example
 * ```ts
 * import type { AlertStatus } from "@qmtl/qmtl/gateway";
 * const s: AlertStatus = "resolved";
 * ```
 */
export type AlertStatus = "firing" | "resolved";

/**
 * Values of {@link Alert.details}: flat, printable, never a secret.
 *
 * @example
 * ```ts
 * import type { AlertDetails } from "@qmtl/qmtl/gateway";
 * const d: AlertDetails = { dependency: "redis", downForMs: 31_000 };
 * ```
 */
export type AlertDetails = Record<string, string | number | boolean>;

/**
 * One alert, as logged and as handed to every {@link AlertSink}.
 *
 * @example
 * ```ts
 * import type { Alert } from "@qmtl/qmtl/gateway";
 * const a: Alert = {
 *   condition: "redis_failover", severity: "critical", status: "firing",
 *   summary: "Redis master qmtl failed over to 127.0.0.1:16380",
 *   details: { master: "qmtl" }, time: "2026-01-01T00:00:00.000Z",
 *   dedupKey: "redis_failover|qmtl|firing",
 * };
 * ```
 */
export interface Alert {
  /** Condition id, e.g. `redis_failover` (see `ALERT_CONDITIONS`). */
  condition: string;
  /** Severity. */
  severity: AlertSeverity;
  /** Whether the condition started or ended. */
  status: AlertStatus;
  /** One line for humans. */
  summary: string;
  /** Facts about this occurrence. */
  details: AlertDetails;
  /** When it was raised (ISO 8601, from the alerter's clock). */
  time: string;
  /** Alerts with the same key inside the de-duplication window are sent once. */
  dedupKey: string;
}

/**
 * What a condition source passes to `Alerter.raise`: an {@link Alert}
 * without the fields the alerter fills in. `subject` (what the alert is
 * about: a master name, an address, a queue) makes the de-duplication key
 * `condition|subject|status` unless `dedupKey` is given.
 *
 * @example
 * ```ts
 * import type { AlertInput } from "@qmtl/qmtl/gateway";
 * const a: AlertInput = {
 *   condition: "runner_lease_takeover", summary: "runner r2 took over node n1",
 *   subject: "n1", details: { node: "n1", from: "r1", to: "r2" },
 * };
 * ```
 */
export interface AlertInput {
  /** Condition id. */
  condition: string;
  /** One line for humans. */
  summary: string;
  /** Default: the condition's severity (`info` when resolved). */
  severity?: AlertSeverity;
  /** Default `firing`. */
  status?: AlertStatus;
  /** Facts; default none. */
  details?: AlertDetails;
  /** What the alert is about; part of the default de-duplication key. */
  subject?: string;
  /** Explicit de-duplication key. */
  dedupKey?: string;
}

/**
 * A place alerts are delivered to (webhook, Slack, e-mail, …). `send` must
 * honour `signal` (aborted when the alerter's timeout passes); a rejection
 * counts as a failed delivery. Error messages must not contain secrets
 * (URLs with tokens, passwords): they are logged.
 *
 * @example
 * ```ts
 * import type { Alert, AlertSink } from "@qmtl/qmtl/gateway";
 * const seen: Alert[] = [];
 * const memory: AlertSink = {
 *   name: "memory",
 *   send(alert) {
 *     seen.push(alert);
 *     return Promise.resolve();
 *   },
 * };
 * ```
 */
export interface AlertSink {
  /** Label of the sink in logs and metrics (`webhook`, `slack`, `email`). */
  readonly name: string;
  /** Deliver one alert. */
  send(alert: Alert, signal: AbortSignal): Promise<void>;
  /** Release connections (optional). */
  close?(): Promise<void>;
}

/**
 * The part of the alerter a condition source needs.
 *
 * @example
 * ```ts
 * import type { AlertRaiser } from "@qmtl/qmtl/gateway";
 * const raised: string[] = [];
 * const r: AlertRaiser = {
 *   raise(a) {
 *     raised.push(a.condition);
 *     return "raised";
 *   },
 * };
 * ```
 */
export interface AlertRaiser {
  /** Raise an alert; never throws, never waits for delivery. */
  raise(input: AlertInput): RaiseOutcome;
}

/**
 * What `raise` did: `raised` (logged, counted, queued for every sink),
 * `duplicate` (same key inside the window: only counted as suppressed),
 * `invalid` (no condition id: logged and dropped) or `closed` (the alerter
 * was closed).
 *
 * @example
 * ```ts
 * import type { RaiseOutcome } from "@qmtl/qmtl/gateway";
 * const o: RaiseOutcome = "duplicate";
 * ```
 */
export type RaiseOutcome = "raised" | "duplicate" | "invalid" | "closed";
