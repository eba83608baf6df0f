/**
 * Map neo4j-driver failures to the registry's typed errors: unreachable,
 * expired or transient → `UnavailableError` (retryable); anything else →
 * `RegistryError` (`E_INTERNAL`, not retryable). Registry errors pass through.
 *
 * @module
 */

import { RegistryError, UnavailableError } from "../errors.ts";

/** Codes the driver uses for a server it cannot reach or lost. */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  "ServiceUnavailable",
  "SessionExpired",
  "Neo.ClientError.Security.AuthorizationExpired",
  "Neo.ClientError.Database.DatabaseNotFound",
]);

function codeOf(e: unknown): string {
  if (e !== null && typeof e === "object" && "code" in e) {
    const c = (e as { code: unknown }).code;
    if (typeof c === "string") return c;
  }
  return "";
}

/**
 * True when the error means "the database is not reachable or not answering
 * right now" (retrying later may succeed).
 *
 * @example
 * ```ts
 * import { isUnavailable } from "./errors_map.ts";
 * isUnavailable({ code: "ServiceUnavailable" }); // true
 * isUnavailable({ code: "Neo.ClientError.Statement.SyntaxError" }); // false
 * ```
 */
export function isUnavailable(e: unknown): boolean {
  const code = codeOf(e);
  if (UNAVAILABLE_CODES.has(code) || code.includes("TransientError")) {
    return true;
  }
  if (e !== null && typeof e === "object") {
    if ((e as { retriable?: unknown }).retriable === true) return true;
    const msg = String((e as { message?: unknown }).message ?? "");
    if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|connection refused/i.test(msg)) {
      return true;
    }
  }
  return false;
}

/**
 * True for failures caused by a concurrent transaction that a fresh attempt
 * resolves: a uniqueness constraint hit by a concurrent create, or an entity
 * deleted by a concurrent transaction after it was read.
 *
 * @example
 * ```ts
 * import { isConcurrentRace } from "./errors_map.ts";
 * isConcurrentRace({ code: "Neo.ClientError.Schema.ConstraintValidationFailed" }); // true
 * ```
 */
export function isConcurrentRace(e: unknown): boolean {
  const code = codeOf(e);
  if (
    code === "Neo.ClientError.Schema.ConstraintValidationFailed" ||
    code === "Neo.ClientError.Statement.EntityNotFound"
  ) return true;
  const msg = e !== null && typeof e === "object"
    ? String((e as { message?: unknown }).message ?? "")
    : "";
  return /has been deleted|deleted in this transaction|does not exist/i.test(
    msg,
  ) && code.startsWith("Neo.");
}

/**
 * Convert any failure into a registry error.
 *
 * @example
 * ```ts
 * import { toRegistryError } from "./errors_map.ts";
 * toRegistryError({ code: "ServiceUnavailable", message: "down" }).code; // "E_UNAVAILABLE"
 * ```
 */
export function toRegistryError(e: unknown, what = "neo4j"): RegistryError {
  if (e instanceof RegistryError) return e;
  const msg = e instanceof Error
    ? e.message
    : String((e as { message?: unknown })?.message ?? e);
  if (isUnavailable(e)) {
    return new UnavailableError(`${what} unavailable: ${msg}`, { cause: e });
  }
  const code = codeOf(e);
  return new RegistryError(
    "E_INTERNAL",
    `${what} error${code ? ` ${code}` : ""}: ${msg}`,
    { cause: e },
  );
}
