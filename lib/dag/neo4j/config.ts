/**
 * Connection options of the Neo4j backend and how they are read from the
 * `QMTL_NEO4J_*` environment variables.
 *
 * @module
 */

import { RegistryError } from "../errors.ts";
import type { TransactionBudget } from "./diff_plan.ts";

/**
 * What to do about missing schema objects at start-up.
 *
 * @example
 * ```ts
 * import type { MigrateMode } from "@qmtl/qmtl/dag";
 * const m: MigrateMode = "auto";
 * ```
 */
export type MigrateMode = "auto" | "check";

/**
 * Options of `Neo4jRegistry.connect`.
 *
 * @example
 * ```ts
 * import type { Neo4jOptions } from "@qmtl/qmtl/dag";
 * const o: Neo4jOptions = { url: "bolt://127.0.0.1:7687", migrate: "check" };
 * ```
 */
export interface Neo4jOptions {
  /** Bolt URL, e.g. `bolt://127.0.0.1:7687` or `neo4j://host:7687`. */
  url: string;
  /** User for basic auth; absent for a server without auth. */
  user?: string;
  /** Password for basic auth. */
  password?: string;
  /** Database name; default the server's default database. */
  database?: string;
  /**
   * Namespace isolating this registry's data inside the database
   * (`[A-Za-z0-9_.-]+`, default `"default"`). Every node the registry writes
   * carries it, and keys are `{namespace}:{id}`.
   */
  namespace?: string;
  /** `auto`: create missing indexes and constraints; `check` (default): warn. */
  migrate?: MigrateMode;
  /** TCP connect timeout in ms; default 5000. */
  connectionTimeoutMs?: number;
  /** How long the driver retries a transient failure, in ms; default 15000. */
  maxRetryTimeMs?: number;
  /** Connection pool size; default 50. */
  maxPoolSize?: number;
  /** Where start-up warnings go; default `console.warn`. */
  warn?: (message: string) => void;
  /**
   * Most nodes / bytes of node data one diff transaction carries; a larger
   * DAG is committed in chunks. Default `DEFAULT_TRANSACTION_BUDGET`.
   */
  transactionBudget?: Partial<TransactionBudget>;
}

const NAMESPACE = /^[A-Za-z0-9_.-]+$/;

/**
 * Validate a namespace (`[A-Za-z0-9_.-]+`) and return it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNamespace } from "@qmtl/qmtl/dag";
 * assert.equal(checkNamespace("test_1"), "test_1");
 * ```
 */
export function checkNamespace(ns: string): string {
  if (!NAMESPACE.test(ns)) {
    throw new RegistryError(
      "E_INVALID",
      `namespace must match [A-Za-z0-9_.-]+, got ${JSON.stringify(ns)}`,
    );
  }
  return ns;
}
