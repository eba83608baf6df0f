/**
 * The load of a drill, the same for every drill: start the server and the
 * submitting clients with their event feed; stop them; once stopped, wait
 * until every acknowledged strategy settled, let the event feed catch up,
 * snapshot the server's metrics, audit the event log and tally the
 * strategies; and the report's sections about all that.
 *
 * @module
 */

import type { QmtlClient } from "../../sdk/mod.ts";
import type { DrillContext } from "./cli.ts";
import { type AlertSink, startAlertSink } from "./alert_sink.ts";
import {
  baseServerEnv,
  type DrillTokens,
  drillTokens,
  metricsSnapshot,
  randomSecret,
  slowestCompletions,
} from "./common.ts";
import { type CompletionResult, waitForCompletion } from "./completion.ts";
import { auditEventLog, type LoggedLifecycle } from "./event_audit.ts";
import { type EventFeed, followEvents } from "./event_feed.ts";
import { Load } from "./load.ts";
import {
  alertSection,
  type Check,
  type ClientTally,
  type DrillReport,
  finishReport,
  strategyChecks,
  type StrategyTally,
  tallyStrategies,
  type Timing,
} from "./report.ts";
import { type ServerProcess, startServerProcess } from "./server_process.ts";
import type { Timeline } from "./timeline.ts";
import { sleep, waitFor } from "./wait.ts";

/** What {@linkcode settleLoad} needs. */
export interface SettleOptions {
  /** A client that reads strategies (observer token). */
  reader: QmtlClient;
  /** The stopped load. */
  load: Load;
  /** The event feed; closed once the completions are counted. */
  feed: EventFeed;
  /** The server's URL and the token its `/metrics` accepts. */
  server: { url: string; token: string };
  /** Metric families to snapshot. */
  metrics: readonly string[];
  /** The Redis whose event log is audited. */
  redisUrl: string;
  /** The drill's clock. */
  clock: Timeline;
  /** How long to wait for every acknowledged strategy to settle. */
  timeoutMs: number;
  /** Run after the feed caught up and before the metrics snapshot. */
  beforeSnapshot?: () => Promise<unknown>;
}

/** The outcome {@linkcode settleLoad} measured. */
export interface Settled {
  /** Completed / failed / pending acknowledged strategies. */
  completion: CompletionResult;
  /** The metrics snapshot. */
  metrics: Record<string, number>;
  /** The event log's lifecycle of each acknowledged strategy. */
  logged: Map<string, LoggedLifecycle>;
  /** The strategies' tally for the report. */
  tally: StrategyTally;
}

/**
 * Waits until every acknowledged strategy settled (mark `all-settled`),
 * gives the event feed up to 10 s to show every completion, snapshots the
 * metrics, audits the event log, closes the feed and tallies.
 *
 * @example
 * ```ts ignore
 * const { tally, completion } = await settleLoad({ reader, load, feed, server: { url, token }, metrics: [], redisUrl, clock, timeoutMs: 60_000 });
 * ```
 */
export async function settleLoad(o: SettleOptions): Promise<Settled> {
  const { load, feed, clock } = o;
  const completion = await waitForCompletion(o.reader, load.acks.keys(), {
    timeoutMs: o.timeoutMs,
  });
  clock.mark("all-settled");
  await waitFor(
    "the event feed to show every completion",
    () =>
      completion.completed.every((s) => feed.completions(s).length > 0)
        ? true
        : undefined,
    { timeoutMs: 10_000 },
  ).catch(() => {});
  await o.beforeSnapshot?.();
  const metrics = await metricsSnapshot(
    o.server.url,
    o.server.token,
    o.metrics,
  );
  const logged = await auditEventLog(o.redisUrl, load.acks.keys(), clock);
  await feed.close();
  const tally = tallyStrategies(
    load.acks.keys(),
    [...load.acks.values()].filter((a) => a.duplicateAck).length,
    completion,
    logged,
    (s) => feed.completions(s),
  );
  return { completion, metrics, logged, tally };
}

/**
 * The clients' section of a report.
 *
 * @example
 * ```ts ignore
 * const clients = clientTally(3, load);
 * ```
 */
export function clientTally(clients: number, load: Load): ClientTally {
  return {
    clients,
    submitted: load.submitted,
    httpStatuses: load.httpStatuses,
    errors: load.errors,
    errorSample: load.errorLog.slice(0, 10),
  };
}

/**
 * Starts the reference server as a subprocess with `env` (its log in the
 * drill's folder), stopped at clean-up; marks `server-ready`.
 *
 * @example
 * ```ts ignore
 * const server = await startDrillServer(ctx, { QMTL_REDIS_URL: url });
 * ```
 */
export async function startDrillServer(
  ctx: Pick<DrillContext, "clock" | "dir" | "cleanup">,
  env: Record<string, string>,
): Promise<ServerProcess> {
  const server = await startServerProcess({
    env,
    logFile: `${ctx.dir}/server.log`,
  });
  ctx.cleanup.add("server stop", () => server.stop());
  ctx.clock.mark("server-ready");
  ctx.clock.log(`server ready at ${server.url} (pid ${server.pid})`);
  return server;
}

/**
 * The alert sink, the drill's tokens and the reference server (the drill's
 * base settings with the sink as its alert webhook, then `env`); the sink
 * and the server are stopped at clean-up.
 *
 * @example
 * ```ts ignore
 * const { sink, tokens, server } = await startSinkAndServer(ctx, { QMTL_REDIS_URL: url });
 * ```
 */
