/**
 * `deno task drill:failover` — the Redis master dies under load.
 *
 * Starts, privately (own folder, free ports): a Redis group (master,
 * replica, 3 Sentinels) with `deploy/local/stack.sh --redis-only`, an alert
 * sink, the reference server (`deploy/server.ts`, a subprocess) on that
 * group, and several SDK clients submitting small strategies. Then
 * `kill -9`s the Redis master, watches one Sentinel (`+sdown`, `+odown`,
 * `+switch-master`) and the server, heals the group (`stack.sh heal`: the
 * old master returns as a replica), stops the load, waits until every
 * acknowledged strategy is COMPLETED, and reports. Exit status 1 when
 * anything acknowledged was lost or completed twice, or the failover alert
 * never reached the sink. See docs/operations.md, "Drills".
 *
 *     deno task drill:failover [--short] [--json] [--keep]
 *
 * @module
 */

import { Neo4jRegistry } from "../../lib/dag/mod.ts";
import { type DrillContext, runDrill } from "./cli.ts";
import {
  chooseRegistry,
  firstCompletion,
  observerClient,
  runId,
  span,
} from "./common.ts";
import { PrivateStack } from "./private_stack.ts";
import type { Check, DrillReport } from "./report.ts";
import { watchSentinel } from "./sentinel_watch.ts";
import {
  loadReport,
  openLoad,
  settleLoad,
  startLoad,
  startSinkAndServer,
  stopLoad,
} from "./settle.ts";
import { REDIS_TOOLS, requireTools } from "./tools.ts";
import { sleep, waitFor } from "./wait.ts";

/** `--help` text. */
export const USAGE =
  `usage: deno task drill:failover [--short] [--json] [--keep]

Kills the Redis master (kill -9) of a private Redis group while SDK clients
submit strategies through the reference server, heals the group, and reports
detection / promotion / recovery times, acknowledged vs completed strategies,
duplicates, client errors, alerts and Sentinel events.

  --short   CI mode: a few seconds of load (default: about a minute)
  --json    print the report as JSON (progress goes to stderr)
  --keep    keep the private stack folder and logs even when the drill passes

Registry: the Neo4j of QMTL_NEO4J_URL in a throw-away namespace when the
server supports QMTL_NEO4J_NAMESPACE, otherwise memory (the report says which).
Exit status: 0 passed, 1 a check failed, 2 bad usage, 3 could not run.`;

/** Durations of one mode, ms. */
interface Plan {
  clients: number;
  pauseMs: number;
  warmupMs: number;
  /** Between `+switch-master` and `stack.sh heal` (an operator's reaction). */
  healDelayMs: number;
  afterHealMs: number;
  completionTimeoutMs: number;
}

const PLANS: Record<"short" | "long", Plan> = {
  short: {
    clients: 3,
    pauseMs: 250,
    warmupMs: 3_000,
    healDelayMs: 0,
    afterHealMs: 3_000,
    completionTimeoutMs: 60_000,
  },
  long: {
    clients: 4,
    pauseMs: 250,
    warmupMs: 20_000,
    healDelayMs: 5_000,
    afterHealMs: 20_000,
    completionTimeoutMs: 120_000,
  },
};

const METRICS = [
  "qmtl_redis_failovers_total",
  "qmtl_redis_sentinel_events_total",
  "qmtl_redis_unconfirmed_writes_total",
  "qmtl_alerts_total",
  "qmtl_lifecycle_transitions_total",
];

/**
 * The drill's steps (see the module doc).
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runDrill("failover", USAGE, ["--short"], failoverDrill));
 * ```
 */
