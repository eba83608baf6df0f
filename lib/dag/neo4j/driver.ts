/**
 * Build a neo4j-driver `Driver` from {@link Neo4jOptions}, with the
 * registry's defaults: plain JS numbers for integers, bounded connect and
 * retry timeouts, driver logging silenced (errors surface as typed errors).
 *
 * @module
 */

import neo4j, { type Driver } from "neo4j-driver";
import type { Neo4jOptions } from "./config.ts";
import { toRegistryError } from "./errors_map.ts";

/**
 * Create a driver (does not connect yet; the first query does).
 *
 * @example
 * ```ts
 * import { createNeo4jDriver } from "./driver.ts";
 * const driver = createNeo4jDriver({ url: "bolt://127.0.0.1:7687" });
 * await driver.close();
 * ```
 */
export function createNeo4jDriver(options: Neo4jOptions): Driver {
  const auth = options.user
    ? neo4j.auth.basic(options.user, options.password ?? "")
    : undefined;
  const connectMs = options.connectionTimeoutMs ?? 5000;
  try {
    return neo4j.driver(options.url, auth, {
      disableLosslessIntegers: true,
      connectionTimeout: connectMs,
      connectionAcquisitionTimeout: connectMs * 2,
      maxTransactionRetryTime: options.maxRetryTimeMs ?? 15000,
      maxConnectionPoolSize: options.maxPoolSize ?? 50,
      logging: { level: "error", logger: () => {} },
    });
  } catch (e) {
    throw toRegistryError(e, `neo4j at ${options.url}`);
  }
}
