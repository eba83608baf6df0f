/**
 * `deno task drill:neo4j` — Neo4j dies under load and comes back.
 *
 * Starts, privately (own folder, free ports): Neo4j (`deploy/local/stack.sh
 * --neo4j-only`), a Redis group (`--redis-only`; or the Redis of
 * `QMTL_REDIS_URL` with `--redis=env`), an alert sink, the reference server
 * (`deploy/server.ts`, a subprocess, `QMTL_ALERT_DEPENDENCY_DOWN_MS` short)
 * and several SDK clients submitting small strategies. Then `kill -9`s
 * Neo4j and keeps submitting: submissions must be acknowledged and stay
 * QUEUED, reads that need Neo4j must answer 503 + `Retry-After`, `/readyz`
 * must fail saying why, and `dependency_unreachable` must reach the sink.
 * Restarts Neo4j (`stack.sh up --neo4j-only`), waits for recovery, stops
 * the load, waits until every acknowledged strategy is COMPLETED, and
 * reports. Exit status 1 on loss, duplicates or a missed expectation. See
 * docs/operations.md, "Drills".
 *
 *     deno task drill:neo4j [--short] [--json] [--keep] [--redis=private|env]
 *
 * @module
 */

import { QmtlClient } from "../../sdk/mod.ts";
import { type DrillContext, runDrill } from "./cli.ts";
import { firstCompletion, observerClient, runId, span } from "./common.ts";
import { COMPLETED_EVENT } from "./event_feed.ts";
import { drillStrategy } from "./load.ts";
import { PrivateStack } from "./private_stack.ts";
import { watchReadiness } from "./readiness_watch.ts";
import type { Check, DrillReport } from "./report.ts";
import {
  loadReport,
  openLoad,
  settleLoad,
  startLoad,
  startSinkAndServer,
  stopLoad,
} from "./settle.ts";
import { NEO4J_TOOLS, REDIS_TOOLS, requireTools, type Tool } from "./tools.ts";
import { sleep, waitFor } from "./wait.ts";

/** `--help` text. */
export const USAGE =
  `usage: deno task drill:neo4j [--short] [--json] [--keep] [--redis=private|env]

Kills Neo4j (kill -9) of a private Neo4j while SDK clients submit strategies
through the reference server, keeps submitting, restarts Neo4j, and reports
time to detect (/readyz, alert), time to recover (first COMPLETED after the
restart), acknowledged vs completed strategies, duplicates, the states seen
during the outage, client errors and alerts (fired and resolved).

  --short          CI mode: a few seconds of load (default: about two minutes)
  --json           print the report as JSON (progress goes to stderr)
  --keep           keep the private stack folder and logs even when it passes
  --redis=private  a private Redis group (default)
  --redis=env      the Redis of QMTL_REDIS_URL instead — only a Redis no other
                   gateway uses: the drill's server shares its queue keys

Exit status: 0 passed, 1 a check failed, 2 bad usage, 3 could not run.`;

interface Plan {
  clients: number;
  pauseMs: number;
  /** Pause from the restart on (the backlog to drain stays small). */
  restartPauseMs: number;
  warmupMs: number;
  /** Least time between the kill and the restart. */
  outageMs: number;
  /** `QMTL_ALERT_DEPENDENCY_DOWN_MS` of the server. */
  dependencyDownMs: number;
  afterRecoveryMs: number;
  completionTimeoutMs: number;
}

const PLANS: Record<"short" | "long", Plan> = {
  short: {
    clients: 2,
    pauseMs: 1_000,
    restartPauseMs: 5_000,
    warmupMs: 3_000,
    outageMs: 5_000,
    dependencyDownMs: 2_000,
    afterRecoveryMs: 2_000,
    completionTimeoutMs: 120_000,
  },
  long: {
    clients: 4,
    pauseMs: 250,
    restartPauseMs: 250,
    warmupMs: 20_000,
    outageMs: 45_000,
    dependencyDownMs: 10_000,
    afterRecoveryMs: 20_000,
    completionTimeoutMs: 180_000,
  },
};

const METRICS = [
  "qmtl_dependency_up",
  "qmtl_alerts_total",
  "qmtl_lifecycle_transitions_total",
  "qmtl_dead_letters_total",
];

const LAUNCHER_BUILT = new URL(
  "../local/neo4j/target/classpath.txt",
  import.meta.url,
).pathname;

