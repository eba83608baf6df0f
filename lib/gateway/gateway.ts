/**
 * `createGateway`: assembles the Hono app (one compiled pipeline per route, the contract
 * API served by connect-es, read-only REST, SSE, ops endpoints), the
 * strategy service, the diff worker and webhook delivery.
 *
 * @module
 */

import { Code } from "@connectrpc/connect";
import { Hono } from "hono";
import { QmtlError } from "../contracts/errors.ts";
import type { Context, Handler } from "hono";
import type { HealthStatus, NodeRegistry } from "../dag/registry.ts";
import { MemoryEventLog } from "../queue/memory_event_log.ts";
import { MemoryQueue } from "../queue/memory_queue.ts";
import { MemoryTopicStore } from "../queue/memory_topic_store.ts";
import type { ProducerLease, TopicStore } from "../queue/types.ts";
import { GcScheduler } from "./gc/mod.ts";
import { TopicService } from "./topics/mod.ts";
import type { EventLog, WorkQueue } from "../queue/types.ts";
import { type RouteDef, type RouteId, ROUTES } from "./acl/mod.ts";
import {
  type Authenticator,
  type AuthOptions,
  createAuthenticator,
} from "./auth/mod.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./body_limit/mod.ts";
import { errorHandler } from "./error_mapper/mod.ts";
import { createEventEmitter } from "./events/emitter.ts";
import { sseHandler, type SseOptions } from "./events/sse.ts";
import { stateName } from "./lifecycle/mod.ts";
import {
  createLogger,
  droppedLogLines,
  type Logger,
  requestLogWriter,
  workerLogging,
} from "./logger/mod.ts";
import { declareGatewayFamilies, Metrics } from "./metrics/mod.ts";
import { readyzHandler } from "./health/readyz.ts";
import { buildOpenApi } from "./openapi/mod.ts";
import { createPolicy, type Policy, type PolicyOptions } from "./policy/mod.ts";
import { routePipeline } from "./pipeline.ts";
import { restHandlers } from "./rest/mod.ts";
import { createRpcHandlers } from "./connect/router.ts";
import { connectErrorOf, rpcErrorResponse } from "./connect/errors.ts";
import {
  DIFF_PHASES,
  type DiffPhase,
  StrategyService,
  type StrategyServiceOptions,
} from "./service.ts";
import { MemoryStrategyStore } from "./store/memory.ts";
import type { StrategyStore } from "./store/types.ts";
import type { GatewayApp, GatewayEnv } from "./types.ts";
import {
  parseAllowHosts,
  type Resolver,
  WebhookDispatcher,
} from "./webhooks/mod.ts";
import { QueueWorker } from "../queue/worker.ts";

/**
 * Options of {@link createGateway}.
 *
 * @example
 * ```ts
 * import type { GatewayOptions } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryEventLog, MemoryQueue } from "@qmtl/qmtl/queue";
 * const o: GatewayOptions = {
 *   registry: new MemoryRegistry(), queue: new MemoryQueue(), events: new MemoryEventLog(),
 *   auth: { secret: "a".repeat(32), issuer: "qmtl", audience: "qmtl-gateway" },
 * };
 * ```
 */