export async function failoverDrill(ctx: DrillContext): Promise<DrillReport> {
  const { args, clock, dir, cleanup } = ctx;
  const mode = args.short ? "short" : "long";
  const plan = PLANS[mode];
  requireTools(REDIS_TOOLS);
  const id = runId();

  // ---- private Redis group ---------------------------------------------------
  const stack = PrivateStack.create({ dir, downAfterMs: 1000 });
  clock.log(
    `starting a private Redis group in ${dir} (master :${stack.redisPort}, sentinels :${stack.sentinelPort}-${
      stack.sentinelPort + 2
    })`,
  );
  cleanup.add("stack down", () => stack.down());
  await stack.up("redis");
  clock.mark("redis-up");

  const watch = await watchSentinel(stack.sentinelPort, clock);
  cleanup.add("sentinel watch", () => watch.close());

  // ---- server ------------------------------------------------------------------
  const registry = chooseRegistry(Deno.env.toObject(), id);
  if (registry.namespace) {
    cleanup.add("purge the drill namespace", async () => {
      const reg = await Neo4jRegistry.connect({
        url: registry.env.QMTL_NEO4J_URL,
        user: registry.env.QMTL_NEO4J_USER,
        password: registry.env.QMTL_NEO4J_PASSWORD,
        database: registry.env.QMTL_NEO4J_DATABASE,
        namespace: registry.namespace,
        warn: () => {},
      });
      try {
        const n = await reg.purgeNamespace();
        clock.log(
          `purged ${n} registry nodes of namespace ${registry.namespace}`,
        );
      } finally {
        await reg.close();
      }
    });
  }
  clock.log(`starting the server (registry: ${registry.description})`);
  const { sink, tokens, server } = await startSinkAndServer(ctx, {
    QMTL_REDIS_URL: stack.redisUrl,
    ...registry.env,
  });

  // ---- load -------------------------------------------------------------------
  const { feed, load } = openLoad(ctx, server.url, tokens, plan, id);
  await startLoad(load, clock, plan);
  if (load.acks.size === 0) {
    // Give a slow machine a little longer before the fault.
    await waitFor(
      "a first acknowledged submission",
      () => load.acks.size > 0 ? true : undefined,
      { timeoutMs: 120_000 },
    );
  }

  // ---- fault ------------------------------------------------------------------
  const killed = await stack.killRedisMaster();
  const killAt = clock.mark("kill", killed.at);
  clock.log(
    `kill -9 redis ${killed.slot} (pid ${killed.pid}, :${killed.port}) — ${load.acks.size} acknowledged so far`,
  );
  const switched = await waitFor(
    "+switch-master from the Sentinel",
    () => watch.firstAboutMaster("+switch-master"),
    { timeoutMs: 30_000, intervalMs: 50 },
  ).catch(() => undefined);
  if (switched) clock.log(`+switch-master ${switched.message}`);
  else clock.log("no +switch-master within 30 s");
  if (plan.healDelayMs > 0) {
    clock.log(
      `waiting ${plan.healDelayMs} ms before healing (new master alone: writes cannot be confirmed)`,
    );
    await sleep(plan.healDelayMs);
  }

  // ---- heal -------------------------------------------------------------------
  clock.mark("heal-start");
  const healed = await stack.heal();
  clock.mark("heal-end");
  const healLine = /redis master \S+ is (\S+)/.exec(healed)?.[1] ?? "?";
  clock.log(`healed: master is ${healLine}, the old master is its replica`);
  await sleep(plan.afterHealMs);
  await stopLoad(load, clock, plan.completionTimeoutMs);

  // ---- outcome ----------------------------------------------------------------
  const reader = observerClient(server.url, tokens.observer, 5_000);
  const settled = await settleLoad({
    reader,
    load,
    feed,
    server: { url: server.url, token: tokens.observer },
    metrics: METRICS,
    redisUrl: stack.redisUrl,
    clock,
    timeoutMs: plan.completionTimeoutMs,
    beforeSnapshot: () =>
      waitFor(
        "the redis_failover alert",
        () => sink.first("redis_failover"),
        { timeoutMs: 10_000 },
      ).catch(() => {}),
  });
  const { logged } = settled;
  const sdown = watch.firstAboutMaster("+sdown");
  const odown = watch.firstAboutMaster("+odown");
  const afterKill = load.acksAfter(killAt);
  const firstAck = afterKill[0]?.atMs;
  const firstDone = firstCompletion(afterKill, logged, feed);
  const failoverAlert = sink.first("redis_failover");
  const checks: Check[] = [
    {
      name: "Sentinel saw the master down (+sdown, +odown)",
      ok: sdown !== undefined && odown !== undefined,
      detail: `+sdown ${sdown ? "seen" : "missing"}, +odown ${
        odown ? "seen" : "missing"
      }`,
    },
    {
      name: "Sentinel promoted the replica (+switch-master)",
      ok: switched !== undefined,
      detail: switched?.message ?? "no +switch-master within 30 s",
    },
    {
      name: "the redis_failover alert reached the sink",
      ok: failoverAlert !== undefined,
      detail: failoverAlert
        ? `${failoverAlert.severity}: ${failoverAlert.summary}`
        : "not received",
    },
    {
      name: "a strategy acknowledged after the kill reached COMPLETED",
      ok: firstDone !== undefined,
      detail: `${afterKill.length} acknowledged after the kill`,
    },
  ];
  return loadReport(
    clock,
    { clients: plan.clients, load, feed, sink, settled },
    {
      drill: "failover",
      mode,
      setup: {
        redis:
          `private group in ${dir}: ${stack.redisGroup} (down-after 1000 ms, quorum 2)`,
        registry: registry.description,
        server:
          `deploy/server.ts (subprocess pid ${server.pid}) at ${server.url}, QMTL_ALERT_WEBHOOK_URL → the drill's sink`,
        load:
          `${plan.clients} SDK clients, ${plan.pauseMs} ms between strategies; fault after ${plan.warmupMs} ms; heal ${plan.healDelayMs} ms after +switch-master; ${plan.afterHealMs} ms more load after healing`,
        fault:
          `kill -9 redis ${killed.slot} pid ${killed.pid} (:${killed.port})`,
        healed: `stack.sh heal: master ${healLine}`,
      },
      timings: [
        span("detect_sdown", "kill → +sdown (detect)", killAt, sdown?.atMs),
        span(
          "detect_odown",
          "kill → +odown (quorum agrees)",
          killAt,
          odown?.atMs,
        ),
        span(
          "promote",
          "kill → +switch-master (promote)",
          killAt,
          switched?.atMs,
        ),
        span(
          "alert",
          "kill → redis_failover alert at the sink",
          killAt,
          failoverAlert?.atMs,
        ),
        span(
          "heal",
          "stack.sh heal took",
          clock.get("heal-start"),
          clock.get("heal-end"),
        ),
        span(
          "first_ack",
          "kill → first acknowledgement after it",
          killAt,
          firstAck,
        ),
        span(
          "first_completed",
          "kill → first strategy acknowledged after it COMPLETED",
          killAt,
          firstDone,
        ),
      ],
      sentinelEvents: [...watch.events],
      checks,
    },
  );
}

if (import.meta.main) {
  Deno.exit(await runDrill("failover", USAGE, Deno.args, failoverDrill));
}
