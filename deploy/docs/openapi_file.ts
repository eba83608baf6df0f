/**
 * `docs/generated/openapi.json`: the document the gateway serves at
 * `GET /openapi.json` (without a mount prefix), from the same builder.
 *
 * @module
 */

import { buildOpenApi } from "../../lib/gateway/openapi/mod.ts";

/**
 * The OpenAPI document, pretty-printed (two spaces, final newline). Keys keep
 * the builder's order: it is fixed by the code, so regenerating an unchanged
 * document gives the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(JSON.parse(openapiJson()).openapi, "3.1.0");
 * ```
 */
export function openapiJson(): string {
  return `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
}
