/**
 * Types shared by the Gateway's pipeline steps and handlers: roles, the
 * authenticated principal and the Hono environment every handler sees.
 *
 * @module
 */

import type { Context, ErrorHandler, Handler, Hono } from "hono";

/**
 * A role a caller can hold (from the JWT `roles` claim).
 *
 * - `reader`: read strategies, nodes, topics and events.
 * - `submitter`: submit strategies, read / retire its own, and read the
 *   global DAG's nodes (to build on them).
 * - `operator`: read everything, retire any strategy, read metrics.
 * - `service`: machine clients: submit and read everything, read metrics.
 *
 * @example
 * ```ts
 * import type { Role } from "@qmtl/qmtl/gateway";
 * const r: Role = "reader";
 * ```
 */
export type Role = "reader" | "submitter" | "operator" | "service";

/**
 * Every role, in a stable order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ROLES } from "@qmtl/qmtl/gateway";
 * assert.ok(ROLES.includes("operator"));
 * ```
 */
export const ROLES: readonly Role[] = Object.freeze([
  "reader",
  "submitter",
  "operator",
  "service",
]);

/**
 * The authenticated caller.
 *
 * @example
 * ```ts
 * import type { Principal } from "@qmtl/qmtl/gateway";
 * const p: Principal = { subject: "alice", roles: ["submitter"] };
 * ```
 */
export interface Principal {
  /** JWT `sub`. */
  subject: string;
  /** Roles from the roles claim (unknown role names are dropped). */
  roles: Role[];
}

/**
 * Which API surface a request belongs to; decides the error format.
 *
 * @example
 * ```ts
 * import type { ApiKind } from "@qmtl/qmtl/gateway";
 * const k: ApiKind = "rpc";
 * ```
 */
export type ApiKind = "rest" | "rpc" | "ops";

/**
 * Per-request values the pipeline stores in the Hono context.
 *
 * @example
 * ```ts
 * import type { GatewayVariables } from "@qmtl/qmtl/gateway";
 * function show(v: GatewayVariables): void {
 *   console.log(v.requestId, v.principal?.subject);
 * }
 * ```
 */
export interface GatewayVariables {
  /** Request id (echoed as `x-request-id`). */
  requestId: string;
  /** The matched route id, e.g. `GET /v1/strategies/:id`. */
  routeId: string;
  /** API surface of the matched route. */
  apiKind: ApiKind;
  /** The caller, once authenticated. */
  principal: Principal | undefined;
}

/**
 * The Hono environment of the Gateway app.
 *
 * @example
 * ```ts
 * import type { GatewayEnv } from "@qmtl/qmtl/gateway";
 * import { Hono } from "hono";
 * const app = new Hono<GatewayEnv>();
 * ```
 */
export interface GatewayEnv {
  /** Context variables. */
  Variables: GatewayVariables;
}

/**
 * The Hono context of a Gateway request.
 *
 * @example
 * ```ts
 * import type { GatewayContext } from "./types.ts";
 * const h = (c: GatewayContext) => c.json({ ok: true });
 * ```
 */
export type GatewayContext = Context<GatewayEnv>;

/**
 * A route handler of the Gateway app.
 *
 * @example
 * ```ts
 * import type { GatewayHandler } from "./types.ts";
 * const h: GatewayHandler = (c) => c.json({ ok: true });
 * ```
 */
export type GatewayHandler = Handler<GatewayEnv>;

/**
 * The Gateway's HTTP app: a Hono app. Serve it alone
 * (`Deno.serve(gateway.app.fetch)`, or `serveGateway`), mount it in your
 * own Hono app with `app.route("/qmtl", gateway.app)`, or dispatch to
 * `gateway.app.fetch` from a plain `Deno.serve` handler (with
 * `createGateway({basePath: "/qmtl"})` to serve it under a prefix). See
 * docs/gateway.md, "Mounting".
 *
 * @example
 * ```ts
 * import type { GatewayApp } from "@qmtl/qmtl/gateway";
 * import { Hono } from "hono";
 * function withGateway(app: GatewayApp): Hono {
 *   const parent = new Hono();
 *   parent.get("/", (c) => c.text("mine"));
 *   parent.route("/qmtl", app);
 *   return parent;
 * }
 * ```
 */
export type GatewayApp = Hono<GatewayEnv>;

/**
 * The app's error handler type.
 *
 * @example
 * ```ts
 * import type { GatewayErrorHandler } from "./types.ts";
 * const h: GatewayErrorHandler = (_e, c) => c.text("error", 500);
 * ```
 */
export type GatewayErrorHandler = ErrorHandler<GatewayEnv>;
