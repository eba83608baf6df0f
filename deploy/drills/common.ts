/**
 * Pieces both drills use: the server's configuration for a drill, its
 * tokens, the choice of registry for the failover drill, a metrics
 * snapshot, the time of the first completion among some strategies and the
 * client that reads the outcome.
 *
 * @module
 */

import { CONFIG_VARIABLES } from "../../lib/gateway/server/config.ts";
import { signDevToken } from "../../lib/gateway/mod.ts";
import { QmtlClient } from "../../sdk/mod.ts";
import type { LoggedLifecycle } from "./event_audit.ts";
import type { EventFeed } from "./event_feed.ts";
import type { Ack } from "./load.ts";
import type { Timing } from "./report.ts";

/** Issuer and audience of the drill's tokens (the server's defaults). */
const ISSUER = "qmtl", AUDIENCE = "qmtl-gateway";

/** A fresh HS256 secret for the drill's server (64 hex characters). */
export function randomSecret(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** A short random id for this run's names (8 hex characters). */
export function runId(): string {
  return randomSecret().slice(0, 8);
}

/** The two tokens of a drill (see {@linkcode drillTokens}). */
export interface DrillTokens {
  /** Role submitter: the load's clients. */
  load: string;
  /** Reader + operator: the drill's reads, events and `/metrics`. */
  observer: string;
}

/**
 * The two tokens of a drill: `load` (role submitter, subject `drill-load`)
 * and `observer` (reader + operator: every strategy, events, `/metrics`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drillTokens, randomSecret } from "./common.ts";
 * const t = await drillTokens(randomSecret());
 * assert.equal(t.load.split(".").length, 3);
 * ```
 */
export async function drillTokens(secret: string): Promise<DrillTokens> {
  const sign = (
    subject: string,
    roles: ("submitter" | "reader" | "operator")[],
  ) =>
    signDevToken({
      secret,
      issuer: ISSUER,
      audience: AUDIENCE,
      subject,
      roles,
      ttlS: 4 * 3600,
    });
  return {
    load: await sign("drill-load", ["submitter"]),
    observer: await sign("drill-observer", ["reader", "operator"]),
  };
}

/**
 * The server settings every drill uses: its secret, the alert sink, fast
 * checks, no alert rate limiting, no scheduled GC, and no submission rate
 * limit (the drill's load submits more than the default 120 per minute of
 * one subject; a 429 is not what a drill measures).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseServerEnv } from "./common.ts";
 * const env = baseServerEnv({ secret: "s".repeat(64), alertUrl: "http://127.0.0.1:1/alerts" });
 * assert.equal(env.QMTL_ALERT_WEBHOOK_URL, "http://127.0.0.1:1/alerts");
 * ```
 */
export function baseServerEnv(
  o: { secret: string; alertUrl: string },
): Record<string, string> {
  return {
    QMTL_JWT_SECRET: o.secret,
    QMTL_ALERT_WEBHOOK_URL: o.alertUrl,
    QMTL_ALERT_CHECK_INTERVAL_MS: "250",
    QMTL_ALERT_RATE_LIMIT_PER_MINUTE: "600",
    QMTL_GC_INTERVAL_MS: "0",
    QMTL_POLICY_SUBMISSIONS_PER_MINUTE: "0",
    QMTL_LOG_LEVEL: "info",
  };
}

/** The registry a failover drill's server uses, and why. */
export interface RegistryChoice {
  /** Server settings for it (none for memory). */
  env: Record<string, string>;
  /** One line for the report. */
  description: string;
  /** The throw-away namespace, when Neo4j is used. */
  namespace?: string;
}

/**
 * True when the server's configuration knows `QMTL_NEO4J_NAMESPACE` (the
 * registry has namespaces; the server may not expose them yet).
 */
export function serverSupportsNamespace(): boolean {
  return CONFIG_VARIABLES.some((v) => v.name === "QMTL_NEO4J_NAMESPACE");
}

/**
 * The failover drill's registry: the Neo4j of `QMTL_NEO4J_URL` in a
 * throw-away namespace when that is set and the server supports namespaces
 * (the drill must not write into a shared registry's data), otherwise the
 * in-memory registry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseRegistry } from "./common.ts";
 * assert.match(chooseRegistry({}).description, /^memory/);
 * ```
 */
export function chooseRegistry(
  env: Record<string, string | undefined>,
  id: string = "drill",
  supportsNamespace: boolean = serverSupportsNamespace(),
): RegistryChoice {
  const url = env.QMTL_NEO4J_URL;
  if (!url) {
    return { env: {}, description: "memory (QMTL_NEO4J_URL is not set)" };
  }
  if (!supportsNamespace) {
    return {
      env: {},
      description:
        `memory (QMTL_NEO4J_URL is set, but the server has no QMTL_NEO4J_NAMESPACE yet, and the drill does not write into a shared registry's data)`,
    };
  }
  const namespace = `drill_${id}`;
  const out: Record<string, string> = {
    QMTL_NEO4J_URL: url,
    QMTL_NEO4J_NAMESPACE: namespace,
    QMTL_NEO4J_MIGRATE: "auto",
  };
  for (
    const k of ["QMTL_NEO4J_USER", "QMTL_NEO4J_PASSWORD", "QMTL_NEO4J_DATABASE"]
  ) {
    if (env[k]) out[k] = env[k]!;
  }
  return {
    env: out,
    namespace,
    description:
      `neo4j ${url}, throw-away namespace ${namespace} (purged at the end)`,
  };
}

/**
 * The `qmtl_*` lines of `/metrics` whose family is in `families`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pickMetrics } from "./common.ts";
 * const text = "# HELP x\nqmtl_redis_failovers_total 1\nqmtl_other 2\n";
 * assert.deepEqual(pickMetrics(text, ["qmtl_redis_failovers_total"]), { "qmtl_redis_failovers_total": 1 });
 * ```
 */
export function pickMetrics(
  text: string,
  families: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of text.split("\n")) {
    if (l.startsWith("#")) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(l);
    if (!m || !families.includes(m[1])) continue;
    const v = Number(m[3]);
    if (v !== 0) out[m[1] + (m[2] ?? "")] = v;
  }
  return out;
}

