/**
 * The drill report: what was set up, the timeline, the timings, what became
 * of every acknowledged strategy (completed, lost, completed twice), what
 * clients saw, the alerts the sink received, the checks and the verdict —
 * as JSON (`--json`) or as text for a person.
 *
 * @module
 */

import { countAlerts, type ReceivedAlert } from "./alert_sink.ts";
import type { CompletionResult } from "./completion.ts";
import type { LoggedLifecycle } from "./event_audit.ts";
import type { FeedEvent } from "./event_feed.ts";
import type { SentinelMessage } from "./sentinel_watch.ts";

/** One expectation of the drill and whether it held. */
export interface Check {
  /** What was expected, e.g. `redis_failover alert reached the sink`. */
  name: string;
  /** Whether it held. */
  ok: boolean;
  /** Evidence or what went wrong. */
  detail?: string;
}

/** A named duration of the drill, ms (null: did not happen). */
export interface Timing {
  /** Short key, e.g. `promote`. */
  key: string;
  /** What it measures, e.g. `kill → +switch-master`. */
  label: string;
  /** Milliseconds, or null when the end event never came. */
  ms: number | null;
}

/** What became of the acknowledged strategies. */
export interface StrategyTally {
  /** Distinct strategy ids the Gateway acknowledged. */
  acknowledged: number;
  /** Of those, COMPLETED when the drill ended. */
  completed: number;
  /** Acknowledged but not COMPLETED: pending, FAILED or unknown to the Gateway. */
  lost: number;
  /** Up to 20 of them with the reason. */
  lostSample: { id: string; reason: string }[];
  /** Strategies with more than one distinct COMPLETED event (event log or SSE). */
  duplicates: number;
  /** Up to 20 of them with the counts. */
  duplicateSample: { id: string; inLog: number; overSse: number }[];
  /** COMPLETED strategies with no COMPLETED event in the event log. */
  completedWithoutEvent: number;
  /** Acknowledgements that said `duplicate: true` (a retried submission that had been stored). */
  duplicateAcks: number;
  /** COMPLETED events in the event log, over all acknowledged strategies. */
  completedEventsInLog: number;
  /** COMPLETED events received over SSE, over all acknowledged strategies. */
  completedEventsOverSse: number;
}

/** What the clients saw. */
export interface ClientTally {
  /** Submitting clients. */
  clients: number;
  /** DAGs built (acknowledged or not). */
  submitted: number;
  /** Every HTTP answer of a submission attempt, by status. */
  httpStatuses: Record<string, number>;
  /** Errors that reached a client after the SDK's retries, by code. */
  errors: Record<string, number>;
  /** The first few of those errors. */
  errorSample: {
    atMs: number;
    client: number;
    code: string;
    message: string;
  }[];
}

/** A drill's full report. */
export interface DrillReport {
  /** Which drill. */
  drill: "failover" | "neo4j";
  /** `short` (CI) or `long` (default). */
  mode: "short" | "long";
  /** True when every check held (nothing lost or duplicated, …). */
  ok: boolean;
  /** The checks that failed, one line each. */
  problems: string[];
  /** Start, ISO 8601. */
  startedAt: string;
  /** Whole drill, ms. */
  durationMs: number;
  /** What was started and how (name → one line). */
  setup: Record<string, string>;
  /** Timeline marks, ms since the start. */
  marks: Record<string, number>;
  /** The measured durations. */
  timings: Timing[];
  /** Acknowledged vs completed, duplicates. */
  strategies: StrategyTally;
  /** What the clients saw. */
  clients: ClientTally;
  /** Alerts the sink received, and their count by `condition/status`. */
  alerts: { received: ReceivedAlert[]; byCondition: Record<string, number> };
  /** Sentinel messages (failover drill). */
  sentinelEvents?: SentinelMessage[];
  /** `/readyz` changes (status, reasons) with their time. */
  readiness?: { atMs: number; status: number; reasons: string[] }[];
  /** Extra observations (name → value). */
  observed?: Record<string, unknown>;
  /** Every expectation and whether it held. */
  checks: Check[];
  /** Where the logs are (kept when the drill failed or with `--keep`). */
  logs?: string;
}

/**
 * Count what became of the acknowledged strategies.
 *
 * @param acked acknowledged strategy ids
 * @param duplicateAcks acknowledgements with `duplicate: true`
 * @param completion the final statuses
 * @param log each strategy's lifecycle in the event log
 * @param sse COMPLETED events of a strategy received over SSE
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tallyStrategies } from "./report.ts";
 * const t = tallyStrategies(["a", "b"], 0,
 *   { completed: ["a"], pending: { b: "QUEUED" }, failed: {}, missing: [], waitedMs: 1 },
 *   new Map([["a", { types: [], completed: [{ id: "e1", timeMs: 5 }, { id: "e2", timeMs: 6 }] }]]),
 *   () => []);
 * assert.equal(t.lost, 1);
 * assert.deepEqual(t.lostSample, [{ id: "b", reason: "still QUEUED" }]);
 * assert.equal(t.duplicates, 1);
 * ```
 */
