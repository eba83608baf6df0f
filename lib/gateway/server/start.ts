/**
 * `startServer(config)`: the reference server as a library — the backends
 * the configuration names ({@linkcode openBackends}), the operations wiring
 * (alerts, dependency watch), the gateway, start-up recovery and
 * `serveGateway`. `runServer()` adds what a process entry point needs:
 * configuration from the environment (a bad value exits with status 2),
 * SIGINT / SIGTERM for a graceful stop. `deploy/server.ts` (`deno task
 * serve`) is `runServer()`.
 *
 * With no JWT key configured (dev mode) it binds 127.0.0.1 only, signs with
 * the dev key kept in the state folder (`QMTL_STATE_DIR`, see
 * {@linkcode loadDevKey}) and prints a token valid for an hour.
 *
 * @module
 */
import { ConfigError, configFromEnv, type ServerConfig } from "./config.ts";
import type { NodeRegistry } from "../../dag/mod.ts";
import { createOperations, type Operations } from "./operations.ts";
import { type Backends, openBackends } from "./backends.ts";
import { loadDevKey } from "./dev_key.ts";
import {
  type Authenticator,
  createAuthenticator,
  createGateway,
  createLogger,
  type Gateway,
  type Logger,
  Metrics,
  serveGateway,
  signDevToken,
  unauthenticated,
} from "../mod.ts";
import { QmtlError } from "../../contracts/errors.ts";

/**
 * Loads the configuration or exits the process with status 2 and a message
 * naming every bad variable.
 *
 * @param env the environment; default `Deno.env.toObject()`
 * @example
 * ```ts ignore
 * import { configOrExit } from "@qmtl/qmtl/server";
 * const cfg = configOrExit();
 * ```
 */
export function configOrExit(
  env?: Record<string, string | undefined>,
): ServerConfig {
  try {
    return configFromEnv(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`qmtl: ${e.message}`);
      Deno.exit(2);
    }
    throw e;
  }
}

/**
 * A running reference server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configFromEnv, type RunningServer, startServer } from "@qmtl/qmtl/server";
 * const srv: RunningServer = await startServer(configFromEnv({ QMTL_PORT: "0" }), { quiet: true });
 * assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+/);
 * await srv.stop();
 * ```
 */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The gateway. */
  gateway: Gateway;
  /** Alerts, dependency watch and lease-takeover recorder. */
  operations: Operations;
  /** The backends it opened (closed by `stop()`). */
  backends: Backends;
  /** The dev token it printed (dev mode, unless `quiet`). */
  devToken?: string;
  /** Graceful stop: stop accepting, drain the worker, close backends. */
  stop(): Promise<void>;
}

/**
 * Options of {@link startServer} (mostly hooks for tests and benchmarks).
 *
 * @example
 * ```ts
 * import type { StartOptions } from "@qmtl/qmtl/server";
 * const o: StartOptions = { quiet: true, leaseMs: 5000 };
 * ```
 */
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
 * @param cfg the configuration (see `configFromEnv`)
 * @param opts hooks: registry wrapper, logger, lease length, quiet
 * @returns the running server; `stop()` it
 * @example
 * ```ts
 * import { configFromEnv, startServer } from "@qmtl/qmtl/server";
 * import assert from "node:assert/strict";
 * const srv = await startServer(configFromEnv({ QMTL_PORT: "0", QMTL_LOG_LEVEL: "error" }), { quiet: true });
 * assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
 * await srv.stop();
 * ```
 */
export async function startServer(
  cfg: ServerConfig,
  opts: StartOptions = {},
): Promise<RunningServer> {
  const logger = opts.logger ??
    createLogger({ level: cfg.logLevel, base: { component: "qmtl" } });
  const backends = await openBackends(cfg, {
    logger,
    wrapRegistry: opts.wrapRegistry,
  });
  try {
    return await serveWith(cfg, opts, logger, backends);
  } catch (e) {
    await backends.close();
    throw e;
  }
}

