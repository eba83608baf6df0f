/**
 * gzip for connect-es (`Content-Encoding: gzip` request bodies, and
 * responses when the client's `Accept-Encoding` asks for it), with the
 * decompressed size bounded: inflating stops, and the call is refused, as
 * soon as the output exceeds the limit (a gzip bomb never inflates).
 *
 * @module
 */

import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { QmtlError } from "../../contracts/errors.ts";
import { joinBytes } from "../body_limit/join_bytes.ts";
import { connectErrorOf } from "./errors.ts";

async function concat(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  max: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw connectErrorOf(
          new QmtlError(
            "E_PAYLOAD_TOO_LARGE",
            `decompressed request body exceeds the limit of ${max} bytes`,
            { details: { limit: String(max) } },
          ),
        );
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return joinBytes(chunks);
}

function streamOf(bytes: Uint8Array): ReadableStream<BufferSource> {
  return new ReadableStream<BufferSource>({
    start(controller) {
      controller.enqueue(bytes as Uint8Array<ArrayBuffer>);
      controller.close();
    },
  });
}

/**
 * The gzip {@link Compression} of the gateway's RPC router.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gzip } from "./gzip.ts";
 * const packed = await gzip.compress(new TextEncoder().encode("hello"));
 * assert.equal(new TextDecoder().decode(await gzip.decompress(packed, 100)), "hello");
 * await assert.rejects(gzip.decompress(packed, 2)); // over the limit
 * ```
 */
export const gzip: Compression = {
  name: "gzip",
  compress(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return concat(
      streamOf(bytes).pipeThrough(new CompressionStream("gzip")),
      Number.MAX_SAFE_INTEGER,
    );
  },
  async decompress(
    bytes: Uint8Array,
    readMaxBytes: number,
  ): Promise<Uint8Array<ArrayBuffer>> {
    if (bytes.byteLength === 0) return new Uint8Array(0);
    try {
      return await concat(
        streamOf(bytes).pipeThrough(new DecompressionStream("gzip")),
        readMaxBytes,
      );
    } catch (e) {
      if (e instanceof ConnectError) throw e;
      throw connectErrorOf(
        new QmtlError(
          "E_INVALID",
          `request body is not valid gzip: ${(e as Error).message}`,
          { cause: e },
        ),
        Code.InvalidArgument,
      );
    }
  },
};