export function tallyStrategies(
  acked: Iterable<string>,
  duplicateAcks: number,
  completion: CompletionResult,
  log: Map<string, LoggedLifecycle>,
  sse: (id: string) => FeedEvent[],
): StrategyTally {
  const ids = [...new Set(acked)];
  const lost: { id: string; reason: string }[] = [];
  for (const [id, state] of Object.entries(completion.pending)) {
    lost.push({ id, reason: `still ${state}` });
  }
  for (const [id, why] of Object.entries(completion.failed)) {
    lost.push({ id, reason: `FAILED: ${why}` });
  }
  for (const id of completion.missing) {
    lost.push({ id, reason: "unknown to the Gateway (E_NOT_FOUND)" });
  }
  const done = new Set(completion.completed);
  const dup: { id: string; inLog: number; overSse: number }[] = [];
  let inLog = 0, overSse = 0, withoutEvent = 0;
  for (const id of ids) {
    const l = log.get(id)?.completed.length ?? 0;
    const s = new Set(sse(id).map((e) => e.id)).size;
    inLog += l;
    overSse += s;
    if (l > 1 || s > 1) dup.push({ id, inLog: l, overSse: s });
    if (done.has(id) && l === 0) withoutEvent++;
  }
  return {
    acknowledged: ids.length,
    completed: ids.filter((id) => done.has(id)).length,
    lost: lost.length,
    lostSample: lost.slice(0, 20),
    duplicates: dup.length,
    duplicateSample: dup.slice(0, 20),
    completedWithoutEvent: withoutEvent,
    duplicateAcks,
    completedEventsInLog: inLog,
    completedEventsOverSse: overSse,
  };
}

/**
 * The checks every drill makes about the strategies: nothing acknowledged
 * lost, nothing completed twice, every completion in the event log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strategyChecks } from "./report.ts";
 * const checks = strategyChecks({
 *   acknowledged: 3, completed: 3, lost: 0, lostSample: [], duplicates: 0, duplicateSample: [],
 *   completedWithoutEvent: 0, duplicateAcks: 0, completedEventsInLog: 3, completedEventsOverSse: 3,
 * });
 * assert.ok(checks.every((c) => c.ok));
 * ```
 */
export function strategyChecks(t: StrategyTally): Check[] {
  return [
    {
      name: "load acknowledged strategies",
      ok: t.acknowledged > 0,
      detail: `${t.acknowledged} acknowledged`,
    },
    {
      name: "every acknowledged strategy COMPLETED (none lost)",
      ok: t.lost === 0,
      detail: t.lost === 0
        ? `${t.completed} of ${t.acknowledged}`
        : `${t.lost} not COMPLETED, e.g. ${
          t.lostSample.slice(0, 3).map((l) => `${l.id} (${l.reason})`).join(
            ", ",
          )
        }`,
    },
    {
      name: "no strategy COMPLETED more than once",
      ok: t.duplicates === 0,
      detail: t.duplicates === 0
        ? `${t.completedEventsInLog} COMPLETED events in the log, ${t.completedEventsOverSse} over SSE`
        : `${t.duplicates} strategies, e.g. ${
          t.duplicateSample.slice(0, 3).map((d) =>
            `${d.id} (log ${d.inLog}, SSE ${d.overSse})`
          ).join(", ")
        }`,
    },
    {
      name: "every COMPLETED strategy has its COMPLETED event in the event log",
      ok: t.completedWithoutEvent === 0,
      detail: `${t.completedWithoutEvent} without`,
    },
  ];
}

/**
 * Assemble the report: the verdict is the conjunction of the checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finishReport } from "./report.ts";
 * const r = finishReport({ checks: [{ name: "x", ok: false, detail: "why" }] } as never);
 * assert.equal(r.ok, false);
 * assert.deepEqual(r.problems, ["x: why"]);
 * ```
 */
export function finishReport(
  r: Omit<DrillReport, "ok" | "problems">,
): DrillReport {
  const problems = r.checks.filter((c) => !c.ok).map((c) =>
    c.detail ? `${c.name}: ${c.detail}` : c.name
  );
  return { ...r, ok: problems.length === 0, problems };
}

/**
 * `{condition/status: n}` of the alerts received.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { alertSection } from "./report.ts";
 * assert.deepEqual(alertSection([]).byCondition, {});
 * ```
 */
export function alertSection(
  received: ReceivedAlert[],
): DrillReport["alerts"] {
  return { received: [...received], byCondition: countAlerts(received) };
}

