/**
 * Operations wiring of the reference server: alert sinks from `QMTL_ALERT_*`,
 * the {@linkcode Alerter}, the dependency watch behind `/readyz` and the
 * dependency metrics, and every alert source that exists in the server
 * (Sentinel events, dependency watch, unconfirmed writes, dead letters,
 * failing strategies, missing Neo4j schema). Kept out of `server.ts` so that
 * the server only calls {@linkcode createOperations}, passes
 * `operations.readiness` to the gateway and calls `start()` / `close()`.
 *
 * @module
 */

import type { AlertConfig, ServerConfig } from "./config.ts";
import type { HealthStatus, NodeRegistry } from "../../dag/mod.ts";
import {
  closeRedis,
  createRedis,
  type EventLog,
  type RedisClient,
  type WorkQueue,
} from "../../queue/mod.ts";
import {
  Alerter,
  type AlertSink,
  deadLetterAlerts,
  dependencyAlerts,
  DependencyWatch,
  durabilityAlerts,
  emailSink,
  failedStrategyAlerts,
  LeaseTakeoverRecorder,
  type Logger,
  type Metrics,
  type Probe,
  redisProbe,
  registryProbe,
  schemaAlerts,
  sentinelAlerts,
  type SentinelEventSource,
  slackSink,
  webhookSink,
} from "../mod.ts";
import { poll, type PollHandle } from "../alerts/sources/poller.ts";

/** Metric: writes no replica confirmed in time, summed over the Redis backends. */
export const REDIS_UNCONFIRMED_WRITES_TOTAL =
  "qmtl_redis_unconfirmed_writes_total";

/**
 * The alert sinks the configuration names (none when nothing is set).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { alertSinks } from "@qmtl/qmtl/server";
 * import { loadConfig } from "@qmtl/qmtl/server";
 * const sinks = alertSinks(loadConfig({ QMTL_ALERT_WEBHOOK_URL: "https://alerts.example/q" }).alerts);
 * assert.deepEqual(sinks.map((s) => s.name), ["webhook"]);
 * ```
 */
export function alertSinks(cfg: AlertConfig): AlertSink[] {
  const sinks: AlertSink[] = [];
  if (cfg.webhookUrl) sinks.push(webhookSink({ url: cfg.webhookUrl }));
  if (cfg.slackWebhookUrl) sinks.push(slackSink({ url: cfg.slackWebhookUrl }));
  if (cfg.smtp) {
    sinks.push(emailSink({
      host: cfg.smtp.host,
      port: cfg.smtp.port,
      tls: cfg.smtp.tls,
      user: cfg.smtp.user,
      password: cfg.smtp.password,
      from: cfg.smtp.from,
      to: cfg.smtp.to,
      timeoutMs: cfg.sinkTimeoutMs,
    }));
  }
  return sinks;
}

/**
 * What {@linkcode createOperations} needs from the server.
 *
 * @example
 * ```ts ignore
 * const input: OperationsInput = { cfg, logger, metrics, registry, queues: { diff: queue }, events };
 * ```
 */
export interface OperationsInput {
  /** The server configuration. */
  cfg: ServerConfig;
  /** Structured logger (alerts are logged here). */
  logger: Logger;
  /** The gateway's metrics registry. */
  metrics: Metrics;
  /** The DAG registry (its `startup.missing`, when Neo4j, raises an alert). */
  registry: NodeRegistry;
  /** Sentinel events, when Redis runs under Sentinel. */
  observer?: SentinelEventSource;
  /** Work queues by name (dead letters; unconfirmed writes). */
  queues: Record<string, WorkQueue>;
  /** The lifecycle event log (failing strategies; unconfirmed writes). */
  events: EventLog;
  /** Other backends that count unconfirmed writes (e.g. the strategy store). */
  others?: unknown[];
  /** Extra sinks (tests); added to those of the configuration. */
  sinks?: AlertSink[];
}

/**
 * The running operations side of the server.
 *
 * @example
 * ```ts ignore
 * const ops = createOperations(input);
 * await ops.start();
 * ops.leaseTakeovers.record({ nodeId: "n1", newOwner: "runner-2" });
 * await ops.close();
 * ```
 */
export interface Operations {
  /** The alerter (`alerter.raise({...})` for conditions of other parts). */
  alerter: Alerter;
  /** The dependency watch behind `/readyz`. */
  watch: DependencyWatch;
  /** Producer-lease takeovers of the runner (counter and alert). */
  leaseTakeovers: LeaseTakeoverRecorder;
  /** Readiness checks to add to the gateway's (`redis`, `neo4j`). */
  readiness: Record<string, () => Promise<HealthStatus>>;
  /** First checks (and the start-up schema alert), then periodic checks. */
  start(): Promise<void>;
  /** Stop the checks, flush alerts (bounded), close the probe client. */
  close(): Promise<void>;
}

function unconfirmedOf(backend: unknown): number {
  const n = (backend as { unconfirmedWrites?: unknown } | null)
    ?.unconfirmedWrites;
  return typeof n === "number" ? n : 0;
}