export interface GatewayOptions {
  /** Global DAG registry. */
  registry: NodeRegistry;
  /** Work queue of diff jobs. */
  queue: WorkQueue;
  /** Event log of lifecycle events. */
  events: EventLog;
  /**
   * Work queue of webhook deliveries. Default an in-memory queue — only when
   * `queue` and `events` are in memory too (see {@link createGateway}).
   */
  webhookQueue?: WorkQueue;
  /**
   * Strategy store. Default in memory — only when `queue` and `events` are
   * in memory too.
   */
  store?: StrategyStore;
  /** JWT verification settings, or a ready authenticator. */
  auth: AuthOptions | Authenticator;
  /** Submission policy. */
  policy?: PolicyOptions | Policy;
  /** Logger; default JSON lines on stdout at `info`. */
  logger?: Logger;
  /** Largest accepted request body; default 8 MiB. */
  maxBodyBytes?: number;
  /** HMAC secret of webhook signatures. */
  webhookSecret?: string;
  /**
   * Webhook delivery limits (the retry backoff is the `webhookQueue`'s).
   * Defaults: 8 attempts, 5000 ms per delivery, 4 deliveries in flight.
   */
  webhooks?: {
    /** Attempts before a delivery is dead-lettered. */
    maxAttempts?: number;
    /** Timeout of one delivery, ms. */
    timeoutMs?: number;
    /** Deliveries in flight at once. */
    concurrency?: number;
    /**
     * Callback hosts admitted besides public addresses (local development):
     * `host`, `host:port`, an IP or a CIDR block (see `parseAllowHosts`).
     * Checked at submit (`E_INVALID`) and, after DNS, at each delivery.
     */
    allowHosts?: string | readonly string[];
    /** Host name resolution for deliveries (tests); default the system resolver. */
    resolve?: Resolver;
  };
  /** Diff worker settings. */
  worker?: {
    /** Start the worker with the gateway; default true. */
    autoStart?: boolean;
    /** Diff jobs in flight; default 2. */
    concurrency?: number;
    /** Lease length, ms; default 30000. */
    leaseMs?: number;
    /** Interval of the recovery sweep, ms; default 30000. */
    sweepIntervalMs?: number;
    /** Retry delay after the registry was unavailable, ms; default: queue backoff. */
    retryAfterMs?: number;
    /**
     * Attempts of one diff before its strategy goes FAILED with the reason;
     * default 8 (see {@link StrategyServiceOptions.maxAttempts}).
     */
    maxAttempts?: number;
    /**
     * Lifetime of a process's claim on publishing a strategy's pending
     * events (renewed while it publishes), ms; default 15000.
     */
    pendingEventGraceMs?: number;
    /** While the registry is down, how often its health is checked, ms; default 1000. */
    registryCheckMs?: number;
  };
  /** Fault injection for tests (see {@link StrategyServiceOptions.hooks}). */
  hooks?: StrategyServiceOptions["hooks"];
  /** SSE limits. */
  sse?: SseOptions;
  /** Extra readiness checks (e.g. `migrations`). */
  readiness?: Record<string, () => Promise<HealthStatus>>;
  /** Log successful requests at info (default true; false logs them at debug). */
  logSuccess?: boolean;
  /** Metrics registry behind `/metrics`; default a new one (pass one to add families first). */
  metrics?: Metrics;
  /**
   * Node topics (bars, producer leases). A diff creates the topics of its
   * nodes here; GC deletes them. Default in memory — only when `queue` and
   * `events` are in memory too.
   */
  topics?: TopicStore;
  /** Scheduled GC of unreferenced nodes and their topics; default off. */
  gc?: {
    /** Time between runs, ms. */
    intervalMs: number;
    /** A node no live strategy references is collected once unused this long, ms. */
    graceMs: number;
  };
  /** Called when a producer lease is taken over from a dead producer. */
  onLeaseTakeover?: (topic: string, grant: ProducerLease) => void;
  /**
   * Serve every route under this prefix (e.g. `/qmtl`: `/qmtl/v1/nodes`,
   * `/qmtl/qmtl.v1.GatewayService/SubmitStrategy`), for a `Deno.serve`
   * handler that dispatches by path. Not needed inside a Hono app:
   * `app.route("/qmtl", gateway.app)` prefixes the routes itself.
   */
  basePath?: string;
}

/**
 * The diff worker of a gateway.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createGateway } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryEventLog, MemoryQueue } from "@qmtl/qmtl/queue";
 * const gateway = createGateway({
 *   registry: new MemoryRegistry(), queue: new MemoryQueue(), events: new MemoryEventLog(),
 *   auth: { secret: "a".repeat(32), issuer: "qmtl", audience: "qmtl-gateway" },
 *   worker: { autoStart: false },
 * });
 * await gateway.worker.start();
 * assert.ok(gateway.worker.alive);
 * await gateway.close();
 * ```
 */
export interface GatewayWorker {
  /** Run the recovery sweep, then start leasing diff and webhook jobs. */
  start(): Promise<void>;
  /** Stop leasing; finish or release in-flight jobs. */
  stop(): Promise<void>;
  /** Run one recovery sweep now; returns how many strategies were re-enqueued. */
  sweep(): Promise<number>;
  /** True while the diff loop runs. */
  readonly alive: boolean;
  /** Diff jobs being processed. */
  readonly inflight: number;
}

/**
 * A gateway: the app, its worker and services.
 *
 * @example
 * ```ts
 * import type { Gateway } from "@qmtl/qmtl/gateway";
 * function serve(gw: Gateway): Deno.HttpServer {
 *   return Deno.serve(gw.app.fetch);
 * }
 * ```
 */
