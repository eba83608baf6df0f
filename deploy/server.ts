/**
 * Reference server entry point (`deno task serve`).
 *
 * Reads `QMTL_*` configuration (see README "Configuration"), refuses to start
 * on a bad value, and serves the gateway. With no `QMTL_NEO4J_URL` /
 * `QMTL_REDIS_URL` it runs on the embedded in-memory backends.
 *
 * @module
 */
import { ConfigError, loadConfig, type ServerConfig } from "./config.ts";

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

if (import.meta.main) {
  const cfg = configOrExit(Deno.env.toObject());
  const hostname = cfg.devMode ? "127.0.0.1" : cfg.host;
  const server = Deno.serve({
    hostname,
    port: cfg.port,
    onListen: ({ hostname, port }) =>
      console.log(
        JSON.stringify({
          level: "info",
          msg: "listening",
          url: `http://${hostname}:${port}`,
        }),
      ),
  }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") {
      return Response.json({ status: "ok" });
    }
    return Response.json({ title: "not found" }, { status: 404 });
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => server.shutdown());
  }
  await server.finished;
}
