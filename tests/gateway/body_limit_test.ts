// lib/gateway/body_limit/: the declared-size step of the pipeline and the
// bounded body read the RPC handler does after authentication.
import assert from "node:assert/strict";
import { QmtlError } from "../../lib/contracts/mod.ts";
import {
  assertDeclaredSize,
  readBodyLimited,
} from "../../lib/gateway/body_limit/mod.ts";

function post(
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Request {
  return new Request("http://127.0.0.1/x", { method: "POST", body, headers });
}

function chunks(parts: Uint8Array[], fail = false): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < parts.length) c.enqueue(parts[i++]);
      else if (fail) c.error(new Error("connection reset"));
      else c.close();
    },
  });
}

const isCode = (code: string) => (e: unknown) =>
  e instanceof QmtlError && e.code === code;

Deno.test("body limit: a declared Content-Length over the limit is refused before reading", () => {
  assertDeclaredSize(post(null, { "content-length": "10" }), 10);
  assert.throws(
    () => assertDeclaredSize(post(null, { "content-length": "11" }), 10),
    isCode("E_PAYLOAD_TOO_LARGE"),
  );
});

Deno.test("body limit: a body within the limit is read whole, across chunks", async () => {
  const enc = new TextEncoder();
  const got = await readBodyLimited(
    post(chunks([enc.encode("hel"), enc.encode("lo")])),
    5,
  );
  assert.equal(new TextDecoder().decode(got), "hello");
  assert.equal((await readBodyLimited(post(null), 5)).byteLength, 0);
});

Deno.test("body limit: an undeclared body is refused as soon as it passes the limit, and the rest is cancelled", async () => {
  let cancelled = false;
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(4));
    },
    cancel() {
      cancelled = true;
    },
  });
  await assert.rejects(
    readBodyLimited(post(stream), 10),
    isCode("E_PAYLOAD_TOO_LARGE"),
  );
  assert.ok(cancelled, "the stream was cancelled");
  assert.ok(pulled <= 4, `read ${pulled} chunks of an endless body`);
});

Deno.test("body limit: a body that breaks off is E_INVALID, not E_INTERNAL", async () => {
  await assert.rejects(
    readBodyLimited(post(chunks([new Uint8Array(2)], true)), 10),
    isCode("E_INVALID"),
  );
});