export interface Gateway {
  /** The Hono app (`Deno.serve(gateway.app.fetch)`). */
  app: GatewayApp;
  /** The diff worker (and webhook delivery). */
  worker: GatewayWorker;
  /** Strategy operations. */
  service: StrategyService;
  /** Metrics registry behind `/metrics`. */
  metrics: Metrics;
  /** Node topics and producer leases. */
  topics: TopicService;
  /** Scheduled GC, when configured. */
  gc?: GcScheduler;
  /** Count a Redis Sentinel event (`+switch-master`, `+sdown`, `+odown`, …). */
  recordSentinelEvent(type: string): void;
  /**
   * Stop the worker and the GC, end event streams, and close the backends
   * the gateway created itself (the in-memory defaults). Backends passed in
   * the options are the caller's: they stay open.
   */
  close(): Promise<void>;
}

function isAuthenticator(a: AuthOptions | Authenticator): a is Authenticator {
  return typeof (a as Authenticator).verify === "function";
}

function isPolicy(p: PolicyOptions | Policy): p is Policy {
  return typeof (p as Policy).checkDag === "function";
}

/**
 * Build a gateway.
 *
 * Backends are explicit: `store`, `webhookQueue` and `topics` default to
 * in-memory ones only when `queue` and `events` are the in-memory
 * `MemoryQueue` / `MemoryEventLog`. With a durable queue or event log
 * (Redis), leaving one of them out is a `TypeError` naming it — a strategy
 * store that silently forgets everything on restart next to a durable
 * queue is never what you want. Pass them, or derive all of them from one
 * configuration with `openBackends` of `@qmtl/qmtl/server`. `close()`
 * releases what the gateway created, never what it was given.
 *
 * @example
 * ```ts
 * import { createGateway } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryEventLog, MemoryQueue } from "@qmtl/qmtl/queue";
 * const gw = createGateway({
 *   registry: new MemoryRegistry(), queue: new MemoryQueue(), events: new MemoryEventLog(),
 *   auth: { secret: "a".repeat(32), issuer: "qmtl", audience: "qmtl-gateway" },
 *   worker: { autoStart: false },
 * });
 * const res = await gw.app.request("/healthz");
 * await gw.close();
 * ```
 */
