/**
 * Map neo4j-driver failures to the registry's typed errors, by Neo4j status
 * code, so that every error says whether retrying can help:
 *
 * | Neo4j failure | class | registry error |
 * | --- | --- | --- |
 * | connection refused / lost, `ServiceUnavailable`, `SessionExpired` | `unavailable` | `UnavailableError` (retryable) |
 * | `Neo.TransientError.*` (deadlock, lock timeout, leader switch, database unavailable, the shared transaction memory pool exhausted by concurrent work, …) | `unavailable` | `UnavailableError` (retryable) |
 * | `Neo.ClientError.Cluster.NotALeader`, `…General.ForbiddenOnReadOnlyDatabase` (leader switch), `…Transaction.TransactionTimedOut*`, `…Security.*` (credentials), `…Database.DatabaseNotFound` | `unavailable` | `UnavailableError` (retryable) |
 * | `Neo.ClientError.Schema.ConstraintValidationFailed`, `…Statement.EntityNotFound` (a concurrent transaction won a race) | `race` | retried by the registry; `UnavailableError` once its attempts are spent |
 * | memory error naming `db.memory.transaction.max` (this transaction alone is too large), `…General.TransactionOutOfMemoryError` | `transaction_memory` | `StoreRejectedError` `E_PAYLOAD_TOO_LARGE` |
 * | "Property value is too large to index" (`Neo.DatabaseError.Statement.ExecutionFailed` in 5.26) | `index_key_size` | `StoreRejectedError` `E_INVALID` |
 * | `Neo.ClientError.Statement.ArgumentError` / `TypeError`, `…Request.Invalid*` | `invalid_value` | `StoreRejectedError` `E_INVALID` |
 * | anything else (`Neo.DatabaseError.*`, syntax or semantic errors of our statements) | `internal` | `RegistryError` `E_INTERNAL` |
 *
 * Neo4j 5.26 reports both memory limits with one code
 * (`Neo.TransientError.General.MemoryPoolOutOfMemoryError`); the setting
 * named in its message tells them apart: `db.memory.transaction.max` is the
 * limit of one transaction (this input is too large: permanent), while
 * `dbms.memory.transaction.total.max` / `db.memory.transaction.total.max`
 * is the pool all transactions share (transient). Likewise the index-key
 * limit has no code of its own.
 *
 * Messages of the errors built here are safe to show a client: they name
 * the class of failure and the Neo4j status code, never Neo4j's own text,
 * which stays in `cause`.
 *
 * @module
 */

import {
  RegistryError,
  StoreRejectedError,
  UnavailableError,
} from "../errors.ts";

/**
 * What a Neo4j failure means for the registry (see the module table).
 *
 * @example
 * ```ts
 * import type { Neo4jFailure } from "./errors_map.ts";
 * const f: Neo4jFailure = "unavailable";
 * ```
 */
export type Neo4jFailure =
  | "unavailable"
  | "race"
  | "transaction_memory"
  | "index_key_size"
  | "invalid_value"
  | "internal";

/** Driver codes for a server it cannot reach or lost. */
const DRIVER_UNAVAILABLE: ReadonlySet<string> = new Set([
  "ServiceUnavailable",
  "SessionExpired",
]);

/** Client-error codes that say "not now" rather than "not this input". */
const CLIENT_UNAVAILABLE: ReadonlySet<string> = new Set([
  "Neo.ClientError.Cluster.NotALeader",
  "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase",
  "Neo.ClientError.Transaction.TransactionTimedOut",
  "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
  "Neo.ClientError.Database.DatabaseNotFound",
]);

const RACE: ReadonlySet<string> = new Set([
  "Neo.ClientError.Schema.ConstraintValidationFailed",
  "Neo.ClientError.Statement.EntityNotFound",
]);

const INVALID_VALUE: ReadonlySet<string> = new Set([
  "Neo.ClientError.Statement.ArgumentError",
  "Neo.ClientError.Statement.TypeError",
  "Neo.ClientError.Request.Invalid",
  "Neo.ClientError.Request.InvalidFormat",
]);

const MEMORY: ReadonlySet<string> = new Set([
  "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
  "Neo.ClientError.General.TransactionOutOfMemoryError",
  "Neo.TransientError.General.TransactionMemoryLimit",
]);

/**
 * Thrown inside a registry transaction when its own checks find that a
 * concurrent transaction changed what it read (a count that does not add
 * up): classified as a `race`, so the transaction is re-run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyNeo4jError, ConcurrentChange } from "./errors_map.ts";
 * assert.equal(classifyNeo4jError(new ConcurrentChange("2 of 3 edges created")), "race");
 * ```
 */
export class ConcurrentChange extends Error {
  /**
   * Create the signal.
   *
   * @param message What did not add up.
   */
  constructor(message: string) {
    super(message);
    this.name = "ConcurrentChange";
  }
}

/**
 * The Neo4j status (or driver) code of an error, `""` if it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { neo4jCodeOf } from "./errors_map.ts";
 * assert.equal(neo4jCodeOf({ code: "ServiceUnavailable" }), "ServiceUnavailable");
 * ```
 */
export function neo4jCodeOf(e: unknown): string {
  if (e !== null && typeof e === "object" && "code" in e) {
    const c = (e as { code: unknown }).code;
    if (typeof c === "string") return c;
  }
  return "";
}

