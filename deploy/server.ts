/**
 * Reference server entry point (`deno task serve`).
 *
 * Reads `QMTL_*` configuration (see README "Configuration"), refuses to start
 * on a bad value, assembles the backends and the gateway, runs start-up
 * recovery and serves. With no `QMTL_NEO4J_URL` / `QMTL_REDIS_URL` it runs on
 * the embedded in-memory backends. With no JWT key configured (dev mode) it
 * binds 127.0.0.1 only, generates an HS256 key and prints a short-lived
 * token. SIGINT / SIGTERM: stop accepting, finish or release leased jobs,
 * close the backends.
 *
 * @module
 */
import { ConfigError, loadConfig, type ServerConfig } from "./config.ts";
import type { NodeRegistry } from "../lib/dag/mod.ts";
import { MemoryRegistry, Neo4jRegistry } from "../lib/dag/mod.ts";
import {
  createRedis,
  type EventLog,
  MemoryEventLog,
  MemoryQueue,
  MemoryTopicStore,
  RedisEventLog,
  RedisQueue,
  RedisTopicStore,
  SentinelObserver,
  type TopicStore,
  type WorkQueue,
} from "../lib/queue/mod.ts";
import { createOperations, type Operations } from "./operations.ts";
import {
  claimNamespace,
  createGateway,
  createLogger,
  type Gateway,
  type Logger,
  MemoryStrategyStore,
  Metrics,
  namespaceKeys,
  RedisStrategyStore,
  serveGateway,
  signDevToken,
  type StrategyStore,
} from "../lib/gateway/mod.ts";

/**
 * Loads the configuration or exits the process with status 2 and a message
 * naming every bad variable.
 *
 * @example
 * ```ts ignore
 * const cfg = configOrExit(Deno.env.toObject());
 * ```
 */
export function configOrExit(
  env: Record<string, string | undefined>,
): ServerConfig {
  try {
    return loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`qmtl: ${e.message}`);
      Deno.exit(2);
    }
    throw e;
  }
}

/** A running reference server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The gateway. */
  gateway: Gateway;
  /** Alerts, dependency watch and lease-takeover recorder. */
  operations: Operations;
  /** Graceful stop: stop accepting, drain the worker, close backends. */
  stop(): Promise<void>;
}

/** Hooks for tests and benchmarks. */
export interface StartOptions {
  /** Wrap the registry (e.g. to slow the diff down in a crash test). */
  wrapRegistry?: (r: NodeRegistry) => NodeRegistry;
  /** Logger override. */
  logger?: Logger;
  /** Diff-job lease length, ms (default `QMTL_DIFF_LEASE_MS`). */
  leaseMs?: number;
  /** Do not print the dev token banner. */
  quiet?: boolean;
}

