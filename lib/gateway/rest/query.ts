/**
 * Query parameters of REST routes, checked against the route table's
 * declarations ({@link QueryParam}: type, enumeration, minimum, maximum,
 * minimum length, pattern) — the same declarations `/openapi.json` is built
 * from, so the document states exactly what is enforced. A value that does
 * not satisfy its declaration is `E_INVALID` (400) naming the parameter; an
 * empty integer or enumeration value is such a value, not an absent one.
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";
import type { QueryParam, RouteId } from "../acl/routes.ts";
import { routeById } from "../acl/routes.ts";
import type { GatewayContext } from "../types.ts";

/** Parsed values by parameter name (absent ones are `undefined`). */
export type QueryValues = Record<string, string | number | undefined>;

function invalid(p: QueryParam, what: string): QmtlError {
  return new QmtlError("E_INVALID", `query parameter ${p.name} ${what}`, {
    field: p.name,
  });
}

/**
 * The value of one declared parameter, or the 400 error it deserves.
 *
 * @param p the declaration
 * @param raw the value as sent, or `undefined`
 * @returns the parsed value (`undefined` when absent)
 * @example
 * ```ts
 * import { parseQueryParam } from "./query.ts";
 * import assert from "node:assert/strict";
 * const p = { name: "page_size", type: "integer" as const, description: "", minimum: 1, maximum: 1000 };
 * assert.equal(parseQueryParam(p, "50"), 50);
 * assert.throws(() => parseQueryParam(p, ""), /page_size must be an integer 1-1000/);
 * assert.throws(() => parseQueryParam(p, "-1"), /page_size must be an integer 1-1000/);
 * ```
 */
export function parseQueryParam(
  p: QueryParam,
  raw: string | undefined,
): string | number | undefined {
  if (raw === undefined) {
    if (p.required) throw invalid(p, "is required");
    return undefined;
  }
  if (p.type === "integer") {
    const range = `${p.minimum ?? 0}-${p.maximum ?? Number.MAX_SAFE_INTEGER}`;
    if (!/^\d{1,15}$/.test(raw)) {
      throw invalid(
        p,
        `must be an integer ${range}, got ${JSON.stringify(raw)}`,
      );
    }
    const n = Number(raw);
    if (n < (p.minimum ?? 0) || n > (p.maximum ?? Number.MAX_SAFE_INTEGER)) {
      throw invalid(p, `must be an integer ${range}, got ${n}`);
    }
    return n;
  }
  if (p.enum) {
    if (!p.enum.includes(raw)) {
      throw invalid(
        p,
        `must be one of ${p.enum.join(", ")}, got ${JSON.stringify(raw)}`,
      );
    }
    return raw;
  }
  if (raw.length < (p.minLength ?? 0)) {
    throw invalid(p, `must not be empty`);
  }
  if (p.pattern !== undefined && !new RegExp(p.pattern).test(raw)) {
    throw invalid(p, `is malformed: ${JSON.stringify(raw.slice(0, 100))}`);
  }
  return raw === "" ? undefined : raw;
}

/**
 * Every declared query parameter of a route, checked and parsed.
 *
 * @param c the request context
 * @param route the route id (its `query` declarations are used)
 * @returns the values by name
 * @example
 * ```ts ignore
 * import { queryValues } from "./query.ts";
 * const q = queryValues(c, "rest.listNodes");
 * const pageSize = q.page_size as number | undefined;
 * ```
 */
export function queryValues(c: GatewayContext, route: RouteId): QueryValues {
  const out: QueryValues = {};
  for (const p of routeById(route).query ?? []) {
    out[p.name] = parseQueryParam(p, c.req.query(p.name));
  }
  return out;
}
