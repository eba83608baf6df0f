/**
 * Alerts: an {@link Alerter} with de-duplication, per-sink rate limits and
 * bounded asynchronous delivery; sinks for a JSON webhook, Slack and e-mail
 * (SMTP through nodemailer); and condition sources (Sentinel events,
 * dependency watch, unconfirmed writes, dead letters, failing strategies,
 * missing Neo4j schema, runner lease takeovers).
 *
 * @example
 * ```ts
 * import { Alerter, webhookSink } from "@qmtl/qmtl/gateway";
 * const alerter = new Alerter({ sinks: [webhookSink({ url: "https://alerts.example/qmtl" })] });
 * await alerter.close();
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./conditions.ts";
export * from "./rate_limit.ts";
export * from "./alerter.ts";
export * from "./sinks/format.ts";
export * from "./sinks/webhook.ts";
export * from "./sinks/slack.ts";
export * from "./sinks/email.ts";
export * from "./sources/poller.ts";
export * from "./sources/sentinel.ts";
export * from "./sources/dependency.ts";
export * from "./sources/durability.ts";
export * from "./sources/dead_letters.ts";
export * from "./sources/failed_strategies.ts";
export * from "./sources/schema.ts";
export * from "./sources/lease_takeover.ts";
