/**
 * Request-id middleware: reuses a well-formed incoming `x-request-id`,
 * otherwise generates one, and echoes it on the response.
 *
 * @module
 */

import type { GatewayMiddleware } from "../types.ts";

/** Header carrying the request id. */
export const REQUEST_ID_HEADER = "x-request-id";

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id for an incoming `x-request-id` value: the value itself when
 * well-formed, otherwise a fresh id.
 *
 * @example
 * ```ts
 * import { requestIdFor } from "./mod.ts";
 * requestIdFor("abc-1"); // "abc-1"
 * ```
 */
export function requestIdFor(incoming: string | undefined): string {
  return incoming !== undefined && VALID.test(incoming)
    ? incoming
    : crypto.randomUUID();
}

/**
 * Middleware setting `c.get("requestId")` and the `x-request-id` response
 * header.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { GatewayEnv } from "@qmtl/qmtl/gateway";
 * import { requestId } from "./mod.ts";
 * const app = new Hono<GatewayEnv>();
 * app.use(requestId());
 * ```
 */
export function requestId(): GatewayMiddleware {
  return async (c, next) => {
    const id = requestIdFor(c.req.header(REQUEST_ID_HEADER));
    c.set("requestId", id);
    await next();
    try {
      c.res.headers.set(REQUEST_ID_HEADER, id);
    } catch {
      // immutable headers (a proxied Response): leave them as they are
    }
  };
}
