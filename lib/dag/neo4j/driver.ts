/**
 * Build a neo4j-driver `Driver` from {@link Neo4jOptions}, with the
 * registry's defaults: plain JS numbers for integers, bounded connect and
 * retry timeouts, driver logging silenced (errors surface as typed errors),
 * and `TCP_NODELAY` on every Bolt socket (see {@link enableNoDelay}).
 *
 * @module
 */

import neo4j, { type Driver } from "neo4j-driver";
import type { Neo4jOptions } from "./config.ts";
import { toRegistryError } from "./errors_map.ts";

/** The parts of neo4j-driver 5.x internals {@link enableNoDelay} touches. */
interface DriverInternals {
  _getOrCreateConnectionProvider?: () => ProviderInternals | undefined;
}
interface ProviderInternals {
  _createChannelConnection?: (address: unknown) => Promise<unknown>;
  __qmtlNoDelay?: boolean;
}
interface ConnectionInternals {
  _ch?: { _conn?: { setNoDelay?: (on: boolean) => unknown } };
}

/**
 * Turn Nagle's algorithm off on every socket `driver` opens.
 *
 * Why: the driver's Bolt chunker writes a message in 1,400-byte pieces, one
 * `socket.write` each, and the Node-compatible `net` socket keeps Nagle on.
 * Any request larger than one piece (a 1,000-uid `UNWIND` parameter, ≈ 60 KB)
 * then waits for the server's delayed ACK — about 40 ms per statement on
 * Linux, measured on loopback: a 50-string parameter took 44 ms instead of
 * 2 ms. neo4j-driver has no socket option for it, so this wraps the
 * connection provider's channel factory (neo4j-driver 5.x internals) and
 * calls `setNoDelay(true)` on each new socket. Returns whether the hook was
 * installed; when the internals are not found (another driver version) the
 * driver keeps working, only slower, and `tests/dag/neo4j_wiring_test.ts`
 * fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import neo4j from "neo4j-driver";
 * import { enableNoDelay } from "./driver.ts";
 * const driver = neo4j.driver("bolt://127.0.0.1:7687");
 * assert.equal(enableNoDelay(driver), true); // with neo4j-driver 5.x
 * await driver.close();
 * ```
 */
export function enableNoDelay(driver: Driver): boolean {
  const provider = (driver as unknown as DriverInternals)
    ._getOrCreateConnectionProvider?.();
  if (!provider || typeof provider._createChannelConnection !== "function") {
    return false;
  }
  if (provider.__qmtlNoDelay) return true;
  const create = provider._createChannelConnection;
  provider._createChannelConnection = async (address: unknown) => {
    const conn = await create.call(provider, address) as ConnectionInternals;
    conn?._ch?._conn?.setNoDelay?.(true);
    return conn;
  };
  provider.__qmtlNoDelay = true;
  return true;
}

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
    const driver = neo4j.driver(options.url, auth, {
      disableLosslessIntegers: true,
      connectionTimeout: connectMs,
      connectionAcquisitionTimeout: connectMs * 2,
      maxTransactionRetryTime: options.maxRetryTimeMs ?? 15000,
      maxConnectionPoolSize: options.maxPoolSize ?? 50,
      logging: { level: "error", logger: () => {} },
    });
    enableNoDelay(driver);
    return driver;
  } catch (e) {
    throw toRegistryError(e, `neo4j at ${options.url}`);
  }
}
