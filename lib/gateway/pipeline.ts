/**
 * The per-route request pipeline: every step of one route, compiled once
 * from the route table into a single Hono handler. This is the only way the
 * gateway builds a request's path; each step lives in its own folder (with
 * its test under tests/gateway/) and is called from here, in this order:
 * request id → structured log → error mapper → schema echo → body limit →
 * JWT auth → ACL → policy → schema version → handler. Registering one
 * handler per route keeps Hono on its single-handler path (no `compose`, no
 * `next` closures, one async frame per request).
 *
 * On RPC routes the body limit refuses a declared oversize body at once, and
 * the body itself is read (bounded, and bounded again once decompressed) by
 * the RPC handler, after authentication; an answer given without reading the
 * request's body (a refusal before it, or a route that takes none) carries
 * `Connection: close` (as does a body refused part-way for its size), so
 * that the rest of the body is never read or drained; the policy step admits the
 * submission (denied subjects, rate), and the DAG limits are checked by the
 * SubmitStrategy implementation once the request is decoded.
 *
 * @module
 */

import type { Context, Handler, Next } from "hono";
import { forbidden, isAllowed, type RouteDef } from "./acl/mod.ts";
import { type Authenticator, bearerToken } from "./auth/mod.ts";
import { assertDeclaredSize } from "./body_limit/mod.ts";
import { apiKindOf, mapError } from "./error_mapper/mod.ts";
import type { Logger } from "./logger/mod.ts";
import { applyPolicy, type Policy } from "./policy/mod.ts";
import { REQUEST_ID_HEADER, requestIdFor } from "./request_id/mod.ts";
import { checkSchemaHeaders, SCHEMA_ECHO } from "./schema_version/mod.ts";
import { SCHEMA_HASH_HEADER, SCHEMA_VERSION_HEADER } from "../contracts/mod.ts";
import type { GatewayEnv } from "./types.ts";

/** What every route's pipeline shares. */
export interface PipelineOptions {
  /** Logger of 5xx causes (the error mapper). */
  logger: Logger;
  /** The end-of-request log + metrics writer (`requestLogWriter`). */
  done: (c: Context<GatewayEnv>, status: number, start: number) => void;
  /** JWT verification. */
  authenticator: Authenticator;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** Submission policy (the SubmitStrategy route: admission). */
  policy: Policy;
  /** The gateway's `basePath` (`""` for none): not part of the API kind. */
  basePath?: string;
}

// Handlers are final: none calls `next`.
const NO_NEXT: Next = () => Promise.resolve();

/**
 * One route's pipeline. With `route` undefined it is the not-found/405
 * pipeline: `handler` then sets `routeId` itself when a path matched.
 */
export function routePipeline(
  route: RouteDef | undefined,
  handler: Handler<GatewayEnv>,
  o: PipelineOptions,
): (c: Context<GatewayEnv>) => Promise<Response> {
  const { logger, done, authenticator, maxBodyBytes, policy } = o;
  const base = o.basePath ?? "";
  const kind = route === undefined ? undefined : apiKindOf(route.path);
  const routeId = route?.path;
  const limitBody = route?.kind === "rpc";
  const needsAuth = route !== undefined && route.roles !== "public";
  const checkPolicy = route?.id === "rpc.SubmitStrategy";
  const checkSchema = route?.kind === "rpc";
  return async (c) => {
    // request id
    const id = requestIdFor(c.req.header(REQUEST_ID_HEADER));
    c.set("requestId", id);
    // structured log: timed from here
    const start = performance.now();
    // error mapper: the API kind decides the error format
    c.set(
      "apiKind",
      kind ??
        apiKindOf(
          base !== "" && c.req.path.startsWith(base)
            ? c.req.path.slice(base.length)
            : c.req.path,
        ),
    );
    let res: Response;
    let bodyLeft = false;
    try {
      if (routeId !== undefined) c.set("routeId", routeId);
      if (limitBody) assertDeclaredSize(c.req.raw, maxBodyBytes);
      if (needsAuth) {
        const principal = await authenticator.verify(
          bearerToken(c.req.header("authorization")),
        );
        c.set("principal", principal);
        if (!isAllowed(route, principal)) {
          throw forbidden(route, principal.roles);
        }
      }
      if (checkPolicy) applyPolicy(policy, c);
      if (checkSchema) {
        checkSchemaHeaders(
          c.req.header(SCHEMA_VERSION_HEADER),
          c.req.header(SCHEMA_HASH_HEADER),
        );
      }
      const r = await handler(c, NO_NEXT);
      // As Hono's compose: the handler's response becomes `c.res` (merging
      // headers set on the context before it).
      if (r && !c.finalized) c.res = r as Response;
      if (!c.finalized) {
        throw new Error(
          "Context is not finalized. Did you forget to return a Response object or `await next()`?",
        );
      }
      res = c.res;
    } catch (err) {
      if (err instanceof Error) c.error = err;
      // Refused part-way through the body: the rest is not read either.
      bodyLeft = (err as { code?: unknown } | null)?.code ===
        "E_PAYLOAD_TOO_LARGE";
      c.res = mapError(err, c, logger);
      res = c.res;
    }
    // schema echo, then the request id, on every response
    try {
      const h = res.headers;
      for (let i = 0; i < SCHEMA_ECHO.length; i++) {
        h.set(SCHEMA_ECHO[i][0], SCHEMA_ECHO[i][1]);
      }
      h.set(REQUEST_ID_HEADER, id);
      // A body that was not read (refused before it: 401, 403, 413, 405,
      // or a route that takes none) is never read at all: the connection
      // closes after the answer instead of draining what the client sends.
      const raw = c.req.raw;
      if (raw.body !== null && (bodyLeft || !raw.bodyUsed)) {
        h.set("connection", "close");
        if (!raw.bodyUsed) raw.body.cancel().catch(() => {});
      }
    } catch {
      // immutable headers (a proxied Response): leave them as they are
    }
    done(c, res.status, start);
    return res;
  };
}
