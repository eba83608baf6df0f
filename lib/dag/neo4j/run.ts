/**
 * Run one statement inside a managed transaction and return its rows as
 * plain objects. A failure the same input will meet again (see
 * `isPermanent`) is converted to its registry error right here, so the
 * driver's managed-transaction retry (meant for transient errors) does not
 * repeat it: Neo4j 5.26 reports a transaction over its own memory limit as
 * a *transient* error, which the driver would otherwise retry for its whole
 * retry time (15 s by default).
 *
 * @module
 */

import type { ManagedTransaction } from "neo4j-driver";
import { isPermanent, toRegistryError } from "./errors_map.ts";

/**
 * One result row.
 *
 * @example
 * ```ts
 * import type { Row } from "./run.ts";
 * const r: Row = { id: "sha256:…" };
 * ```
 */
export type Row = Record<string, unknown>;

/**
 * Run `cypher` with `params` in `tx`.
 *
 * @example
 * ```ts ignore
 * import { run } from "./run.ts";
 * const [row] = await run(tx, "RETURN 1 AS one", {});
 * ```
 */
export async function run(
  tx: ManagedTransaction,
  cypher: string,
  params: Record<string, unknown>,
): Promise<Row[]> {
  try {
    const r = await tx.run(cypher, params);
    return r.records.map((rec) => rec.toObject() as Row);
  } catch (e) {
    if (isPermanent(e)) throw toRegistryError(e);
    throw e;
  }
}
