/**
 * Generic JSON webhook sink: POSTs {@link AlertPayload} to a URL.
 *
 * @module
 */

import type { AlertSink } from "../types.ts";
import { alertPayload, checkSinkUrl, postJson } from "./format.ts";

/**
 * Options of {@link webhookSink}.
 *
 * @example
 * ```ts
 * import type { WebhookSinkOptions } from "@qmtl/qmtl/gateway";
 * const o: WebhookSinkOptions = { url: "https://alerts.example/qmtl" };
 * ```
 */
export interface WebhookSinkOptions {
  /** http(s) URL that receives a POST per alert (2xx = delivered). */
  url: string;
  /** Sink name in logs and metrics; default `webhook`. */
  name?: string;
  /** Extra request headers (e.g. an authorization header). */
  headers?: Record<string, string>;
}

/**
 * A sink that POSTs each alert as JSON
 * (`{source, condition, severity, status, summary, details, time, dedupKey, runbook}`).
 *
 * @example
 * ```ts
 * import { webhookSink } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const sink = webhookSink({ url: "https://alerts.example/qmtl" });
 * assert.equal(sink.name, "webhook");
 * ```
 */
export function webhookSink(options: WebhookSinkOptions): AlertSink {
  const name = options.name ?? "webhook";
  checkSinkUrl(name, options.url);
  return {
    name,
    send: (alert, signal) =>
      postJson(name, options.url, alertPayload(alert), signal, options.headers),
  };
}
