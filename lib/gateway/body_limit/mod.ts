/**
 * Body-size limit: requests whose body exceeds the limit are refused with
 * `E_PAYLOAD_TOO_LARGE` before anything decodes them — at once when the
 * declared `Content-Length` is over the limit, otherwise while reading, as
 * soon as the running total passes it. The gateway's RPC routes check the
 * declared length early ({@link assertDeclaredSize}, a step of the per-route
 * pipeline) and read the body only after authentication
 * ({@link readBodyLimited}).
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";
import { isRequestTimeout } from "../error_mapper/mod.ts";
import { joinBytes } from "./join_bytes.ts";

/** Default limit: 8 MiB (a 1,000-node DAG is well under 1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

function tooLarge(max: number): QmtlError {
  return new QmtlError(
    "E_PAYLOAD_TOO_LARGE",
    `request body exceeds the limit of ${max} bytes`,
    { details: { limit: String(max) } },
  );
}

/**
 * A body that could not be read to its end: the client closed the
 * connection or sent malformed framing. The client's fault, so `E_INVALID`
 * (400), never a 500. (A body that stopped arriving — the transport's body
 * deadline — keeps its own error, answered 408.)
 */
function incomplete(cause: unknown): QmtlError {
  return new QmtlError(
    "E_INVALID",
    "the request body ended early (the client closed the connection or sent malformed framing)",
    { cause },
  );
}

/**
 * Refuse a request whose declared `Content-Length` exceeds `max` (nothing is
 * read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertDeclaredSize } from "./mod.ts";
 * const req = new Request("http://x", { method: "POST", headers: { "content-length": "5" } });
 * assert.throws(() => assertDeclaredSize(req, 2));
 * ```
 */
export function assertDeclaredSize(req: Request, max: number): void {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) throw tooLarge(max);
}

/**
 * Read a request body, failing as soon as it exceeds `max` bytes
 * (`E_PAYLOAD_TOO_LARGE`), and with `E_INVALID` when it cannot be read to
 * its end (the client went away, malformed chunked framing, a body
 * deadline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBodyLimited } from "./mod.ts";
 * const bytes = await readBodyLimited(new Request("http://x", { method: "POST", body: "hi" }), 10);
 * assert.equal(bytes.length, 2);
 * ```
 */
export async function readBodyLimited(
  req: Request,
  max: number,
): Promise<Uint8Array> {
  assertDeclaredSize(req, max);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch (e) {
      throw isRequestTimeout(e) ? e : incomplete(e);
    }
    const { done, value } = step;
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  return joinBytes(chunks);
}