export function createGateway(options: GatewayOptions): Gateway {
  const inMemory = options.queue instanceof MemoryQueue &&
    options.events instanceof MemoryEventLog;
  if (!inMemory) {
    const missing = (["store", "webhookQueue", "topics"] as const).filter((k) =>
      options[k] === undefined
    );
    if (missing.length > 0) {
      const durable = options.queue instanceof MemoryQueue
        ? `events is a ${options.events.constructor.name}`
        : `queue is a ${options.queue.constructor.name}`;
      throw new TypeError(
        `createGateway: ${durable}, but ${missing.join(", ")} ${
          missing.length === 1 ? "was" : "were"
        } not given and would live in this process's memory (lost on restart). Pass ${
          missing.length === 1 ? "it" : "them"
        } (RedisStrategyStore, a RedisQueue named "webhook", RedisTopicStore), or open every backend from one configuration with openBackends() of @qmtl/qmtl/server.`,
      );
    }
  }
  const logger = options.logger ??
    createLogger({ base: { component: "gateway" } });
  const metrics = options.metrics ?? new Metrics();
  const sentinelEvents = declareGatewayFamilies(metrics);
  const diffPhases = {} as Record<DiffPhase, (seconds: number) => void>;
  for (const phase of DIFF_PHASES) {
    diffPhases[phase] = metrics.histogramSeries(
      "qmtl_diff_job_phase_seconds",
      "Duration of each step of a diff job (see DiffPhase).",
      { phase },
    );
  }
  const store = options.store ?? new MemoryStrategyStore();
  const webhookQueue = options.webhookQueue ??
    new MemoryQueue({ backoff: { baseMs: 1000, maxMs: 300_000 } });
  const ownsWebhookQueue = options.webhookQueue === undefined;
  const webhooks = new WebhookDispatcher({
    queue: webhookQueue,
    secret: options.webhookSecret,
    maxAttempts: options.webhooks?.maxAttempts,
    timeoutMs: options.webhooks?.timeoutMs,
    concurrency: options.webhooks?.concurrency,
    allowHosts: options.webhooks?.allowHosts,
    resolve: options.webhooks?.resolve,
    logger,
  });
  const events = createEventEmitter({
    log: options.events,
    listeners: [(e, s) => webhooks.onEvent(e, s)],
  });
  const topicStore = options.topics ?? new MemoryTopicStore();
  const topics = new TopicService({
    store: topicStore,
    registry: options.registry,
    ...(options.onLeaseTakeover ? { onTakeover: options.onLeaseTakeover } : {}),
  });
  const gc = options.gc
    ? new GcScheduler({
      registry: options.registry,
      topics,
      ...options.gc,
      logger,
      onReport: (r) =>
        metrics.inc(
          "qmtl_gc_nodes_removed_total",
          "Nodes (and topics) removed by scheduled GC.",
          {},
          r.removed.length,
        ),
    })
    : undefined;
  const service = new StrategyService({
    registry: options.registry,
    queue: options.queue,
    topics,
    store,
    events,
    logger,
    maxAttempts: options.worker?.maxAttempts,
    retryAfterMs: options.worker?.retryAfterMs,
    pendingEventGraceMs: options.worker?.pendingEventGraceMs,
    registryCheckMs: options.worker?.registryCheckMs,
    callbackAllowHosts: parseAllowHosts(options.webhooks?.allowHosts ?? []),
    hooks: options.hooks,
    onDiffPhase: (phase, seconds) => diffPhases[phase](seconds),
    onTransition: (from, to) =>
      metrics.inc(
        "qmtl_lifecycle_transitions_total",
        "Strategy lifecycle transitions.",
        {
          from: from === undefined ? "NONE" : stateName(from),
          to: stateName(to),
        },
      ),
  });
  const authenticator = isAuthenticator(options.auth)
    ? options.auth
    : createAuthenticator(options.auth);
  const pol = options.policy && isPolicy(options.policy)
    ? options.policy
    : createPolicy(options.policy ?? {});
  const sse = sseHandler({
    log: options.events,
    service,
    options: options.sse,
  });

  // ---- worker -------------------------------------------------------------
  const diffLoop = new QueueWorker(
    options.queue,
    (job) => service.processDiffJob(job),
    {
      concurrency: options.worker?.concurrency ?? 2,
      leaseMs: options.worker?.leaseMs ?? 30_000,
      // A diff job is leased only when a slot is free: no job waits on a
      // lease behind a running diff.
      prefetch: 0,
      blockMs: 500,
      ready: () => service.registryReady(),
      ...workerLogging(logger, "diff"),
    },
  );
  let sweepTimer: ReturnType<typeof setInterval> | undefined;
  let started = false;
  const worker: GatewayWorker = {
    async start() {
      if (started) return;
      started = true;
      try {
        const n = await service.sweep();
        logger.info("start-up recovery sweep done", { requeued: n });
      } catch (e) {
        logger.warn(
          "start-up recovery sweep failed; retrying on the next interval",
          { error: e },
        );
      }
      diffLoop.start();
      webhooks.start();
      const every = options.worker?.sweepIntervalMs ?? 30_000;
      sweepTimer = setInterval(() => {
        service.sweep().catch((e) =>
          logger.warn("recovery sweep failed", { error: e })
        );
      }, every);
    },
    async stop() {
      if (sweepTimer !== undefined) clearInterval(sweepTimer);
      sweepTimer = undefined;
      await Promise.all([diffLoop.stop(10_000), webhooks.stop()]);
      started = false;
    },
    sweep: () => service.sweep(),
    get alive() {
      return diffLoop.alive;
    },
    get inflight() {
      return diffLoop.running;
    },
  };

  // ---- metrics ------------------------------------------------------------
  metrics.gauge(
    "qmtl_queue_jobs",
    "Work-queue jobs per queue and state.",
    async () => {
      const out: { labels: Record<string, string>; value: number }[] = [];
      for (
        const [queue, q] of [["diff", options.queue], [
          "webhook",
          webhookQueue,
        ]] as const
      ) {
        const s = await q.stats();
        for (const [state, value] of Object.entries(s)) {
          out.push({
            labels: { queue, state },
            value,
          });
        }
      }
      return out;
    },
  );
  metrics.gauge(
    "qmtl_strategies",
    "Strategies per lifecycle state.",
    async () => {
      const c = await store.counts();
      return Object.entries(c).map(([state, value]) => ({
        labels: { state },
        value,
      }));
    },
  );
  metrics.gauge(
    "qmtl_sse_streams",
    "Open SSE event streams.",
    () => [{ labels: {}, value: sse.open() }],
  );
  metrics.gauge(
    "qmtl_log_lines_dropped_total",
    "Log lines the default stdout sink dropped because stdout could not keep up.",
    () => [{ labels: {}, value: droppedLogLines() }],
    "counter",
  );
  metrics.gauge(
    "qmtl_worker_alive",
    "1 while the diff worker loop runs.",
    () => [{
      labels: {},
      value: diffLoop.alive ? 1 : 0,
    }],
  );

  // ---- handlers -----------------------------------------------------------
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // The contract API: one connect-es handler per GatewayService method, by
  // request path; the route table says who may call it.
  const closing = new AbortController();
  const rpc = createRpcHandlers({
    service,
    registry: options.registry,
    topics,
    policy: pol,
    logger,
    maxBodyBytes,
    signal: closing.signal,
  });
  const rest = restHandlers(service, options.registry);
  const openapi = buildOpenApi();
  // `/openapi.json` served under a prefix (`basePath`, or a Hono parent's
  // `app.route(prefix, …)`) says so in `servers`, so that clients generated
  // from it call the right URLs.
  const openapiJson = new Map<string, string>();
  const openapiFor = (prefix: string): string => {
    let text = openapiJson.get(prefix);
    if (text === undefined) {
      text = JSON.stringify(
        prefix === "" ? openapi : { ...openapi, servers: [{ url: prefix }] },
      );
      if (openapiJson.size < 16) openapiJson.set(prefix, text);
    }
    return text;
  };
  const readyChecks: Record<string, () => Promise<HealthStatus>> = {
    registry: () => options.registry.health(),
    store: () => store.health(),
    queue: async () => {
      try {
        await options.queue.stats();
        return { ok: true, detail: "ok" };
      } catch (e) {
        return { ok: false, detail: (e as Error).message };
      }
    },
    worker: () =>
      Promise.resolve(
        diffLoop.alive
          ? { ok: true, detail: "running" }
          : { ok: false, detail: started ? "stalled" : "not started" },
      ),
    ...options.readiness,
  };
  const handlers: Partial<Record<RouteId, Handler<GatewayEnv>>> = {
    "rest.listStrategies": rest.listStrategies,
    "rest.getStrategy": rest.getStrategy,
    "rest.getStrategyStatus": rest.getStrategyStatus,
    "rest.getQueueMap": rest.getQueueMap,
    "rest.listNodes": rest.listNodes,
    "rest.getNode": rest.getNode,
    "rest.getDependencies": rest.getDependencies,
    "rest.getDependents": rest.getDependents,
    "rest.nodesByTags": rest.nodesByTags,
    "rest.listTopics": rest.listTopics,
    "rest.getTopic": rest.getTopic,
    "rest.events": sse.handler,
    "ops.healthz": (c) => c.json({ status: "ok" }),
    "ops.readyz": readyzHandler(readyChecks),
    "ops.metrics": async (c) =>
      c.body(await metrics.render(), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      }),
    "ops.openapi": (c) =>
      c.body(
        openapiFor(c.req.path.slice(0, -"/openapi.json".length)),
        200,
        { "content-type": "application/json" },
      ),
  };

  // ---- app ----------------------------------------------------------------
  const app = new Hono<GatewayEnv>();
  app.onError(errorHandler(logger));
  // Series handles per (route, method, status), so the hot path neither
  // re-renders label text nor allocates label maps. Bounded: routes come
  // from the route table (or "unmatched"), methods are folded into a fixed
  // set, statuses into 100-599.
  const httpSeries = new Map<
    string,
    { count: (by?: number) => void; latency: (v: number) => void }
  >();
  const done = requestLogWriter({
    logger,
    logSuccess: options.logSuccess,
    observe: (route, method, status, seconds) => {
      const m = KNOWN_METHODS.has(method) ? method : "OTHER";
      const st = status >= 100 && status <= 599 ? status : 0;
      const key = `${route} ${m} ${st}`;
      let s = httpSeries.get(key);
      if (s === undefined) {
        const labels = { route, method: m, status: String(st) };
        s = {
          count: metrics.counterSeries(
            "qmtl_http_requests_total",
            "HTTP requests by route, method and status.",
            labels,
          ),
          latency: metrics.histogramSeries(
            "qmtl_http_request_duration_seconds",
            "HTTP request latency by route.",
            labels,
          ),
        };
        httpSeries.set(key, s);
      }
      s.count();
      s.latency(seconds);
    },
  });
  // Each route's steps (request id → log → error mapper → schema echo →
  // body limit → auth → ACL → policy → schema version → handler; one folder
  // each) are compiled once into ONE handler (./pipeline.ts), so Hono
  // matches a single handler per request and skips `compose`.
  const base = checkBasePath(options.basePath);
  const pipe = {
    logger,
    done,
    authenticator,
    maxBodyBytes,
    policy: pol,
    basePath: base,
  };
  const on = app.on.bind(app) as unknown as (
    m: string | string[],
    p: string,
    h: Handler<GatewayEnv>,
  ) => unknown;
  for (const route of ROUTES) {
    const handler = route.kind === "rpc"
      ? rpc.get(route.path)
      : handlers[route.id];
    if (handler === undefined) {
      throw new Error(`route ${route.id}: no handler for ${route.path}`);
    }
    on(route.method, base + route.path, routePipeline(route, handler, pipe));
    // The other standard methods get their 405 from a route of their own
    // (not only from notFound below), so that the answer survives mounting
    // in a Hono app with `app.route(prefix, gateway.app)`, which copies
    // routes but not the notFound handler.
    const allow = route.method === "GET" ? "GET, HEAD" : "POST";
    on(
      OTHER_METHODS[route.method],
      base + route.path,
      routePipeline(undefined, (c) => {
        c.set("routeId", route.path);
        return methodNotAllowed(c, route, allow);
      }, pipe),
    );
  }
  // Only each route's own method is registered with the router (fewer
  // handler sets to match per request); any other method on a known path
  // falls through to here and gets 405 with `Allow`. Unknown paths get 404;
  // both through the same pipeline (request id, log, error format, echo).
  const byPattern = ROUTES.map((route) => ({
    route,
    re: new RegExp(
      "^" +
        route.path.split("/").map((seg) =>
          seg.startsWith(":")
            ? "[^/]+"
            : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        ).join("/") + "$",
    ),
  }));
  app.notFound(routePipeline(undefined, (c) => {
    const path = c.req.path.startsWith(base)
      ? c.req.path.slice(base.length)
      : c.req.path;
    const hit = byPattern.find((p) => p.re.test(path));
    if (hit) {
      c.set("routeId", hit.route.path);
      return methodNotAllowed(
        c,
        hit.route,
        hit.route.method === "GET" ? "GET, HEAD" : "POST",
      );
    }
    if (c.get("apiKind") === "rpc") {
      // An unknown procedure: Connect code unimplemented.
      return rpcErrorResponse(
        connectErrorOf(
          new QmtlError("E_NOT_FOUND", `no procedure ${path}`),
          Code.Unimplemented,
        ),
        c.req.raw.headers,
      );
    }
    throw notFound(path);
  }, pipe));

  if (options.worker?.autoStart ?? true) {
    worker.start().catch((e) =>
      logger.error("worker start failed", { error: e })
    );
  }
  gc?.start();

  return {
    app,
    worker,
    service,
    metrics,
    topics,
    ...(gc ? { gc } : {}),
    recordSentinelEvent: sentinelEvents,
    async close() {
      closing.abort(new Error("gateway closing"));
      sse.close();
      await gc?.stop();
      await worker.stop();
      await service.idle();
      if (ownsWebhookQueue) await webhookQueue.close();
      if (options.topics === undefined) await topicStore.close();
      if (options.store === undefined) await store.close();
    },
  };
}

