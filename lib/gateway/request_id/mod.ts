/**
 * The request-id step of the per-route pipeline (`../pipeline.ts`): reuses a
 * well-formed incoming `x-request-id`, otherwise generates one; the pipeline
 * echoes it on every response.
 *
 * @module
 */

/** Header carrying the request id. */
export const REQUEST_ID_HEADER = "x-request-id";

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id for an incoming `x-request-id` value: the value itself when
 * well-formed, otherwise a fresh id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestIdFor } from "./mod.ts";
 * assert.equal(requestIdFor("abc-1"), "abc-1");
 * ```
 */
export function requestIdFor(incoming: string | undefined): string {
  return incoming !== undefined && VALID.test(incoming)
    ? incoming
    : crypto.randomUUID();
}