export async function startSinkAndServer(
  ctx: Pick<DrillContext, "clock" | "dir" | "cleanup">,
  env: Record<string, string>,
): Promise<
  { sink: AlertSink; tokens: DrillTokens; server: ServerProcess }
> {
  const sink = startAlertSink(ctx.clock);
  ctx.cleanup.add("alert sink", () => sink.close());
  const secret = randomSecret();
  const tokens = await drillTokens(secret);
  const server = await startDrillServer(ctx, {
    ...baseServerEnv({ secret, alertUrl: sink.url }),
    ...env,
  });
  return { sink, tokens, server };
}

/**
 * The event feed (observer token) and the submitting clients (load token)
 * of a drill, both closed at clean-up; the load is not started.
 *
 * @example
 * ```ts ignore
 * const { feed, load } = openLoad(ctx, server.url, tokens, { clients: 2, pauseMs: 250 }, id);
 * ```
 */
export function openLoad(
  ctx: Pick<DrillContext, "clock" | "cleanup">,
  url: string,
  tokens: { load: string; observer: string },
  plan: { clients: number; pauseMs: number },
  runId: string,
): { feed: EventFeed; load: Load } {
  const { clock, cleanup } = ctx;
  const feed = followEvents({ url, token: tokens.observer, clock });
  cleanup.add("event feed", () => feed.close());
  const load = new Load({
    url,
    token: tokens.load,
    clients: plan.clients,
    pauseMs: plan.pauseMs,
    runId,
    clock,
  });
  cleanup.add("load stop", () => load.stop(2_000));
  return { feed, load };
}

/**
 * Starts the load (mark `load-start`) and lets it run `plan.warmupMs`
 * before the fault.
 *
 * @example
 * ```ts ignore
 * await startLoad(load, clock, { clients: 2, warmupMs: 3_000 });
 * ```
 */
export async function startLoad(
  load: Load,
  clock: Timeline,
  plan: { clients: number; warmupMs: number },
): Promise<void> {
  load.start();
  clock.mark("load-start");
  clock.log(`load: ${plan.clients} clients; fault in ${plan.warmupMs} ms`);
  await sleep(plan.warmupMs);
}

/**
 * Stops the load (mark `load-stop`) and says how long settling may take.
 *
 * @example
 * ```ts ignore
 * await stopLoad(load, clock, 60_000);
 * ```
 */
export async function stopLoad(
  load: Load,
  clock: Timeline,
  completionTimeoutMs: number,
): Promise<void> {
  await load.stop();
  clock.mark("load-stop");
  clock.log(
    `load stopped: ${load.acks.size} acknowledged; waiting for every one to be COMPLETED (≤ ${completionTimeoutMs} ms)`,
  );
}

/**
 * The `settle` timing of a report.
 *
 * @example
 * ```ts ignore
 * timings.push(settleTiming(settled.completion));
 * ```
 */
export function settleTiming(completion: CompletionResult): Timing {
  return {
    key: "settle",
    label: "load stop → every acknowledged strategy settled",
    ms: completion.waitedMs,
  };
}

/**
 * The `observed` entries every drill reports: SSE connections, the slowest
 * acknowledgements and the metrics snapshot.
 *
 * @example
 * ```ts ignore
 * const observed = { ...loadObserved(feed, load, settled) };
 * ```
 */
export function loadObserved(
  feed: EventFeed,
  load: Load,
  settled: Pick<Settled, "logged" | "metrics">,
): Record<string, unknown> {
  return {
    "SSE connections (1 + reconnects)": feed.connections,
    "slowest acknowledgement → COMPLETED": slowestCompletions(
      load.acks.values(),
      settled.logged,
      feed,
    ),
    "server metrics at the end": settled.metrics,
  };
}

/** What a drill found itself, for {@linkcode loadReport}. */
export interface DrillFindings {
  /** Which drill. */
  drill: DrillReport["drill"];
  /** `short` or `long`. */
  mode: DrillReport["mode"];
  /** What was started and how (name → one line). */
  setup: Record<string, string>;
  /** The drill's timings; the `settle` timing follows them. */
  timings: Timing[];
  /** The drill's checks; the strategy checks come before them. */
  checks: Check[];
  /** The drill's observations; the load's follow them. */
  observed?: Record<string, unknown>;
  /** Sentinel messages (failover drill). */
  sentinelEvents?: DrillReport["sentinelEvents"];
  /** `/readyz` changes (neo4j drill). */
  readiness?: DrillReport["readiness"];
}

/**
 * The drill's report: its own findings with the sections every drill has
 * (start and duration, marks, the `settle` timing, the strategies' tally
 * and checks, the clients, the alerts at the sink, the load's
 * observations).
 *
 * @example
 * ```ts ignore
 * return loadReport(clock, { clients: plan.clients, load, feed, sink, settled }, { drill: "failover", mode, setup, timings, checks });
 * ```
 */
export function loadReport(
  clock: Timeline,
  run: {
    clients: number;
    load: Load;
    feed: EventFeed;
    sink: AlertSink;
    settled: Settled;
  },
  own: DrillFindings,
): DrillReport {
  const { drill, mode, setup, timings, checks, observed, ...sections } = own;
  const { settled } = run;
  return finishReport({
    drill,
    mode,
    startedAt: new Date(clock.start).toISOString(),
    durationMs: clock.at(),
    setup,
    marks: clock.marks(),
    timings: [...timings, settleTiming(settled.completion)],
    strategies: settled.tally,
    clients: clientTally(run.clients, run.load),
    alerts: alertSection(run.sink.alerts),
    ...sections,
    observed: { ...observed, ...loadObserved(run.feed, run.load, settled) },
    checks: [...strategyChecks(settled.tally), ...checks],
  });
}
