/**
 * `Alerter`: takes alerts from condition sources and delivers them to every
 * sink without ever blocking or failing the caller.
 *
 * - de-duplicates: an alert with the same key inside `dedupWindowMs` is
 *   counted as suppressed and not sent again;
 * - logs every raised alert as one structured line and counts it
 *   (`qmtl_alerts_total{condition,severity}`);
 * - per sink: a bounded outbox (the oldest waiting alert is dropped when
 *   full), a rate limit (alerts per rolling minute), one delivery at a time,
 *   each attempt bounded by `sinkTimeoutMs` (the sink's signal is aborted,
 *   and a sink that ignores it is no longer waited for), a few retries with
 *   backoff; every outcome is counted
 *   (`qmtl_alert_deliveries_total{sink,outcome}`);
 * - `close()` flushes within a bound.
 *
 * @module
 */

import { pause } from "../../queue/pause.ts";
import type { Logger } from "../logger/mod.ts";
import type { Metrics } from "../metrics/mod.ts";
import { ALERT_CONDITIONS, alertCondition } from "./conditions.ts";
import { SlidingWindowLimiter } from "./rate_limit.ts";
import type {
  Alert,
  AlertInput,
  AlertRaiser,
  AlertSink,
  RaiseOutcome,
} from "./types.ts";

/** Metric family: alerts raised. */
export const ALERTS_TOTAL = "qmtl_alerts_total";
/** Metric family: alert deliveries per sink and outcome. */
export const ALERT_DELIVERIES_TOTAL = "qmtl_alert_deliveries_total";
/** Metric family: alerts suppressed as duplicates. */
export const ALERTS_SUPPRESSED_TOTAL = "qmtl_alerts_suppressed_total";

/**
 * Outcomes of one alert at one sink, as counted in
 * `qmtl_alert_deliveries_total{outcome}`.
 *
 * @example
 * ```ts
 * import { DELIVERY_OUTCOMES } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * assert.ok(DELIVERY_OUTCOMES.includes("timeout"));
 * ```
 */
export const DELIVERY_OUTCOMES = [
  "ok",
  "error",
  "timeout",
  "rate_limited",
  "dropped",
] as const;

/**
 * One of {@link DELIVERY_OUTCOMES}.
 *
 * @example
 * ```ts
 * import type { DeliveryOutcome } from "@qmtl/qmtl/gateway";
 * const o: DeliveryOutcome = "ok";
 * ```
 */
export type DeliveryOutcome = typeof DELIVERY_OUTCOMES[number];

/**
 * Options of {@link Alerter}.
 *
 * @example
 * ```ts
 * import type { AlerterOptions } from "@qmtl/qmtl/gateway";
 * const o: AlerterOptions = { dedupWindowMs: 600_000, rateLimitPerMinute: 20 };
 * ```
 */
export interface AlerterOptions {
  /** Where alerts go; default none (alerts are still logged and counted). */
  sinks?: AlertSink[];
  /** Same key inside this window is sent once, ms; default 600000 (0 = off). */
  dedupWindowMs?: number;
  /** Alerts per sink per rolling minute; default 20. */
  rateLimitPerMinute?: number;
  /** Alerts waiting per sink; the oldest is dropped beyond it; default 100. */
  outboxSize?: number;
  /** Bound of one delivery attempt, ms; default 5000. */
  sinkTimeoutMs?: number;
  /** Attempts per alert per sink; default 3. */
  attempts?: number;
  /** Delay before the second attempt, doubled after; ms; default 1000. */
  retryDelayMs?: number;
  /** Clock of de-duplication, rate limits and alert times; default `Date.now`. */
  clock?: () => number;
  /** Structured log of every alert and failed delivery. */
  logger?: Logger;
  /** Counters go here when given. */
  metrics?: Metrics;
}

interface SinkState {
  sink: AlertSink;
  outbox: Alert[];
  running: boolean;
  limiter: SlidingWindowLimiter;
  count: Record<DeliveryOutcome, (by?: number) => void>;
  abort?: AbortController;
}

/**
 * Raises alerts to sinks; see the module documentation.
 *
 * @example
 * ```ts
 * import { Alerter, type Alert } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const got: Alert[] = [];
 * const alerter = new Alerter({
 *   sinks: [{ name: "memory", send: (a) => { got.push(a); return Promise.resolve(); } }],
 * });
 * alerter.raise({ condition: "dead_letters", summary: "3 jobs dead-lettered", subject: "diff" });
 * assert.equal(alerter.raise({ condition: "dead_letters", summary: "again", subject: "diff" }), "duplicate");
 * await alerter.close();
 * assert.equal(got.length, 1);
 * assert.equal(got[0].severity, "warning");
 * ```
 */
export class Alerter implements AlertRaiser {
  #sinks: SinkState[];
  #dedupMs: number;
  #seen = new Map<string, number>();
  #outboxSize: number;
  #timeoutMs: number;
  #attempts: number;
  #retryDelayMs: number;
  #clock: () => number;
  #logger?: Logger;
  #metrics?: Metrics;
  #closed = false;
  #stop = new AbortController();
  #idle: (() => void)[] = [];

