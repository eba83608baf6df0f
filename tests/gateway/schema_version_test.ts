// lib/gateway/schema_version/: the schema step of the pipeline (RPC routes)
// and the headers every response echoes.
import assert from "node:assert/strict";
import {
  QmtlError,
  SCHEMA_HASH,
  SCHEMA_VERSION,
  schemaHeaders,
} from "../../lib/contracts/mod.ts";
import {
  checkSchemaHeaders,
  SCHEMA_ECHO,
} from "../../lib/gateway/schema_version/mod.ts";

Deno.test("schema version: the server's own version and hash pass", () => {
  checkSchemaHeaders(SCHEMA_VERSION, SCHEMA_HASH);
});

Deno.test("schema version: a foreign major is refused with E_SCHEMA_INCOMPATIBLE naming the accepted versions", () => {
  const major = Number(SCHEMA_VERSION.split(".")[0]);
  assert.throws(
    () => checkSchemaHeaders(`${major + 97}.0.0`, undefined),
    (e: unknown) => {
      assert.ok(e instanceof QmtlError);
      assert.equal(e.code, "E_SCHEMA_INCOMPATIBLE");
      assert.match(e.message, /accepted versions: /);
      assert.ok(String(e.details?.accepted ?? "").includes(SCHEMA_VERSION));
      return true;
    },
  );
});

Deno.test("schema version: an unknown hash with the right version is refused", () => {
  assert.throws(
    () => checkSchemaHeaders(SCHEMA_VERSION, "0".repeat(64)),
    (e: unknown) =>
      e instanceof QmtlError && e.code === "E_SCHEMA_INCOMPATIBLE",
  );
});

Deno.test("schema version: every response echoes the server's version and hash", () => {
  assert.deepEqual(Object.fromEntries(SCHEMA_ECHO), schemaHeaders());
  assert.ok(Object.isFrozen(SCHEMA_ECHO));
});
