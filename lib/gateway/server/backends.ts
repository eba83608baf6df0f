/**
 * Every backend a gateway needs, derived from one configuration: with
 * `redis` set, the diff and webhook queues, the event log, the node topics
 * and the strategy store all live in that Redis; without it, all of them in
 * memory. Likewise the registry is Neo4j with `neo4j`, else in memory. There
 * is no mix by omission: a durable queue never sits next to an in-memory
 * store. `close()` closes everything `openBackends` opened, the Redis
 * connection last.
 *
 * @module
 */

import {
  MemoryRegistry,
  Neo4jRegistry,
  type NodeRegistry,
} from "../../dag/mod.ts";
import {
  closeRedis,
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
} from "../../queue/mod.ts";
import type { RedisClient } from "../../queue/connection.ts";
import type { Logger } from "../logger/mod.ts";
import { claimNamespace, namespaceKeys } from "../store/namespace.ts";
import { MemoryStrategyStore } from "../store/memory.ts";
import { RedisStrategyStore } from "../store/redis.ts";
import type { StrategyStore } from "../store/types.ts";
import type { ServerConfig } from "./config.ts";

/**
 * The backends of one gateway (the `createGateway` options of the same
 * names) and what to close.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Backends, openBackends } from "@qmtl/qmtl/server";
 * const b: Backends = await openBackends({ topics: { retentionMs: 60_000, maxLen: 100 } });
 * assert.equal(b.kind, "memory");
 * await b.close();
 * ```
 */
export interface Backends {
  /** `memory` (no Redis, no Neo4j), `redis`, `neo4j` or `redis+neo4j`. */
  kind: "memory" | "redis" | "neo4j" | "redis+neo4j";
  /** The global DAG registry. */
  registry: NodeRegistry;
  /** Diff jobs. */
  queue: WorkQueue;
  /** Webhook deliveries. */
  webhookQueue: WorkQueue;
  /** Lifecycle events. */
  events: EventLog;
  /** Node topics and producer leases. */
  topics: TopicStore;
  /** Strategy records. */
  store: StrategyStore;
  /** Sentinel event source, with a `redis+sentinel://` URL. */
  observer?: SentinelObserver;
  /** The shared Redis connection, with `redis`. */
  redis?: RedisClient;
  /** Close every backend opened here, the Redis connection last. Idempotent. */
  close(): Promise<void>;
}

/**
 * Options of {@link openBackends}.
 *
 * @example
 * ```ts
 * import type { OpenBackendsOptions } from "@qmtl/qmtl/server";
 * const o: OpenBackendsOptions = { wrapRegistry: (r) => r };
 * ```
 */
export interface OpenBackendsOptions {
  /** Start-up lines (`dependency …`); default none. */
  logger?: Logger;
  /** Wrap the registry (e.g. to slow the diff down in a crash test). */
  wrapRegistry?: (r: NodeRegistry) => NodeRegistry;
}

/**
 * Open the backends a configuration names (see the module doc).
 *
 * @param cfg `neo4j`, `redis`, `topics` and `namespace` of a
 * {@link ServerConfig}: every Redis name derives from the namespace, and a
 * Redis namespace already claimed for another registry is refused
 * @param options logger, registry wrapper
 * @returns the backends; close them with `close()` after the gateway
 * @example
 * ```ts
 * import { configFromEnv, openBackends } from "@qmtl/qmtl/server";
 * import { createGateway } from "@qmtl/qmtl/gateway";
 * const backends = await openBackends(configFromEnv({}));
 * const gw = createGateway({
 *   ...backends,
 *   auth: { secret: "s".repeat(32), issuer: "qmtl", audience: "qmtl-gateway" },
 *   worker: { autoStart: false },
 * });
 * await gw.close();
 * await backends.close();
 * ```
 */