  /**
   * Creates the alerter and declares its metric families (every known
   * condition and every sink × outcome start at 0).
   *
   * @param options Sinks, limits, clock, logger, metrics.
   */
  constructor(options: AlerterOptions = {}) {
    const int = (
      name: string,
      v: number | undefined,
      d: number,
      min: number,
    ) => {
      const n = v ?? d;
      if (!Number.isSafeInteger(n) || n < min) {
        throw new RangeError(`Alerter: ${name} must be an integer ≥ ${min}`);
      }
      return n;
    };
    this.#dedupMs = int("dedupWindowMs", options.dedupWindowMs, 600_000, 0);
    const perMinute = int(
      "rateLimitPerMinute",
      options.rateLimitPerMinute,
      20,
      1,
    );
    this.#outboxSize = int("outboxSize", options.outboxSize, 100, 1);
    this.#timeoutMs = int("sinkTimeoutMs", options.sinkTimeoutMs, 5_000, 1);
    this.#attempts = int("attempts", options.attempts, 3, 1);
    this.#retryDelayMs = int("retryDelayMs", options.retryDelayMs, 1_000, 0);
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    const m = this.#metrics;
    m?.family(
      ALERTS_TOTAL,
      "counter",
      "Alerts raised, by condition and severity.",
    );
    m?.family(
      ALERT_DELIVERIES_TOTAL,
      "counter",
      "Alert deliveries by sink and outcome (ok, error, timeout, rate_limited, dropped).",
    );
    m?.family(
      ALERTS_SUPPRESSED_TOTAL,
      "counter",
      "Alerts not sent again because the same key was raised inside the de-duplication window.",
    );
    for (const c of ALERT_CONDITIONS) {
      this.#countRaised(c.id, c.severity, 0);
      if (c.recovers) this.#countRaised(c.id, "info", 0);
    }
    const names = new Set<string>();
    this.#sinks = (options.sinks ?? []).map((sink) => {
      if (names.has(sink.name)) {
        throw new RangeError(`Alerter: two sinks are named "${sink.name}"`);
      }
      names.add(sink.name);
      const count = Object.fromEntries(
        DELIVERY_OUTCOMES.map((o) => [
          o,
          m
            ? m.counterSeries(
              ALERT_DELIVERIES_TOTAL,
              "Alert deliveries by sink and outcome.",
              { sink: sink.name, outcome: o },
            )
            : () => {},
        ]),
      ) as SinkState["count"];
      return {
        sink,
        outbox: [],
        running: false,
        limiter: new SlidingWindowLimiter(perMinute, 60_000),
        count,
      };
    });
  }

  /** Names of the configured sinks. */
  get sinkNames(): string[] {
    return this.#sinks.map((s) => s.sink.name);
  }

  /** Alerts waiting or being delivered, over every sink. */
  get pending(): number {
    return this.#sinks.reduce(
      (n, s) => n + s.outbox.length + (s.running ? 1 : 0),
      0,
    );
  }

  /**
   * Raise an alert: de-duplicate, log, count, queue for every sink and
   * return at once. Never throws (a malformed input is logged and dropped).
   *
   * @param input The alert.
   * @returns What happened to it.
   */
  raise(input: AlertInput): RaiseOutcome {
    if (this.#closed) return "closed";
    let alert: Alert;
    try {
      alert = this.#normalise(input);
    } catch (e) {
      this.#logger?.error("alert dropped: malformed", {
        condition: String(input?.condition),
        error: e,
      });
      return "invalid";
    }
    const now = this.#clock();
    if (this.#dedupMs > 0) {
      const last = this.#seen.get(alert.dedupKey);
      if (last !== undefined && now - last < this.#dedupMs) {
        this.#metrics?.inc(
          ALERTS_SUPPRESSED_TOTAL,
          "Alerts suppressed as duplicates.",
          { condition: alert.condition },
        );
        this.#logger?.debug("alert suppressed (duplicate)", {
          condition: alert.condition,
          dedupKey: alert.dedupKey,
        });
        return "duplicate";
      }
      this.#seen.set(alert.dedupKey, now);
      if (this.#seen.size > 1_000) {
        for (const [k, t] of this.#seen) {
          if (now - t >= this.#dedupMs) this.#seen.delete(k);
        }
      }
    }
    const fields = {
      condition: alert.condition,
      severity: alert.severity,
      status: alert.status,
      summary: alert.summary,
      details: alert.details,
      dedupKey: alert.dedupKey,
      alertTime: alert.time,
      sinks: this.sinkNames,
    };
    if (alert.status === "resolved") this.#logger?.info("alert", fields);
    else if (alert.severity === "critical") {
      this.#logger?.error("alert", fields);
    } else this.#logger?.warn("alert", fields);
    this.#countRaised(alert.condition, alert.severity, 1);
    for (const s of this.#sinks) {
      if (!s.limiter.take(now)) {
        s.count.rate_limited();
        this.#logger?.warn("alert not sent: sink rate limit", {
          sink: s.sink.name,
          condition: alert.condition,
        });
        continue;
      }
      if (s.outbox.length >= this.#outboxSize) {
        const dropped = s.outbox.shift()!;
        s.count.dropped();
        this.#logger?.warn("alert dropped: sink outbox full", {
          sink: s.sink.name,
          condition: dropped.condition,
        });
      }
      s.outbox.push(alert);
      this.#pump(s);
    }
    return "raised";
  }

  /** Resolves once every outbox is empty and no delivery runs (tests). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /**
   * Stop taking alerts, give waiting deliveries up to `timeoutMs` (default
   * 5000) to finish, abort the rest (counted as `dropped`), close the sinks.
   *
   * @param timeoutMs Flush bound, ms.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((r) => timer = setTimeout(r, timeoutMs)),
    ]);
    clearTimeout(timer);
    this.#stop.abort();
    for (const s of this.#sinks) {
      if (s.outbox.length > 0) {
        s.count.dropped(s.outbox.length);
        this.#logger?.warn("alerts not delivered before close", {
          sink: s.sink.name,
          count: s.outbox.length,
        });
        s.outbox = [];
      }
      s.abort?.abort();
    }
    await Promise.all(this.#sinks.map(async (s) => {
      try {
        await s.sink.close?.();
      } catch (e) {
        this.#logger?.warn("alert sink close failed", {
          sink: s.sink.name,
          error: e,
        });
      }
    }));
    this.#wakeIdle();
  }

  #normalise(input: AlertInput): Alert {
    if (typeof input.condition !== "string" || input.condition === "") {
      throw new TypeError("condition must be a non-empty string");
    }
    const status = input.status ?? "firing";
    const severity = input.severity ??
      (status === "resolved"
        ? "info"
        : alertCondition(input.condition)?.severity ?? "warning");
    const details: Alert["details"] = {};
    for (const [k, v] of Object.entries(input.details ?? {})) {
      if (
        typeof v === "string" || typeof v === "number" || typeof v === "boolean"
      ) details[k] = v;
    }
    return {
      condition: input.condition,
      severity,
      status,
      summary: String(input.summary ?? input.condition),
      details,
      time: new Date(this.#clock()).toISOString(),
      dedupKey: input.dedupKey ??
        `${input.condition}|${input.subject ?? ""}|${status}`,
    };
  }

  #countRaised(condition: string, severity: string, by: number): void {
    this.#metrics?.inc(
      ALERTS_TOTAL,
      "Alerts raised, by condition and severity.",
      { condition, severity },
      by,
    );
  }

  #pump(s: SinkState): void {
    if (s.running) return;
    s.running = true;
    (async () => {
      try {
        while (s.outbox.length > 0 && !this.#stop.signal.aborted) {
          const alert = s.outbox.shift()!;
          await this.#deliver(s, alert);
        }
      } catch (e) {
        // #deliver does not throw; a bug here must still not escape.
        this.#logger?.error("alert pump failed", { error: e });
      } finally {
        s.running = false;
        this.#wakeIdle();
      }
    })();
  }

  async #deliver(s: SinkState, alert: Alert): Promise<void> {
    let outcome: "ok" | "error" | "timeout" = "error";
    let error: unknown;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      [outcome, error] = await this.#attempt(s, alert);
      if (outcome === "ok" || this.#stop.signal.aborted) break;
      if (attempt < this.#attempts) {
        await pause(
          this.#retryDelayMs * 2 ** (attempt - 1),
          this.#stop.signal,
        );
        if (this.#stop.signal.aborted) break;
      }
    }
    s.count[outcome]();
    if (outcome !== "ok") {
      this.#logger?.warn("alert delivery failed", {
        sink: s.sink.name,
        condition: alert.condition,
        outcome,
        attempts: this.#attempts,
        error: error instanceof Error
          ? { name: error.name, message: error.message }
          : String(error),
      });
    }
  }

  async #attempt(
    s: SinkState,
    alert: Alert,
  ): Promise<["ok" | "error" | "timeout", unknown]> {
    const ac = new AbortController();
    s.abort = ac;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Settles when the attempt times out or close() aborts it, so a sink
    // that ignores its signal is not waited for.
    const abandoned = new Promise<["timeout", unknown]>((resolve) => {
      const done = () =>
        resolve([
          "timeout",
          new Error(`timed out after ${this.#timeoutMs} ms`),
        ]);
      ac.signal.addEventListener("abort", done, { once: true });
      timer = setTimeout(() => {
        ac.abort(new DOMException("alert sink timed out", "TimeoutError"));
      }, this.#timeoutMs);
    });
    let sent: Promise<["ok" | "error", unknown]>;
    try {
      sent = s.sink.send(alert, ac.signal).then(
        () => ["ok", undefined],
        (e) => ["error", e],
      );
    } catch (e) {
      sent = Promise.resolve(["error", e]);
    }
    try {
      return await Promise.race([sent, abandoned]);
    } finally {
      clearTimeout(timer);
      s.abort = undefined;
    }
  }

  #wakeIdle(): void {
    if (this.pending !== 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const r of waiting) r();
  }
}