function neededTools(redis: "private" | "env"): Tool[] {
  let built = false;
  try {
    built = Deno.statSync(LAUNCHER_BUILT).isFile;
  } catch {
    // the first `stack.sh up` builds it with Maven
  }
  const neo4j = NEO4J_TOOLS.filter((t) => t.name !== "mvn" || !built);
  return redis === "private" ? [...REDIS_TOOLS, ...neo4j] : neo4j;
}

/** Outcome of one read that needs Neo4j, made during the outage. */
interface ReadProbe {
  path: string;
  status: number;
  retryAfter: string | null;
  tookMs: number;
  body: string;
}

async function probeRead(
  url: string,
  token: string,
  path: string,
): Promise<ReadProbe> {
  const t0 = Date.now();
  try {
    const res = await fetch(`${url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(40_000),
    });
    const body = (await res.text()).slice(0, 300);
    return {
      path,
      status: res.status,
      retryAfter: res.headers.get("retry-after"),
      tookMs: Date.now() - t0,
      body,
    };
  } catch (e) {
    return {
      path,
      status: 0,
      retryAfter: null,
      tookMs: Date.now() - t0,
      body: String(e),
    };
  }
}

/**
 * The drill's steps (see the module doc).
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runDrill("neo4j", USAGE, ["--short"], neo4jDrill));
 * ```
 */
export async function neo4jDrill(ctx: DrillContext): Promise<DrillReport> {
  const { args, clock, dir, cleanup } = ctx;
  const mode = args.short ? "short" : "long";
  const plan = PLANS[mode];
  requireTools(neededTools(args.redis));
  let redisUrl: string | undefined;
  if (args.redis === "env") {
    redisUrl = Deno.env.get("QMTL_REDIS_URL");
    if (!redisUrl) {
      throw new Error("--redis=env: QMTL_REDIS_URL is not set");
    }
  }
  const id = runId();

  // ---- private Neo4j (+ Redis group) ---------------------------------------
  const stack = PrivateStack.create({ dir, neo4jHeap: "512m" });
  cleanup.add("stack down", () => stack.down({ fast: true }));
  clock.log(
    `starting a private Neo4j (bolt :${stack.boltPort})${
      redisUrl ? "" : ` and Redis group (master :${stack.redisPort})`
    } in ${dir}`,
  );
  await Promise.all([
    stack.up("neo4j"),
    redisUrl ? Promise.resolve() : stack.up("redis"),
  ]);
  redisUrl ??= stack.redisUrl;
  clock.mark("stack-up");

  clock.log("starting the server");
  const { sink, tokens, server } = await startSinkAndServer(ctx, {
    QMTL_REDIS_URL: redisUrl,
    QMTL_NEO4J_URL: stack.neo4jUrl,
    QMTL_NEO4J_MIGRATE: "auto",
    QMTL_ALERT_DEPENDENCY_DOWN_MS: String(plan.dependencyDownMs),
  });

  // ---- load -----------------------------------------------------------------
  const ready = watchReadiness(server.url, clock);
  cleanup.add("readiness watch", () => ready.close());
  const { feed, load } = openLoad(ctx, server.url, tokens, plan, id);
  // A freshly started Neo4j plans its queries on a cold JVM: the first diff
  // can take tens of seconds on a loaded machine. One warm-up strategy,
  // completed before the load starts, keeps that out of normal operation
  // (the restart later is cold again, and measured).
  const warm = new QmtlClient({ url: server.url, token: tokens.load });
  const warmId =
    (await warm.submit(drillStrategy(id, 999, 0), { version: "1" }))
      .strategyId;
  await warm.waitFor(warmId, "COMPLETED", { timeoutMs: 180_000 });
  clock.mark("warm-up-completed");
  clock.log(`warm-up strategy ${warmId} COMPLETED`);
  await startLoad(load, clock, plan);
  await waitFor(
    "a first COMPLETED strategy before the fault",
    () =>
      [...load.acks.keys()].some((s) => feed.completions(s).length > 0)
        ? true
        : undefined,
    { timeoutMs: 120_000 },
  );

  // ---- fault ------------------------------------------------------------------
  const killed = await stack.killNeo4j();
  const killAt = clock.mark("kill", killed.at);
  clock.log(
    `kill -9 neo4j (pid ${killed.pid}, bolt :${killed.port}) — ${load.acks.size} acknowledged so far`,
  );
  const observer = observerClient(server.url, tokens.observer, 30_000);
  // Probes of the outage, concurrently, while the load goes on.
  const notReady = waitFor(
    "/readyz to fail",
    () => ready.firstAfter(killAt, 503),
    {
      timeoutMs: 30_000,
      intervalMs: 50,
    },
  ).catch(() => undefined);
  const fired = waitFor(
    "the dependency_unreachable alert",
    () => sink.first("dependency_unreachable"),
    { timeoutMs: plan.dependencyDownMs + 30_000, intervalMs: 50 },
  ).catch(() => undefined);
  const nodesRead = (async () => {
    await sleep(500);
    return await probeRead(
      server.url,
      tokens.observer,
      "/v1/nodes?page_size=1",
    );
  })();
  await sleep(plan.outageMs);
  const [nr, alert, read] = await Promise.all([notReady, fired, nodesRead]);
  if (nr) clock.log(`/readyz answers ${nr.status}: ${nr.reasons.join("; ")}`);
  if (alert) clock.log(`alert: ${alert.condition} ${alert.status}`);
  clock.log(
    `GET /v1/nodes during the outage: ${read.status} (Retry-After ${read.retryAfter}) after ${read.tookMs} ms`,
  );
  // Submissions acknowledged during the outage: their states now.
  const duringOutage = load.acksAfter(killAt);
  const outageStates: Record<string, number> = {};
  for (const a of duringOutage) {
    let state: string;
    try {
      state = (await observer.get(a.strategyId)).state;
    } catch (e) {
      state = `unreadable: ${(e as Error).message.slice(0, 60)}`;
    }
    outageStates[state] = (outageStates[state] ?? 0) + 1;
  }
  clock.log(
    `${duringOutage.length} acknowledged during the outage; states: ${
      JSON.stringify(outageStates)
    }`,
  );

  // ---- restart ----------------------------------------------------------------
  // /readyz may answer 200 before `stack.up` returns (the server sees Bolt
  // open before the script has finished waiting): look from here.
  const restartBegunAt = clock.mark("restart-start");
  load.pauseMs = plan.restartPauseMs;
  clock.log("restarting neo4j (stack.sh up --neo4j-only)");
  await stack.up("neo4j");
  const restartedAt = clock.mark("restart-end");
  clock.log("neo4j is back (Bolt open)");
  const completedAfter = (t: number) => {
    let first: number | undefined;
    for (const list of feed.byStrategy.values()) {
      for (const e of list) {
        if (e.type === COMPLETED_EVENT && e.atMs > t) {
          if (first === undefined || e.atMs < first) first = e.atMs;
        }
      }
    }
    return first;
  };
  const recovered = await waitFor(
    "a strategy COMPLETED after the restart",
    () => completedAfter(killAt),
    { timeoutMs: 180_000, intervalMs: 50 },
  ).catch(() => undefined);
  if (recovered !== undefined) {
    clock.mark("first-completed-after-restart", clock.start + recovered);
    clock.log("recovered: a strategy COMPLETED");
  }
  const readyAgain = await waitFor(
    "/readyz to answer 200 again",
    () => ready.firstAfter(restartBegunAt, 200),
    { timeoutMs: 30_000, intervalMs: 50 },
  ).catch(() => undefined);
  const resolved = await waitFor(
    "the dependency_unreachable recovery alert",
    () => sink.first("dependency_unreachable", "resolved"),
    { timeoutMs: 30_000, intervalMs: 50 },
  ).catch(() => undefined);
  await sleep(plan.afterRecoveryMs);
  await stopLoad(load, clock, plan.completionTimeoutMs);

  // ---- outcome ----------------------------------------------------------------
  const settled = await settleLoad({
    reader: observer,
    load,
    feed,
    server: { url: server.url, token: tokens.observer },
    metrics: METRICS,
    redisUrl,
    clock,
    timeoutMs: plan.completionTimeoutMs,
  });
  await ready.close();
  const { logged } = settled;

  const firstDoneOfOutageAcks = firstCompletion(duringOutage, logged, feed);
  const queuedLike = (outageStates.QUEUED ?? 0) +
    (outageStates.PROCESSING ?? 0);
  const checks: Check[] = [
    {
      name: "submissions were acknowledged during the outage",
      ok: duringOutage.length > 0,
      detail:
        `${duringOutage.length} acknowledged between the kill and the restart`,
    },
    {
      name: "submissions acknowledged during the outage stayed QUEUED",
      ok: duringOutage.length > 0 && queuedLike === duringOutage.length,
      detail: `states: ${
        JSON.stringify(outageStates)
      } (PROCESSING = a worker is trying)`,
    },
    {
      name: "a read that needs Neo4j answered 503 with Retry-After",
      ok: read.status === 503 && read.retryAfter !== null,
      detail:
        `GET ${read.path}: ${read.status}, Retry-After ${read.retryAfter}, after ${read.tookMs} ms`,
    },
    {
      name: "/readyz failed and said why",
      ok: nr !== undefined && nr.reasons.some((r) => /neo4j/i.test(r)),
      detail: nr ? nr.reasons.join("; ") : "never answered 503",
    },
    {
      name: "the dependency_unreachable alert reached the sink",
      ok: alert !== undefined,
      detail: alert ? `${alert.severity}: ${alert.summary}` : "not received",
    },
    {
      name: "a strategy COMPLETED after the restart",
      ok: recovered !== undefined,
      detail: recovered === undefined ? "none within 180 s" : undefined,
    },
    {
      name: "/readyz answered 200 again",
      ok: readyAgain !== undefined,
      detail: readyAgain === undefined ? "not within 30 s" : undefined,
    },
    {
      name: "the dependency_unreachable recovery (resolved) reached the sink",
      ok: resolved !== undefined,
      detail: resolved?.summary ?? "not received",
    },
  ];
  return loadReport(
    clock,
    { clients: plan.clients, load, feed, sink, settled },
    {
      drill: "neo4j",
      mode,
      setup: {
        neo4j:
          `private, ${stack.neo4jUrl} (embedded Neo4j of deploy/local/, heap 512m) in ${dir}`,
        redis: args.redis === "env"
          ? `QMTL_REDIS_URL (${redisUrl})`
          : `private group: ${stack.redisGroup}`,
        server:
          `deploy/server.ts (subprocess pid ${server.pid}) at ${server.url}; QMTL_ALERT_DEPENDENCY_DOWN_MS=${plan.dependencyDownMs}, QMTL_ALERT_CHECK_INTERVAL_MS=250, QMTL_NEO4J_MIGRATE=auto`,
        load:
          `${plan.clients} SDK clients, ${plan.pauseMs} ms between strategies (${plan.restartPauseMs} ms from the restart on); fault after ${plan.warmupMs} ms; restart ≥ ${plan.outageMs} ms after the kill; ${plan.afterRecoveryMs} ms more load after recovery`,
        fault: `kill -9 neo4j pid ${killed.pid}`,
      },
      timings: [
        span("detect_readyz", "kill → /readyz 503 (detect)", killAt, nr?.atMs),
        span(
          "detect_alert",
          "kill → dependency_unreachable at the sink",
          killAt,
          alert?.atMs,
        ),
        {
          key: "read_503",
          label: "GET /v1/nodes during the outage answered after",
          ms: read.tookMs,
        },
        span(
          "restart",
          "stack.sh up --neo4j-only took",
          clock.get("restart-start"),
          restartedAt,
        ),
        span(
          "recover",
          "restart → first COMPLETED (recover)",
          restartedAt,
          recovered,
        ),
        span(
          "kill_to_recover",
          "kill → first COMPLETED after it",
          killAt,
          recovered,
        ),
        span(
          "outage_acks_completed",
          "kill → first strategy acknowledged during the outage COMPLETED",
          killAt,
          firstDoneOfOutageAcks,
        ),
        span(
          "ready_again",
          "restart begun → /readyz 200",
          restartBegunAt,
          readyAgain?.atMs,
        ),
        span(
          "resolved",
          "restart → dependency_unreachable resolved at the sink",
          restartedAt,
          resolved?.atMs,
        ),
      ],
      readiness: [...ready.changes],
      observed: {
        "states of the strategies acknowledged during the outage": outageStates,
        "read during the outage": `${read.status} ${
          read.body.replace(/\s+/g, " ")
        }`,
      },
      checks,
    },
  );
}

if (import.meta.main) {
  Deno.exit(await runDrill("neo4j", USAGE, Deno.args, neo4jDrill));
}
