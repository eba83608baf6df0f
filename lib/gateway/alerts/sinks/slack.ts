/**
 * Slack incoming-webhook sink.
 *
 * @module
 */

import type { Alert, AlertSink } from "../types.ts";
import { alertTitle, checkSinkUrl, postJson } from "./format.ts";

/**
 * Options of {@link slackSink}.
 *
 * @example
 * ```ts
 * import type { SlackSinkOptions } from "@qmtl/qmtl/gateway";
 * const o: SlackSinkOptions = { url: "https://hooks.slack.com/services/T000/B000/XXXX" };
 * ```
 */
export interface SlackSinkOptions {
  /** The incoming-webhook URL (a secret: it is never logged). */
  url: string;
  /** Sink name in logs and metrics; default `slack`. */
  name?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The Slack message of an alert: `text` (notification fallback) and
 * Block Kit `blocks` (title, details as fields, time and runbook).
 *
 * @example
 * ```ts
 * import { slackMessage } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const m = slackMessage({
 *   condition: "dead_letters", severity: "warning", status: "firing", summary: "3 <jobs>",
 *   details: { queue: "diff" }, time: "2026-01-01T00:00:00.000Z", dedupKey: "k",
 * });
 * assert.equal(m.text, "[WARNING] dead_letters: 3 &lt;jobs&gt;");
 * ```
 */
export function slackMessage(
  alert: Alert,
): { text: string; blocks: Record<string, unknown>[] } {
  const text = esc(alertTitle(alert));
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${text}*` } },
  ];
  const fields = Object.entries(alert.details).slice(0, 10).map((
    [k, v],
  ) => ({ type: "mrkdwn", text: `*${esc(k)}*\n${esc(String(v))}` }));
  if (fields.length > 0) blocks.push({ type: "section", fields });
  blocks.push({
    type: "context",
    elements: [{
      type: "mrkdwn",
      text:
        `${esc(alert.time)} · severity ${alert.severity} · ${alert.status}` +
        ` · runbook: docs/operations.md#${esc(alert.condition)}`,
    }],
  });
  return { text, blocks };
}

/**
 * A sink posting {@link slackMessage} to a Slack incoming webhook.
 *
 * @example
 * ```ts
 * import { slackSink } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * assert.equal(slackSink({ url: "https://hooks.slack.com/services/T/B/X" }).name, "slack");
 * ```
 */
export function slackSink(options: SlackSinkOptions): AlertSink {
  const name = options.name ?? "slack";
  checkSinkUrl(name, options.url);
  return {
    name,
    send: (alert, signal) =>
      postJson(name, options.url, slackMessage(alert), signal),
  };
}