export async function openBackends(
  cfg:
    & Pick<ServerConfig, "neo4j" | "redis" | "topics">
    & Partial<Pick<ServerConfig, "namespace">>,
  options: OpenBackendsOptions = {},
): Promise<Backends> {
  const logger = options.logger;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) {
      await c().catch((e) => logger?.warn("close failed", { error: e }));
    }
  };
  try {
    // ---- registry -----------------------------------------------------------
    let registry: NodeRegistry;
    if (cfg.neo4j) {
      const neo = await Neo4jRegistry.connect({
        url: cfg.neo4j.url,
        user: cfg.neo4j.user,
        password: cfg.neo4j.password,
        database: cfg.neo4j.database,
        namespace: cfg.neo4j.namespace,
        migrate: cfg.neo4j.migrate,
        warn: (m) => logger?.warn(m),
      });
      closers.push(() => neo.close());
      registry = neo;
      const h = await registry.health();
      logger?.info("dependency neo4j", {
        ok: h.ok,
        detail: h.detail,
        migrate: cfg.neo4j.migrate,
        namespace: cfg.neo4j.namespace,
      });
    } else {
      const mem = new MemoryRegistry();
      closers.push(() => mem.close());
      registry = mem;
      logger?.info("dependency registry", {
        backend: "memory",
        note: "QMTL_NEO4J_URL unset: embedded registry",
      });
    }
    if (options.wrapRegistry) registry = options.wrapRegistry(registry);

    // ---- queue, events, topics, store: one Redis, or all in memory ----------
    if (cfg.redis) {
      // Every Redis name derives from the namespace (QMTL_NAMESPACE).
      const keys = namespaceKeys(cfg.namespace ?? "qmtl");
      const redis = createRedis(cfg.redis.url, {
        connectionName: "qmtl-gateway",
        // ioredis 5.11's failover detector can end a Sentinel client for
        // good: a +switch-master that arrives while the client is already
        // reconnecting (the master was killed) aborts that reconnect, and
        // the client goes to "end" ("Connection is closed." forever). A
        // killed master closes the connection, and READONLY makes the client
        // reconnect (see redisOptions), so the detector is not needed.
        extra: { failoverDetector: false },
      });
      // closeRedis, not quit(): with Sentinel, ioredis's failover detector
      // keeps its Sentinel connections (and the process) alive after QUIT.
      closers.push(() => closeRedis(redis));
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
      );
      const observer = sentinel
        ? new SentinelObserver(cfg.redis.url)
        : undefined;
      if (observer) closers.push(() => observer.close());
      const stores = closedWith(closers, {
        queue: new RedisQueue({
          redis,
          ...keys.diffQueue,
          waitReplicas,
          waitTimeoutMs,
          backoff: DIFF_BACKOFF,
        }),
        webhookQueue: new RedisQueue({
          redis,
          ...keys.webhookQueue,
          waitReplicas,
          waitTimeoutMs,
        }),
        events: new RedisEventLog({
          redis,
          keyPrefix: keys.eventPrefix,
          waitReplicas,
          waitTimeoutMs,
        }),
        topics: new RedisTopicStore({
          redis,
          keyPrefix: keys.topicPrefix,
          waitReplicas,
          waitTimeoutMs,
          defaults: cfg.topics,
        }),
        store: new RedisStrategyStore({
          redis,
          waitReplicas: waitReplicas > 0,
          waitMs: waitTimeoutMs,
          prefix: keys.storePrefix,
        }),
      });
      const pong = await redis.ping();
      logger?.info("dependency redis", {
        ok: pong === "PONG",
        sentinel,
        waitReplicas,
      });
      logger?.info("namespace", {
        namespace: marker.namespace,
        registry: marker.registry,
      });
      return {
        kind: cfg.neo4j ? "redis+neo4j" : "redis",
        registry,
        ...stores,
        ...(observer ? { observer } : {}),
        redis,
        close: closeAll,
      };
    }
    const stores = closedWith(closers, {
      queue: new MemoryQueue({ backoff: DIFF_BACKOFF }),
      webhookQueue: new MemoryQueue(),
      events: new MemoryEventLog(),
      topics: new MemoryTopicStore({ defaults: cfg.topics }),
      store: new MemoryStrategyStore(),
    });
    logger?.info("dependency queue", {
      backend: "memory",
      note: "QMTL_REDIS_URL unset: in-memory queue",
    });
    return {
      kind: cfg.neo4j ? "neo4j" : "memory",
      registry,
      ...stores,
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Backoff of diff jobs `nack`ed without `retryAfterMs`. */
const DIFF_BACKOFF = { baseMs: 1000, maxMs: 30_000 };

/** The stores of a gateway: one backend family (Redis or memory) for all. */
type Stores = Pick<
  Backends,
  "queue" | "webhookQueue" | "events" | "topics" | "store"
>;

/** Registers the `close()` of every store with `closers`; returns them. */
function closedWith(closers: (() => Promise<void>)[], s: Stores): Stores {
  closers.push(
    () => s.queue.close(),
    () => s.webhookQueue.close(),
    () => s.events.close(),
    () => s.topics.close(),
    () => s.store.close(),
  );
  return s;
}
