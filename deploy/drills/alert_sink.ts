/**
 * An HTTP alert sink inside the drill process: the server's
 * `QMTL_ALERT_WEBHOOK_URL` points here, so every alert it delivers is
 * recorded with the time it arrived.
 *
 * @module
 */

import type { Timeline } from "./timeline.ts";

/** One alert as the sink received it. */
export interface ReceivedAlert {
  /** Arrival, ms since the drill started. */
  atMs: number;
  /** e.g. `redis_failover`. */
  condition: string;
  /** `firing` or `resolved`. */
  status: string;
  /** `critical`, `warning`, `info`. */
  severity: string;
  /** One line. */
  summary: string;
}

/**
 * Alerts counted by `condition/status`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countAlerts } from "./alert_sink.ts";
 * const a = { atMs: 0, severity: "critical", summary: "" };
 * assert.deepEqual(
 *   countAlerts([{ ...a, condition: "redis_failover", status: "firing" }, { ...a, condition: "redis_failover", status: "firing" }]),
 *   { "redis_failover/firing": 2 },
 * );
 * ```
 */
export function countAlerts(
  alerts: readonly ReceivedAlert[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of alerts) {
    const k = `${a.condition}/${a.status}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** A running sink. */
export interface AlertSink {
  /** The URL to give the server. */
  url: string;
  /** Every alert received so far, in arrival order. */
  readonly alerts: ReceivedAlert[];
  /** The first alert of a condition (and status, default `firing`). */
  first(condition: string, status?: string): ReceivedAlert | undefined;
  /** Stop listening. */
  close(): Promise<void>;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/**
 * Listen on 127.0.0.1 (a free port) for the server's JSON webhook alerts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startAlertSink } from "./alert_sink.ts";
 * import { Timeline } from "./timeline.ts";
 * const sink = startAlertSink(new Timeline());
 * await fetch(sink.url, { method: "POST", body: JSON.stringify({ condition: "c", status: "firing" }) });
 * assert.equal(sink.first("c")?.condition, "c");
 * await sink.close();
 * ```
 */
export function startAlertSink(clock: Timeline): AlertSink {
  const alerts: ReceivedAlert[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    if (req.method !== "POST") {
      return new Response("POST only", { status: 405 });
    }
    let body: Record<string, unknown>;
    try {
      const text = await req.text();
      if (text.length > 1 << 20) {
        return new Response("too big", { status: 413 });
      }
      body = JSON.parse(text);
    } catch {
      return new Response("expected JSON", { status: 400 });
    }
    alerts.push({
      atMs: clock.at(),
      condition: str(body.condition),
      status: str(body.status),
      severity: str(body.severity),
      summary: str(body.summary),
    });
    return new Response("ok");
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/alerts`,
    alerts,
    first: (condition, status = "firing") =>
      alerts.find((a) => a.condition === condition && a.status === status),
    close: () => server.shutdown(),
  };
}
