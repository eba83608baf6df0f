/**
 * Reference server entry point (`deno task serve`): `runServer()` of
 * `@qmtl/qmtl/server` (lib/gateway/server/) — configuration from the
 * `QMTL_*` variables (README "Configuration"; a bad value exits with
 * status 2), the backends they name (in memory without `QMTL_NEO4J_URL` /
 * `QMTL_REDIS_URL`), start-up recovery, and a graceful stop on SIGINT /
 * SIGTERM. Without a JWT key (dev mode) it binds 127.0.0.1 and prints a
 * token signed with the dev key kept in `QMTL_STATE_DIR`.
 *
 * @module
 */
import { runServer } from "../lib/gateway/server/mod.ts";

if (import.meta.main) await runServer();