/** `/metrics` of the server, filtered by {@linkcode pickMetrics}; `{}` when unreadable. */
export async function metricsSnapshot(
  url: string,
  token: string,
  families: readonly string[],
): Promise<Record<string, number>> {
  try {
    const res = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    return res.ok ? pickMetrics(text, families) : {};
  } catch {
    return {};
  }
}

/**
 * When the first of `acks` reached COMPLETED (ms since the drill started):
 * the COMPLETED event's time in the event log, or its arrival over SSE when
 * the log has none. Undefined when none did.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstCompletion } from "./common.ts";
 * const acks = [{ strategyId: "a", client: 0, seq: 0, atMs: 10, duplicateAck: false, calls: 1 }];
 * const log = new Map([["a", { types: [], completed: [{ id: "e", timeMs: 42 }] }]]);
 * assert.equal(firstCompletion(acks, log, { completions: () => [] }), 42);
 * ```
 */
export function firstCompletion(
  acks: readonly Ack[],
  log: Map<string, LoggedLifecycle>,
  feed: Pick<EventFeed, "completions">,
): number | undefined {
  let first: number | undefined;
  for (const a of acks) {
    const t = log.get(a.strategyId)?.completed[0]?.timeMs ??
      feed.completions(a.strategyId)[0]?.atMs;
    if (
      t !== undefined && !Number.isNaN(t) && (first === undefined || t < first)
    ) {
      first = t;
    }
  }
  return first;
}

/** Milliseconds between two offsets, or null when either is missing. */
export function between(
  from: number | undefined,
  to: number | undefined,
): number | null {
  return from === undefined || to === undefined ? null : to - from;
}

/**
 * A report timing from one offset to another ({@linkcode between}: null
 * when either is missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { span } from "./common.ts";
 * assert.deepEqual(span("promote", "kill → +switch-master", 100, 350), {
 *   key: "promote",
 *   label: "kill → +switch-master",
 *   ms: 250,
 * });
 * ```
 */
export function span(
  key: string,
  label: string,
  from: number | undefined,
  to: number | undefined,
): Timing {
  return { key, label, ms: between(from, to) };
}

/**
 * The client a drill reads outcomes with: the observer's token, few quick
 * retries (a drill measures, it does not wait out an outage in the client).
 *
 * @param url the server
 * @param token the observer token
 * @param requestTimeoutMs per request
 *
 * @example
 * ```ts ignore
 * import { observerClient } from "./common.ts";
 * const reader = observerClient(server.url, tokens.observer, 5_000);
 * ```
 */
export function observerClient(
  url: string,
  token: string,
  requestTimeoutMs: number,
): QmtlClient {
  return new QmtlClient({
    url,
    token,
    retry: { maxAttempts: 2, baseMs: 100, maxMs: 500 },
    requestTimeoutMs,
  });
}

/**
 * The `n` acknowledged strategies that took longest from acknowledgement to
 * COMPLETED (event-log time, else SSE arrival), slowest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slowestCompletions } from "./common.ts";
 * const ack = (strategyId: string, atMs: number) => ({ strategyId, client: 0, seq: 0, atMs, duplicateAck: false, calls: 1 });
 * const log = new Map([["a", { types: [], completed: [{ id: "e1", timeMs: 30 }] }], ["b", { types: [], completed: [{ id: "e2", timeMs: 15 }] }]]);
 * assert.deepEqual(slowestCompletions([ack("a", 10), ack("b", 10)], log, { completions: () => [] }, 1), [{ id: "a", ackAtMs: 10, completedAtMs: 30, ms: 20 }]);
 * ```
 */
export function slowestCompletions(
  acks: Iterable<Ack>,
  log: Map<string, LoggedLifecycle>,
  feed: Pick<EventFeed, "completions">,
  n = 3,
): { id: string; ackAtMs: number; completedAtMs: number; ms: number }[] {
  const out: {
    id: string;
    ackAtMs: number;
    completedAtMs: number;
    ms: number;
  }[] = [];
  for (const a of acks) {
    const t = log.get(a.strategyId)?.completed[0]?.timeMs ??
      feed.completions(a.strategyId)[0]?.atMs;
    if (t === undefined || Number.isNaN(t)) continue;
    out.push({
      id: a.strategyId,
      ackAtMs: a.atMs,
      completedAtMs: t,
      ms: t - a.atMs,
    });
  }
  return out.sort((x, y) => y.ms - x.ms).slice(0, n);
}