/** Standard methods other than a route's own (HEAD rides with GET). */
const OTHER_METHODS: Readonly<Record<"GET" | "POST", string[]>> = {
  GET: ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
  POST: ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"],
};

function checkBasePath(path: string | undefined): string {
  if (path === undefined || path === "" || path === "/") return "";
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) {
    throw new TypeError(
      `createGateway: basePath must look like "/qmtl" or "/api/qmtl" (no trailing slash), got ${
        JSON.stringify(path)
      }`,
    );
  }
  return path;
}

const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

function methodNotAllowed(
  c: Context<GatewayEnv>,
  route: RouteDef,
  allow: string,
): Response {
  const kind = route.kind;
  const body = kind === "rpc"
    ? {
      code: "unimplemented",
      message: `[E_INVALID] ${c.req.method} not allowed; use ${allow}`,
    }
    : {
      type: "urn:qmtl:error:E_INVALID",
      title: "Method Not Allowed",
      status: 405,
      detail:
        `${c.req.method} is not allowed on ${route.path}; the REST API is read-only (${allow})`,
      code: "E_INVALID",
      requestId: c.get("requestId"),
    };
  return new Response(JSON.stringify(body), {
    status: 405,
    headers: {
      allow,
      "content-type": kind === "rpc"
        ? "application/json"
        : "application/problem+json",
    },
  });
}

function notFound(path: string): Error {
  return Object.assign(new Error(`no route ${path}`), { code: "E_NOT_FOUND" });
}