const fmtMs = (ms: number | null | undefined): string =>
  ms === null || ms === undefined
    ? "—"
    : ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.round(ms)} ms`;

const fmtAt = (ms: number): string => `+${(ms / 1000).toFixed(1)} s`;

/** Long driver messages are cut in the text report (the JSON keeps them). */
const cut = (s: string, n = 140): string =>
  s.length <= n ? s : `${s.slice(0, n - 1)}…`;

const counts = (m: Record<string, number>): string => {
  const e = Object.entries(m).sort((a, b) => b[1] - a[1]);
  return e.length === 0 ? "none" : e.map(([k, v]) => `${k} × ${v}`).join(", ");
};

const TITLES: Record<DrillReport["drill"], string> = {
  failover: "Redis master failover",
  neo4j: "Neo4j outage",
};

/**
 * The report as text for a person.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderText } from "./report.ts";
 * const text = renderText({
 *   drill: "failover", mode: "short", ok: true, problems: [], startedAt: "2026-01-01T00:00:00.000Z",
 *   durationMs: 1000, setup: { redis: "private group" }, marks: { kill: 500 },
 *   timings: [{ key: "promote", label: "kill → +switch-master", ms: 2100 }],
 *   strategies: { acknowledged: 1, completed: 1, lost: 0, lostSample: [], duplicates: 0, duplicateSample: [],
 *     completedWithoutEvent: 0, duplicateAcks: 0, completedEventsInLog: 1, completedEventsOverSse: 1 },
 *   clients: { clients: 1, submitted: 1, httpStatuses: { "200": 1 }, errors: {}, errorSample: [] },
 *   alerts: { received: [], byCondition: {} }, checks: [{ name: "none lost", ok: true }],
 * });
 * assert.match(text, /PASSED/);
 * assert.match(text, /kill → \+switch-master\s+2100 ms/);
 * ```
 */
export function renderText(r: DrillReport): string {
  const out: string[] = [];
  const line = (s = "") => out.push(s);
  line(
    `QMTL drill: ${TITLES[r.drill]} (${r.mode})  —  ${
      r.ok ? "PASSED" : "FAILED"
    }`,
  );
  line(`started ${r.startedAt}, took ${fmtMs(r.durationMs)}`);
  line();
  line("setup");
  for (const [k, v] of Object.entries(r.setup)) line(`  ${k.padEnd(10)} ${v}`);
  line();
  line("timeline (since start)");
  for (const [k, v] of Object.entries(r.marks).sort((a, b) => a[1] - b[1])) {
    line(`  ${fmtAt(v).padStart(9)}  ${k}`);
  }
  line();
  line("timings");
  const w = Math.max(0, ...r.timings.map((t) => t.label.length));
  for (const t of r.timings) line(`  ${t.label.padEnd(w)}  ${fmtMs(t.ms)}`);
  line();
  const s = r.strategies;
  line("strategies");
  line(
    `  acknowledged ${s.acknowledged}, completed ${s.completed}, lost ${s.lost}, completed twice ${s.duplicates}`,
  );
  line(
    `  COMPLETED events: ${s.completedEventsInLog} in the event log, ${s.completedEventsOverSse} over SSE; ` +
      `acknowledged as duplicate (a retried submission that had been stored): ${s.duplicateAcks}`,
  );
  for (const l of s.lostSample) line(`  LOST ${l.id}: ${l.reason}`);
  for (const d of s.duplicateSample) {
    line(`  TWICE ${d.id}: ${d.inLog} in the log, ${d.overSse} over SSE`);
  }
  line();
  const c = r.clients;
  line(`clients (${c.clients}, ${c.submitted} strategies built)`);
  line(`  HTTP answers to submissions: ${counts(c.httpStatuses)}`);
  line(`  errors after the SDK's retries: ${counts(c.errors)}`);
  for (const e of c.errorSample.slice(0, 5)) {
    line(`    ${fmtAt(e.atMs)} client ${e.client}: ${e.code} ${e.message}`);
  }
  line();
  line(`alerts received by the sink: ${counts(r.alerts.byCondition)}`);
  for (const a of r.alerts.received) {
    line(
      `  ${
        fmtAt(a.atMs).padStart(9)
      }  ${a.condition} ${a.status} (${a.severity}): ${cut(a.summary)}`,
    );
  }
  if (r.sentinelEvents) {
    line();
    line("sentinel events (one Sentinel's view)");
    for (const e of r.sentinelEvents) {
      line(`  ${fmtAt(e.atMs).padStart(9)}  ${e.type} ${e.message}`);
    }
  }
  if (r.readiness) {
    line();
    line("/readyz changes");
    for (const x of r.readiness) {
      line(
        `  ${fmtAt(x.atMs).padStart(9)}  ${x.status}${
          x.reasons.length
            ? ` ${x.reasons.map((r) => cut(r, 100)).join("; ")}`
            : ""
        }`,
      );
    }
  }
  if (r.observed && Object.keys(r.observed).length > 0) {
    line();
    line("observed");
    for (const [k, v] of Object.entries(r.observed)) {
      line(
        `  ${k}: ${cut(typeof v === "string" ? v : JSON.stringify(v), 400)}`,
      );
    }
  }
  line();
  line("checks");
  for (const ch of r.checks) {
    line(
      `  ${ch.ok ? "ok  " : "FAIL"} ${ch.name}${
        ch.detail ? ` — ${cut(ch.detail, 200)}` : ""
      }`,
    );
  }
  if (r.logs) {
    line();
    line(`logs: ${r.logs}`);
  }
  line();
  line(
    `verdict: ${r.ok ? "PASSED" : `FAILED (${r.problems.length} problem(s))`}`,
  );
  return out.join("\n");
}