async function serveWith(
  cfg: ServerConfig,
  opts: StartOptions,
  logger: Logger,
  backends: Backends,
): Promise<RunningServer> {
  const { registry, queue, webhookQueue, events, store, topics, observer } =
    backends;

  // ---- auth -----------------------------------------------------------------
  const dev = cfg.devMode;
  let secret = cfg.jwt.secret;
  let devKeyPath: string | undefined;
  if (dev) {
    const key = await loadDevKey(cfg.stateDir);
    secret = key.secret;
    devKeyPath = key.path;
    if (key.warning) logger.warn(`dev key: ${key.warning}`);
    else {
      logger.info(key.created ? "dev key created" : "dev key reused", {
        path: key.path,
      });
    }
  }
  const webhookSecret = cfg.webhookSecret ?? randomSecret();
  const authOptions = {
    secret,
    jwksUrl: cfg.jwt.jwksUrl,
    issuer: cfg.jwt.issuer,
    audience: cfg.jwt.audience,
    algorithms: cfg.jwt.algorithms,
    clockSkewS: cfg.jwt.clockSkewS,
    rolesClaim: cfg.jwt.rolesClaim,
  };
  const authenticator = dev
    ? withDevHint(createAuthenticator(authOptions), devKeyPath)
    : createAuthenticator(authOptions);

  // ---- operations: alerts, dependency watch (./operations.ts) -------------
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
    auth: authenticator,
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
  const hostname = dev ? "127.0.0.1" : cfg.host;
  let server: ReturnType<typeof serveGateway>;
  try {
    await gateway.worker.start();
    await operations.start();
    // serveGateway, not Deno.serve: read deadlines, a connection cap and no
    // exit on EMFILE (lib/gateway/serve).
    server = serveGateway(gateway.app.fetch, {
      hostname,
      port: cfg.port,
      headerTimeoutMs: cfg.http.headerTimeoutMs,
      bodyTimeoutMs: cfg.http.bodyTimeoutMs,
      idleTimeoutMs: cfg.http.idleTimeoutMs,
      maxConnections: cfg.http.maxConnections,
      logger,
      metrics: gateway.metrics,
    });
  } catch (e) {
    // e.g. the port is taken: stop what started; the caller closes backends.
    await gateway.close();
    await operations.close().catch(() => {});
    throw e;
  }
  const url = `http://${server.addr.hostname}:${server.addr.port}`;
  logger.info("listening", {
    url,
    devMode: dev,
    policy: cfg.policy,
    http: { ...cfg.http, maxConnections: server.maxConnections },
  });

  let devToken: string | undefined;
  if (dev && !opts.quiet) {
    const token = devToken = await signDevToken({
      secret: secret!,
      issuer: cfg.jwt.issuer,
      audience: cfg.jwt.audience,
      rolesClaim: cfg.jwt.rolesClaim,
      subject: "dev",
      roles: ["submitter", "reader", "operator"],
      ttlS: 3600,
    });
    console.error(
      [
        "",
        `qmtl: dev mode (no QMTL_JWT_SECRET / QMTL_JWT_JWKS_URL): bound to 127.0.0.1, signing with ${
          devKeyPath
            ? `the dev key ${devKeyPath} (kept across restarts)`
            : "a key of this process only"
        }.`,
        "qmtl: a dev token (roles submitter, reader, operator; valid 1 hour; `deno task qmtl token` signs a new one):",
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
    backends,
    ...(devToken ? { devToken } : {}),
    stop() {
      stopped ??= (async () => {
        logger.info("shutting down: no new requests; draining the worker");
        // Stop accepting; in-flight requests finish (SSE streams end with
        // gateway.close()), idle connections close.
        const draining = server.shutdown();
        await gateway.close();
        await draining;
        await operations.close().catch((e) =>
          logger.warn("close failed", { error: e })
        );
        await backends.close();
        logger.info("stopped");
        await logger.flush?.(); // no line lost on a graceful stop
      })();
      return stopped;
    },
  };
}

/**
 * A dev-mode authenticator whose "signature verification failed" says why
 * that usually happens: the token was signed with another key.
 */
function withDevHint(
  inner: Authenticator,
  keyPath: string | undefined,
): Authenticator {
  const hint = keyPath
    ? `dev mode signs with ${keyPath}: this token was signed with another key (another QMTL_STATE_DIR, or the file was replaced); take the token the server printed, or run \`deno task qmtl token\``
    : "dev mode without a kept key: tokens from before the last restart are invalid; take the token the server printed";
  return {
    async verify(token) {
      try {
        return await inner.verify(token);
      } catch (e) {
        if (
          e instanceof QmtlError && e.code === "E_UNAUTHENTICATED" &&
          e.message.includes("signature verification failed")
        ) {
          throw unauthenticated(`signature verification failed (${hint})`);
        }
        throw e;
      }
    },
  };
}

/**
 * The server as a process: configuration from the environment (exit 2 on a
 * bad value), {@link startServer} (exit 1 when start-up fails), and a
 * graceful stop then exit 0 on SIGINT / SIGTERM. What `deno task serve`
 * runs.
 *
 * @param env the environment; default `Deno.env.toObject()`
 * @returns the running server
 * @example
 * ```ts ignore
 * import { runServer } from "@qmtl/qmtl/server";
 * if (import.meta.main) await runServer();
 * ```
 */
export async function runServer(
  env?: Record<string, string | undefined>,
): Promise<RunningServer> {
  const cfg = configOrExit(env);
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
  return srv;
}
