/**
 * Role-based access control from the one route table ({@link ROUTES}):
 * default deny, 403 naming the role the caller lacks.
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";
import type { Principal, Role } from "../types.ts";
import type { RouteDef } from "./routes.ts";

export * from "./routes.ts";

/**
 * True when `principal` may call `route` (public routes admit everyone).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAllowed, routeById } from "@qmtl/qmtl/gateway";
 * assert.equal(isAllowed(routeById("rpc.SubmitStrategy"), { subject: "a", roles: ["reader"] }), false);
 * ```
 */
export function isAllowed(
  route: RouteDef,
  principal: Principal | undefined,
): boolean {
  if (route.roles === "public") return true;
  if (!principal) return false;
  const allowed = route.roles;
  return principal.roles.some((r) => allowed.includes(r));
}

/**
 * The 403 error for a caller lacking every role of `route`.
 *
 * @example
 * ```ts
 * import { forbidden, routeById } from "@qmtl/qmtl/gateway";
 * forbidden(routeById("ops.metrics"), []).message;
 * ```
 */
export function forbidden(route: RouteDef, held: readonly Role[]): QmtlError {
  const need = route.roles === "public" ? [] : route.roles;
  const missing = need.length === 1
    ? `role ${need[0]}`
    : `one of the roles ${need.join(", ")}`;
  return new QmtlError(
    "E_FORBIDDEN",
    `${route.method} ${route.path} requires ${missing}; the token grants ${
      held.length ? held.join(", ") : "no roles"
    }`,
    { details: { required: need.join(","), granted: held.join(",") } },
  );
}

/**
 * True when the principal sees every strategy (not only its own).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seesAllStrategies } from "@qmtl/qmtl/gateway";
 * assert.ok(seesAllStrategies({ subject: "ops", roles: ["operator"] }));
 * ```
 */
export function seesAllStrategies(principal: Principal | undefined): boolean {
  if (!principal) return false;
  return principal.roles.some((r) =>
    r === "reader" || r === "operator" || r === "service"
  );
}
