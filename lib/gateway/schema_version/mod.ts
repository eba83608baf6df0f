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
    const result = checkCompatibility(
      c.req.header(SCHEMA_VERSION_HEADER),
      c.req.header(SCHEMA_HASH_HEADER),
    );
    if (!result.ok) {
      throw new QmtlError(
        "E_SCHEMA_INCOMPATIBLE",
        `${result.reason}; accepted versions: ${result.accepted.join(", ")}`,
        {
          details: { accepted: result.accepted.join(","), ...schemaHeaders() },
        },
      );
    }
    await next();
  };
}

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
  const headers = Object.entries(schemaHeaders());
  return async (c, next) => {
    await next();
    try {
      for (const [k, v] of headers) c.res.headers.set(k, v);
    } catch {
      // immutable headers: leave as is
    }
  };
}