/**
 * Builds the alerter, the dependency watch and the alert sources from the
 * configuration and the server's backends.
 *
 * @example
 * ```ts
 * import { createOperations } from "@qmtl/qmtl/server";
 * import { loadConfig } from "@qmtl/qmtl/server";
 * import { createLogger, Metrics } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryEventLog, MemoryQueue } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 * const queue = new MemoryQueue();
 * const ops = createOperations({
 *   cfg: loadConfig({}), logger: createLogger({ level: "error" }), metrics: new Metrics(),
 *   registry: new MemoryRegistry(), queues: { diff: queue }, events: new MemoryEventLog(),
 * });
 * await ops.start();
 * assert.deepEqual(Object.keys(ops.readiness), []); // memory backends: no dependency to watch
 * await ops.close();
 * await queue.close();
 * ```
 */
export function createOperations(input: OperationsInput): Operations {
  const { cfg, logger, metrics } = input;
  const a = cfg.alerts;
  const alerter = new Alerter({
    sinks: [...alertSinks(a), ...(input.sinks ?? [])],
    dedupWindowMs: a.dedupWindowMs,
    rateLimitPerMinute: a.rateLimitPerMinute,
    sinkTimeoutMs: a.sinkTimeoutMs,
    logger,
    metrics,
  });
  const leaseTakeovers = new LeaseTakeoverRecorder(alerter, metrics);

  // ---- dependency watch ----------------------------------------------------
  const probes: Record<string, Probe> = {};
  let probeClient: RedisClient | undefined;
  let probeTimeoutMs = 3_000;
  if (cfg.redis) {
    const sentinel = cfg.redis.url.includes("+sentinel:");
    const waitReplicas = cfg.redis.waitReplicas ?? (sentinel ? 1 : 0);
    probeTimeoutMs = cfg.redis.waitTimeoutMs + 2_000;
    // Its own connection: WAIT blocks the connection it is sent on.
    probeClient = createRedis(cfg.redis.url, {
      connectionName: "qmtl-health",
      maxRetriesPerRequest: 1,
      // Not ioredis's failover detector: it can end the client for good
      // (see deploy/server.ts), and /readyz would then never recover.
      extra: { failoverDetector: false },
      commandTimeoutMs: cfg.redis.waitTimeoutMs + 1_000,
    });
    probes.redis = redisProbe({
      redis: probeClient,
      waitReplicas,
      waitTimeoutMs: cfg.redis.waitTimeoutMs,
    });
  }
  if (cfg.neo4j) probes.neo4j = registryProbe(input.registry);
  const watch = new DependencyWatch({
    probes,
    timeoutMs: probeTimeoutMs,
    intervalMs: a.checkIntervalMs,
    metrics,
    logger,
  });

  // ---- sources -------------------------------------------------------------
  const backends = [
    ...Object.values(input.queues),
    input.events,
    ...(input.others ?? []),
  ];
  const unconfirmedWrites = () =>
    backends.reduce((n: number, b) => n + unconfirmedOf(b), 0);
  metrics.gauge(
    REDIS_UNCONFIRMED_WRITES_TOTAL,
    "Writes that no replica confirmed in time (DurabilityError / retryable 503), since start.",
    () => [{ labels: {}, value: unconfirmedWrites() }],
    "counter",
  );
  const offs: (() => void)[] = [
    dependencyAlerts(alerter, watch, { downAfterMs: a.dependencyDownMs }),
  ];
  if (input.observer) offs.push(sentinelAlerts(alerter, input.observer));
  const durability = durabilityAlerts(alerter, { unconfirmedWrites });
  const deadLetters = deadLetterAlerts(alerter, {
    queues: input.queues,
    metrics,
  });
  const failing = failedStrategyAlerts(alerter, {
    events: input.events,
    threshold: a.failedStrategies,
    windowMs: a.failedWindowMs,
  });
  let poller: PollHandle | undefined;
  let started = false;

  return {
    alerter,
    watch,
    leaseTakeovers,
    readiness: watch.readiness(),
    async start() {
      if (started) return;
      started = true;
      const missing = (input.registry as { startup?: { missing?: unknown[] } })
        .startup
        ?.missing;
      if (Array.isArray(missing)) {
        schemaAlerts(
          alerter,
          missing as { object: { name: string }; problem: string }[],
        );
      }
      await watch.checkAll();
      watch.start();
      poller = poll(
        async () => {
          durability();
          await deadLetters();
          await failing();
        },
        a.checkIntervalMs,
        (e) => logger.warn("alert check failed", { error: e }),
      );
      logger.info("alerting", {
        sinks: alerter.sinkNames,
        dependencies: watch.names,
        dedupWindowMs: a.dedupWindowMs,
        rateLimitPerMinute: a.rateLimitPerMinute,
      });
    },
    async close() {
      for (const off of offs) off();
      await poller?.stop();
      await watch.stop();
      await alerter.close();
      if (probeClient) await closeRedis(probeClient);
    },
  };
}
