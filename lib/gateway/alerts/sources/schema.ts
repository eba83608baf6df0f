/**
 * Alert for Neo4j constraints or indexes missing at start-up.
 *
 * @module
 */

import type { AlertRaiser } from "../types.ts";

/**
 * A schema issue as `Neo4jRegistry.startup.missing` lists it.
 *
 * @example
 * ```ts
 * import type { MissingSchemaObject } from "@qmtl/qmtl/gateway";
 * const m: MissingSchemaObject = { object: { name: "qmtl_tag_uid" }, problem: "missing" };
 * ```
 */
export interface MissingSchemaObject {
  /** The expected object (its name). */
  object: { name: string };
  /** `missing`, `mismatch` or `not online`. */
  problem: string;
}

/**
 * Raises `neo4j_schema_missing` when `missing` is not empty; returns
 * whether it did.
 *
 * @example
 * ```ts
 * import { schemaAlerts, type AlertInput } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const raised: AlertInput[] = [];
 * schemaAlerts({ raise: (a) => { raised.push(a); return "raised"; } }, [
 *   { object: { name: "qmtl_tag_uid" }, problem: "missing" },
 * ]);
 * assert.match(raised[0].summary, /qmtl_tag_uid/);
 * ```
 */
export function schemaAlerts(
  alerter: AlertRaiser,
  missing: readonly MissingSchemaObject[],
): boolean {
  if (missing.length === 0) return false;
  const names = missing.map((m) => `${m.object.name} (${m.problem})`);
  alerter.raise({
    condition: "neo4j_schema_missing",
    summary:
      `Neo4j schema: ${missing.length} object(s) missing or not usable: ${
        names.slice(0, 5).join(", ")
      }${names.length > 5 ? ", …" : ""}; run \`deno task migrate\``,
    details: {
      count: missing.length,
      objects: names.join(", "),
      fix: "deno task migrate (or start with QMTL_NEO4J_MIGRATE=auto)",
    },
  });
  return true;
}
