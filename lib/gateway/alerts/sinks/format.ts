/**
 * Text forms of an alert shared by the sinks, and error text without
 * secrets.
 *
 * @module
 */

import type { Alert } from "../types.ts";

/**
 * The JSON body of the generic webhook sink.
 *
 * @example
 * ```ts
 * import type { AlertPayload } from "@qmtl/qmtl/gateway";
 * function show(p: AlertPayload): string {
 *   return `${p.severity} ${p.condition}: ${p.summary}`;
 * }
 * ```
 */
export interface AlertPayload extends Alert {
  /** Always `"qmtl"`. */
  source: "qmtl";
  /** Where the runbook of this condition lives. */
  runbook: string;
}

/**
 * The alert as the webhook sink posts it.
 *
 * @example
 * ```ts
 * import { alertPayload } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const p = alertPayload({
 *   condition: "dead_letters", severity: "warning", status: "firing", summary: "s",
 *   details: {}, time: "2026-01-01T00:00:00.000Z", dedupKey: "k",
 * });
 * assert.equal(p.runbook, "docs/operations.md#dead_letters");
 * ```
 */
export function alertPayload(alert: Alert): AlertPayload {
  return {
    source: "qmtl",
    ...alert,
    runbook: `docs/operations.md#${alert.condition}`,
  };
}

/**
 * One-line title: `[CRITICAL] redis_failover: <summary>` (`[RESOLVED]` for
 * recoveries), without control characters, at most 200 characters.
 *
 * @example
 * ```ts
 * import { alertTitle } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const t = alertTitle({
 *   condition: "dead_letters", severity: "warning", status: "firing", summary: "3 jobs\r\nBcc: x",
 *   details: {}, time: "", dedupKey: "k",
 * });
 * assert.equal(t, "[WARNING] dead_letters: 3 jobs Bcc: x");
 * ```
 */
export function alertTitle(alert: Alert): string {
  const tag = alert.status === "resolved"
    ? "RESOLVED"
    : alert.severity.toUpperCase();
  const line = `[${tag}] ${alert.condition}: ${alert.summary}`.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f]+/g,
    " ",
  );
  return line.length > 200 ? line.slice(0, 199) + "…" : line;
}

/**
 * Plain-text body: title, time, status, details one per line, runbook.
 *
 * @example
 * ```ts
 * import { alertText } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const t = alertText({
 *   condition: "dead_letters", severity: "warning", status: "firing", summary: "3 jobs",
 *   details: { queue: "diff" }, time: "2026-01-01T00:00:00.000Z", dedupKey: "k",
 * });
 * assert.match(t, /queue: diff/);
 * ```
 */
export function alertText(alert: Alert): string {
  const lines = [
    alertTitle(alert),
    "",
    `condition: ${alert.condition}`,
    `severity:  ${alert.severity}`,
    `status:    ${alert.status}`,
    `time:      ${alert.time}`,
  ];
  const keys = Object.keys(alert.details);
  if (keys.length > 0) {
    lines.push("", "details:");
    for (const k of keys) lines.push(`  ${k}: ${alert.details[k]}`);
  }
  lines.push(
    "",
    `What it means and what to do: docs/operations.md#${alert.condition}`,
  );
  return lines.join("\n") + "\n";
}

/**
 * An error message with URLs and `user:password@` parts removed, for logs
 * (webhook URLs often carry a token).
 *
 * @example
 * ```ts
 * import { scrubSecrets } from "./format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   scrubSecrets("error sending request for url (https://hooks.example/T0/B0/XYZ)"),
 *   "error sending request for url (<url>)",
 * );
 * ```
 */
export function scrubSecrets(message: string): string {
  return message
    .replace(/[a-z][a-z0-9+.-]*:\/\/[^\s)'"]+/gi, "<url>")
    .replace(/\/\/[^/\s:@]+:[^/\s@]+@/g, "//<credentials>@");
}

/**
 * Why an alert could not be delivered; its message never holds a secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AlertDeliveryError } from "@qmtl/qmtl/gateway";
 * const e = new AlertDeliveryError("webhook", "answered HTTP 500");
 * assert.equal(e.message, "webhook: answered HTTP 500");
 * ```
 */
export class AlertDeliveryError extends Error {
  /** The sink. */
  readonly sink: string;
  /**
   * Creates the error; `message` is scrubbed of URLs and credentials.
   *
   * @param sink The sink's name.
   * @param message What went wrong (scrubbed of URLs).
   */
  constructor(sink: string, message: string) {
    super(`${sink}: ${scrubSecrets(message)}`);
    this.name = "AlertDeliveryError";
    this.sink = sink;
  }
}

/**
 * POST a JSON body; any failure becomes an {@link AlertDeliveryError}
 * without the URL. The response body is discarded.
 *
 * @example
 * ```ts ignore
 * import { postJson } from "./format.ts";
 * await postJson("webhook", "http://127.0.0.1:9/hook", { a: 1 }, AbortSignal.timeout(1000));
 * ```
 */
export async function postJson(
  sink: string,
  url: string,
  body: unknown,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "qmtl-alerter",
        ...headers,
      },
      body: JSON.stringify(body),
      signal,
      redirect: "error",
    });
  } catch (e) {
    throw new AlertDeliveryError(
      sink,
      signal.aborted ? "aborted (timeout)" : (e as Error).message ?? String(e),
    );
  }
  await res.body?.cancel().catch(() => {});
  if (!res.ok) {
    throw new AlertDeliveryError(sink, `answered HTTP ${res.status}`);
  }
}

/**
 * Checks a sink URL (http or https) without printing it (it may hold a
 * token).
 *
 * @example
 * ```ts
 * import { checkSinkUrl } from "./format.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkSinkUrl("slack", "ftp://x"), /slack: the URL must be http: or https:/);
 * ```
 */
export function checkSinkUrl(sink: string, url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${sink}: the URL is not a valid URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new TypeError(`${sink}: the URL must be http: or https:`);
  }
}
