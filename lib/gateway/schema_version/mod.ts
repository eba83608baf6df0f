/**
 * Schema-version sentinel for contract calls: the client's
 * `qmtl-schema-version` / `qmtl-schema-hash` must be compatible (same major,
 * known hash) or the call is refused with 412 `E_SCHEMA_INCOMPATIBLE` naming
 * the accepted versions. Every response echoes the server's version and hash.
 *
 * @module
 */

import {
  checkCompatibility,
  QmtlError,
  schemaHeaders,
} from "../../contracts/mod.ts";

/**
 * Throw 412 `E_SCHEMA_INCOMPATIBLE` unless the client's schema version and
 * hash are compatible (the schema step of the gateway's per-route pipeline,
 * on RPC routes).
 *
 * @example
 * ```ts
 * import { SCHEMA_HASH, SCHEMA_VERSION } from "@qmtl/qmtl/contracts";
 * import { checkSchemaHeaders } from "./mod.ts";
 * checkSchemaHeaders(SCHEMA_VERSION, SCHEMA_HASH); // compatible: no throw
 * ```
 */
export function checkSchemaHeaders(
  version: string | undefined,
  hash: string | undefined,
): void {
  const result = checkCompatibility(version, hash);
  if (!result.ok) {
    throw new QmtlError(
      "E_SCHEMA_INCOMPATIBLE",
      `${result.reason}; accepted versions: ${result.accepted.join(", ")}`,
      {
        details: { accepted: result.accepted.join(","), ...schemaHeaders() },
      },
    );
  }
}

/**
 * The `[name, value]` pairs every response echoes (the server's schema
 * version and hash), computed once.
 */
export const SCHEMA_ECHO: readonly (readonly [string, string])[] = Object
  .freeze(Object.entries(schemaHeaders()));