function messageOf(e: unknown): string {
  if (e !== null && typeof e === "object") {
    return String((e as { message?: unknown }).message ?? "");
  }
  return String(e ?? "");
}

/**
 * Classify a failure of a Neo4j call (see the module table).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyNeo4jError } from "./errors_map.ts";
 * assert.equal(classifyNeo4jError({ code: "Neo.TransientError.Transaction.DeadlockDetected" }), "unavailable");
 * assert.equal(
 *   classifyNeo4jError({
 *     code: "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
 *     message: "… db.memory.transaction.max threshold reached",
 *   }),
 *   "transaction_memory",
 * );
 * ```
 */
export function classifyNeo4jError(e: unknown): Neo4jFailure {
  if (e instanceof ConcurrentChange) return "race";
  const code = neo4jCodeOf(e);
  const msg = messageOf(e);
  if (MEMORY.has(code)) {
    // the per-transaction setting (5.x name, and the 4.x/early-5 names)
    return /db\.memory\.transaction\.max(_size)?\b|memory\.transaction\.max_size/
        .test(msg) ||
        code === "Neo.ClientError.General.TransactionOutOfMemoryError"
      ? "transaction_memory"
      : "unavailable";
  }
  if (/too large to index/i.test(msg)) return "index_key_size";
  if (DRIVER_UNAVAILABLE.has(code) || CLIENT_UNAVAILABLE.has(code)) {
    return "unavailable";
  }
  if (code.startsWith("Neo.TransientError.")) return "unavailable";
  if (code.startsWith("Neo.ClientError.Security.")) return "unavailable";
  if (RACE.has(code)) return "race";
  if (
    code.startsWith("Neo.") &&
    /(node|relationship)\b.*\b(has been deleted|does not exist)|deleted in this transaction/i
      .test(msg)
  ) return "race";
  if (INVALID_VALUE.has(code)) return "invalid_value";
  if (code === "") {
    if (
      /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|connection refused|socket hang up|connection.*(closed|lost)/i
        .test(msg)
    ) return "unavailable";
    if ((e as { retriable?: unknown } | null)?.retriable === true) {
      return "unavailable";
    }
  }
  return "internal";
}

/**
 * True when the error means "the database is not reachable or not answering
 * right now" (retrying later may succeed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUnavailable } from "./errors_map.ts";
 * assert.ok(isUnavailable({ code: "ServiceUnavailable" }));
 * assert.equal(isUnavailable({ code: "Neo.ClientError.Statement.SyntaxError" }), false);
 * ```
 */
export function isUnavailable(e: unknown): boolean {
  return classifyNeo4jError(e) === "unavailable";
}

/**
 * True for failures caused by a concurrent transaction that a fresh attempt
 * resolves: a uniqueness constraint hit by a concurrent create, or an entity
 * deleted by a concurrent transaction after it was read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isConcurrentRace } from "./errors_map.ts";
 * assert.ok(isConcurrentRace({ code: "Neo.ClientError.Schema.ConstraintValidationFailed" }));
 * ```
 */
export function isConcurrentRace(e: unknown): boolean {
  return classifyNeo4jError(e) === "race";
}

/**
 * True for failures that the same input will meet again (a
 * {@link StoreRejectedError} or an internal error): a managed transaction
 * must not be retried on them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPermanent } from "./errors_map.ts";
 * assert.ok(isPermanent({ code: "Neo.DatabaseError.Statement.ExecutionFailed", message: "Property value is too large to index" }));
 * ```
 */
export function isPermanent(e: unknown): boolean {
  const c = classifyNeo4jError(e);
  return c !== "unavailable" && c !== "race";
}

/**
 * Convert any failure into a registry error with a client-safe message
 * (`what` names the store, e.g. `neo4j` or `neo4j at bolt://…`). Registry
 * errors pass through. A `race` that reaches this point is reported as a
 * constraint rejection (`E_CONFLICT`); the registry's write loop retries
 * races before, and reports spent attempts as `UnavailableError` itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toRegistryError } from "./errors_map.ts";
 * assert.equal(toRegistryError({ code: "ServiceUnavailable", message: "down" }).code, "E_UNAVAILABLE");
 * ```
 */
export function toRegistryError(e: unknown, what = "neo4j"): RegistryError {
  if (e instanceof RegistryError) return e;
  const code = neo4jCodeOf(e);
  const tag = code ? ` (${code})` : "";
  switch (classifyNeo4jError(e)) {
    case "unavailable":
      return new UnavailableError(
        `${what} is unavailable or busy${tag}; retry later`,
        { cause: e },
      );
    case "transaction_memory":
      return new StoreRejectedError(
        "transaction_memory",
        `the DAG is too large for one ${what} transaction (its per-transaction memory limit was reached)`,
        { cause: e, storeCode: code },
      );
    case "index_key_size":
      return new StoreRejectedError(
        "index_key_size",
        `a tag or name is too large for ${what}'s index (at most about 8,000 bytes per key)`,
        { cause: e, storeCode: code },
      );
    case "race":
      return new StoreRejectedError(
        "constraint",
        `the write conflicts with data already in ${what}${tag}`,
        { cause: e, storeCode: code },
      );
    case "invalid_value":
      return new StoreRejectedError(
        "invalid_value",
        `${what} cannot store a value of this input${tag}`,
        { cause: e, storeCode: code },
      );
    default:
      return new RegistryError(
        "E_INTERNAL",
        `${what} failed${tag}`,
        { cause: e },
      );
  }
}