function randomSecret(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Assemble backends + gateway from a configuration and serve.
 *
 * @example
 * ```ts ignore
 * const srv = await startServer(loadConfig(Deno.env.toObject()));
 * await srv.stop();
 * ```
 */
export async function startServer(
  cfg: ServerConfig,
  opts: StartOptions = {},
): Promise<RunningServer> {
  const logger = opts.logger ??
    createLogger({ level: cfg.logLevel, base: { component: "qmtl" } });
  const closers: (() => Promise<void>)[] = [];
  // Every Redis name derives from the namespace (QMTL_NAMESPACE).
  const keys = namespaceKeys(cfg.namespace);

  // ---- registry -----------------------------------------------------------
  let registry: NodeRegistry;
  if (cfg.neo4j) {
    registry = await Neo4jRegistry.connect({
      url: cfg.neo4j.url,
      user: cfg.neo4j.user,
      password: cfg.neo4j.password,
      database: cfg.neo4j.database,
      namespace: cfg.neo4j.namespace,
      migrate: cfg.neo4j.migrate,
      warn: (m) => logger.warn(m),
    });
    const h = await registry.health();
    logger.info("dependency neo4j", {
      ok: h.ok,
      detail: h.detail,
      migrate: cfg.neo4j.migrate,
    });
  } else {
    registry = new MemoryRegistry();
    logger.info("dependency registry", {
      backend: "memory",
      note: "QMTL_NEO4J_URL unset: embedded registry",
    });
  }
  closers.push(() => registry.close());
  if (opts.wrapRegistry) registry = opts.wrapRegistry(registry);

  // ---- queue, events, store -----------------------------------------------
  let queue: WorkQueue;
  let webhookQueue: WorkQueue;
  let events: EventLog;
  let store: StrategyStore;
  let topics: TopicStore;
  let observer: SentinelObserver | undefined;
  if (cfg.redis) {
    const redis = createRedis(cfg.redis.url, {
      connectionName: "qmtl-gateway",
      // ioredis 5.11's failover detector can end a Sentinel client for
      // good: a +switch-master that arrives while the client is already
      // reconnecting (the master was killed) aborts that reconnect, and the
      // client goes to "end" ("Connection is closed." forever). A killed
      // master closes the connection, and READONLY makes the client
      // reconnect (see redisOptions), so the detector is not needed.
      extra: { failoverDetector: false },
    });
    const sentinel = cfg.redis.url.includes("+sentinel:");
    const waitReplicas = cfg.redis.waitReplicas ?? (sentinel ? 1 : 0);
    const waitTimeoutMs = cfg.redis.waitTimeoutMs;
    // The namespace's marker names the registry it belongs to: a gateway
    // pointed at another registry would take jobs it cannot handle.
    const marker = await claimNamespace(
      redis,
      keys,
      cfg.neo4j
        ? `neo4j database ${cfg.neo4j.database}, namespace ${cfg.neo4j.namespace}`
        : "memory",
    ).catch(async (e) => {
      await redis.quit().catch(() => redis.disconnect());
      for (const c of closers) await c().catch(() => {});
      throw e;
    });
    queue = new RedisQueue({
      redis,
      ...keys.diffQueue,
      waitReplicas,
      waitTimeoutMs,
      backoff: { baseMs: 1000, maxMs: 30_000 },
    });
    webhookQueue = new RedisQueue({
      redis,
      ...keys.webhookQueue,
      waitReplicas,
      waitTimeoutMs,
    });
    events = new RedisEventLog({
      redis,
      keyPrefix: keys.eventPrefix,
      waitReplicas,
      waitTimeoutMs,
    });
    topics = new RedisTopicStore({
      redis,
      keyPrefix: keys.topicPrefix,
      waitReplicas,
      waitTimeoutMs,
      defaults: cfg.topics,
    });
    store = new RedisStrategyStore({
      redis,
      waitReplicas: waitReplicas > 0,
      waitMs: waitTimeoutMs,
      prefix: keys.storePrefix,
    });
    const pong = await redis.ping();
    logger.info("dependency redis", {
      ok: pong === "PONG",
      sentinel,
      waitReplicas,
    });
    logger.info("namespace", {
      namespace: marker.namespace,
      registry: marker.registry,
    });
    if (sentinel) {
      observer = new SentinelObserver(cfg.redis.url);
    }
    closers.push(async () => {
      await observer?.close();
      await redis.quit().catch(() => redis.disconnect());
    });
    closers.push(
      () => queue.close(),
      () => webhookQueue.close(),
      () => events.close(),
      () => topics.close(),
      () => store.close(),
    );
  } else {
    queue = new MemoryQueue({ backoff: { baseMs: 1000, maxMs: 30_000 } });
    webhookQueue = new MemoryQueue();
    events = new MemoryEventLog();
    topics = new MemoryTopicStore({ defaults: cfg.topics });
    store = new MemoryStrategyStore();
    logger.info("dependency queue", {
      backend: "memory",
      note: "QMTL_REDIS_URL unset: in-memory queue",
    });
    closers.push(
      () => queue.close(),
      () => webhookQueue.close(),
      () => events.close(),
      () => topics.close(),
    );
  }

  // ---- auth -----------------------------------------------------------------
  const dev = cfg.devMode;
  const secret = cfg.jwt.secret ?? (dev ? randomSecret() : undefined);
  const webhookSecret = cfg.webhookSecret ?? randomSecret();

  // ---- operations: alerts, dependency watch (deploy/operations.ts) --------
  const metrics = new Metrics();
  const operations = createOperations({
    cfg,
    logger,
    metrics,
    registry,
    observer,
    queues: { diff: queue, webhook: webhookQueue },
    events,
    others: [store],
  });
  closers.unshift(() => operations.close());

  const gateway = createGateway({
    metrics,
    registry,
    queue,
    topics,
    ...(cfg.gc.intervalMs > 0 ? { gc: cfg.gc } : {}),
    onLeaseTakeover: (topic, grant) => {
      void registry.getTopic(topic).catch(() => null).then((t) =>
        operations.leaseTakeovers.record({
          nodeId: t?.nodeId ?? topic,
          topic,
          previousOwner: grant.previousHolder,
          newOwner: grant.holder,
        })
      );
    },
    webhookQueue,
    events,
    store,
    auth: {
      secret,
      jwksUrl: cfg.jwt.jwksUrl,
      issuer: cfg.jwt.issuer,
      audience: cfg.jwt.audience,
      algorithms: cfg.jwt.algorithms,
      clockSkewS: cfg.jwt.clockSkewS,
    },
    policy: { defaults: cfg.policy },
    logger,
    maxBodyBytes: cfg.maxBodyBytes,
    webhookSecret,
    webhooks: { allowHosts: cfg.webhookAllowHosts },
    worker: {
      leaseMs: opts.leaseMs ?? cfg.diff.leaseMs,
      autoStart: false,
      maxAttempts: cfg.diff.maxAttempts,
    },
    readiness: {
      ...operations.readiness,
      migrations: () => {
        const r = registry as { startup?: { missing: unknown[] } };
        const missing = r.startup?.missing.length ?? 0;
        return Promise.resolve(
          missing === 0
            ? { ok: true, detail: cfg.neo4j ? "schema up to date" : "memory" }
            : {
              ok: false,
              detail:
                `${missing} schema objects missing: run deno task migrate`,
            },
        );
      },
    },
  });
  observer?.on((e) => {
    gateway.recordSentinelEvent(e.type);
    logger.warn("redis sentinel event", { type: e.type, master: e.masterName });
  });
  await gateway.worker.start();
  await operations.start();

  const hostname = dev ? "127.0.0.1" : cfg.host;
  // serveGateway, not Deno.serve: read deadlines, a connection cap and no
  // exit on EMFILE (lib/gateway/serve).
  const server = serveGateway(gateway.app.fetch, {
    hostname,
    port: cfg.port,
    headerTimeoutMs: cfg.http.headerTimeoutMs,
    bodyTimeoutMs: cfg.http.bodyTimeoutMs,
    idleTimeoutMs: cfg.http.idleTimeoutMs,
    maxConnections: cfg.http.maxConnections,
    logger,
    metrics: gateway.metrics,
  });
  const url = `http://${server.addr.hostname}:${server.addr.port}`;
  logger.info("listening", {
    url,
    devMode: dev,
    policy: cfg.policy,
    http: { ...cfg.http, maxConnections: server.maxConnections },
  });

  if (dev && !opts.quiet) {
    const token = await signDevToken({
      secret: secret!,
      issuer: cfg.jwt.issuer,
      audience: cfg.jwt.audience,
      subject: "dev",
      roles: ["submitter", "reader", "operator"],
      ttlS: 3600,
    });
    console.error(
      [
        "",
        "qmtl: dev mode (no QMTL_JWT_SECRET / QMTL_JWT_JWKS_URL): bound to 127.0.0.1 with a generated key.",
        "qmtl: a dev token (roles submitter, reader, operator; valid 1 hour):",
        "",
        `  export QMTL_TOKEN=${token}`,
        `  export QMTL_URL=${url}`,
        `  curl -H "Authorization: Bearer $QMTL_TOKEN" $QMTL_URL/v1/strategies`,
        "",
      ].join("\n"),
    );
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    gateway,
    operations,
    stop() {
      stopped ??= (async () => {
        logger.info("shutting down: no new requests; draining the worker");
        // Stop accepting; in-flight requests finish (SSE streams end with
        // gateway.close()), idle connections close.
        const draining = server.shutdown();
        await gateway.close();
        await draining;
        for (const c of closers) {
          await c().catch((e) => logger.warn("close failed", { error: e }));
        }
        logger.info("stopped");
      })();
      return stopped;
    },
  };
}

if (import.meta.main) {
  const cfg = configOrExit(Deno.env.toObject());
  let srv: RunningServer;
  try {
    srv = await startServer(cfg);
  } catch (e) {
    console.error(`qmtl: start-up failed: ${(e as Error).message}`);
    Deno.exit(1);
  }
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      srv.stop().then(() => Deno.exit(0));
    });
  }
}
