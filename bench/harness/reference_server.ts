/**
 * The reference server (`deploy/server.ts`) as a child process of a bench
 * group, and the HS256 secret and token the group talks to it with.
 *
 * @module
 */

import { loadConfig } from "../../lib/gateway/server/config.ts";
import { type Role, signDevToken } from "../../lib/gateway/mod.ts";
import {
  SERVER_PERMISSIONS,
  withoutQmtl,
} from "../../deploy/drills/server_process.ts";
import { type Child, freePort, spawnLogged, waitHttpOk } from "./process.ts";

/**
 * Environment of a child: the parent's minus every `QMTL_*`, plus `extra`.
 *
 * @example
 * ```ts ignore
 * import { childEnv } from "./reference_server.ts";
 * const env = childEnv({ QMTL_PORT: "8081" });
 * ```
 */
export function childEnv(
  extra: Record<string, string>,
): Record<string, string> {
  return { ...withoutQmtl(Deno.env.toObject()), NO_COLOR: "1", ...extra };
}

/**
 * A started reference server and its base URL.
 *
 * @example
 * ```ts ignore
 * import type { ReferenceServer } from "./reference_server.ts";
 * const health = (s: ReferenceServer) => fetch(`${s.base}/healthz`);
 * ```
 */
export type ReferenceServer = Child & { base: string };

/**
 * Starts `deploy/server.ts` on a free port (its `QMTL_*` environment is
 * `env` and nothing inherited) and waits for `/healthz`.
 *
 * @param root the repository root
 * @param env the server's `QMTL_*` variables (`QMTL_PORT` is chosen here)
 * @param logFile where its stdout and stderr go
 * @param cpus CPUs to pin it to (`taskset -c`), or none
 * @example
 * ```ts ignore
 * import { startReferenceServer } from "./reference_server.ts";
 * const srv = await startReferenceServer(ctx.root, { QMTL_JWT_SECRET: secret }, `${ctx.tmpDir}/server.log`);
 * ```
 */
export async function startReferenceServer(
  root: URL,
  env: Record<string, string>,
  logFile: string,
  cpus?: string,
): Promise<ReferenceServer> {
  const port = freePort();
  const child = spawnLogged(
    [Deno.execPath(), "run", ...SERVER_PERMISSIONS, "deploy/server.ts"],
    {
      env: childEnv({ ...env, QMTL_PORT: String(port) }),
      logFile,
      cpus,
      cwd: root.pathname,
    },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitHttpOk(`${base}/healthz`, child);
  return Object.assign(child, { base });
}

/**
 * A fresh HS256 secret for the server (`QMTL_JWT_SECRET`) and an hour-long
 * token signed with it, with the server's default issuer and audience.
 *
 * @param subject the token's subject
 * @param roles its roles
 * @example
 * ```ts ignore
 * import { benchCredentials } from "./reference_server.ts";
 * const { secret, token } = await benchCredentials("bench", ["reader"]);
 * ```
 */
export async function benchCredentials(
  subject: string,
  roles: Role[],
): Promise<{ secret: string; token: string }> {
  const secret = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const cfg = loadConfig({ QMTL_JWT_SECRET: secret });
  const token = await signDevToken({
    secret,
    issuer: cfg.jwt.issuer,
    audience: cfg.jwt.audience,
    subject,
    roles,
    ttlS: 3600,
  });
  return { secret, token };
}
