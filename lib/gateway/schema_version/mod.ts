/**
 * Schema-version sentinel for contract calls: the client's
 * `qmtl-schema-version` / `qmtl-schema-hash` must be compatible (same major,
 * known hash) or the call is refused with 412 `E_SCHEMA_INCOMPATIBLE` naming
 * the accepted versions. Every response echoes the server's version and hash.
 *
 * @module
 */

import {
  checkCompatibility,
  QmtlError,
  SCHEMA_HASH_HEADER,
  SCHEMA_VERSION_HEADER,
  schemaHeaders,
} from "../../contracts/mod.ts";
import type { GatewayMiddleware } from "../types.ts";

/**
 * Middleware checking the schema headers of a contract call.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { GatewayEnv } from "@qmtl/qmtl/gateway";
 * import { schemaVersion } from "./mod.ts";
 * const app = new Hono<GatewayEnv>();
 * app.post("/qmtl.v1.GatewayService/*", schemaVersion());
 * ```
 */
export function schemaVersion(): GatewayMiddleware {
  return async (c, next) => {
    checkSchemaHeaders(
      c.req.header(SCHEMA_VERSION_HEADER),
      c.req.header(SCHEMA_HASH_HEADER),
    );
    await next();
  };
}

/**
 * Throw 412 `E_SCHEMA_INCOMPATIBLE` unless the client's schema version and
 * hash are compatible (the check of {@link schemaVersion}, shared with the
 * gateway's per-route pipeline).
 *
 * @example
 * ```ts
 * import { SCHEMA_HASH, SCHEMA_VERSION } from "@qmtl/qmtl/contracts";
 * import { checkSchemaHeaders } from "./mod.ts";
 * checkSchemaHeaders(SCHEMA_VERSION, SCHEMA_HASH); // compatible: no throw
 * ```
 */
export function checkSchemaHeaders(
  version: string | undefined,
  hash: string | undefined,
): void {
  const result = checkCompatibility(version, hash);
  if (!result.ok) {
    throw new QmtlError(
      "E_SCHEMA_INCOMPATIBLE",
      `${result.reason}; accepted versions: ${result.accepted.join(", ")}`,
      {
        details: { accepted: result.accepted.join(","), ...schemaHeaders() },
      },
    );
  }
}

/**
 * The `[name, value]` pairs every response echoes (the server's schema
 * version and hash), computed once.
 */
export const SCHEMA_ECHO: readonly (readonly [string, string])[] = Object
  .freeze(Object.entries(schemaHeaders()));

/**
 * Middleware adding the server's schema headers to every response.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { GatewayEnv } from "@qmtl/qmtl/gateway";
 * import { echoSchemaVersion } from "./mod.ts";
 * const app = new Hono<GatewayEnv>();
 * app.use(echoSchemaVersion());
 * ```
 */
export function echoSchemaVersion(): GatewayMiddleware {
  return async (c, next) => {
    await next();
    try {
      for (const [k, v] of SCHEMA_ECHO) c.res.headers.set(k, v);
    } catch {
      // immutable headers: leave as is
    }
  };
}
