// lib/gateway/request_id/: the request-id step of the pipeline.
import assert from "node:assert/strict";
import { requestIdFor } from "../../lib/gateway/request_id/mod.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

Deno.test("request id: a well-formed incoming id is kept", () => {
  for (const id of ["req-42", "a", "A.b_c:d-9", "x".repeat(128)]) {
    assert.equal(requestIdFor(id), id);
  }
});

Deno.test("request id: a missing, empty, too long or malformed id is replaced by a fresh UUID", () => {
  const seen = new Set<string>();
  for (
    const id of [undefined, "", "x".repeat(129), "bad id", "a\u0007", "a/b"]
  ) {
    const got = requestIdFor(id);
    assert.match(got, UUID, `for ${JSON.stringify(id)}`);
    seen.add(got);
  }
  assert.equal(seen.size, 6, "each replacement is fresh");
});
