/**
 * Mounting the gateway in a user's service (docs/gateway.md, "Mounting"):
 * inside a Hono app with `app.route("/qmtl", gateway.app)` (which must
 * type-check: this file and the fixture are type-checked), and inside a
 * plain `Deno.serve` handler with `basePath`. Contract API, REST, SSE, 405,
 * errors and `/openapi.json` work under the prefix; the user's own routes
 * stay theirs; and Deno's request.signal warning is never printed.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { GatewayApp } from "../../lib/gateway/mod.ts";
import { bareGateway } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url);

async function runMode(mode: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tests/gateway/fixtures/mount_child.ts", mode],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stdout + stderr);
  assert.doesNotMatch(stderr, /request\.signal/);
  assert.equal(stderr.trim(), "", "nothing on stderr");
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

for (const mode of ["hono", "deno-serve"]) {
  Deno.test(`mounted under /qmtl (${mode}): every surface works, no request.signal warning`, async () => {
    const r = await runMode(mode);
    assert.equal(r.own.status, 200);
    assert.equal(r.own.body, "my service");
    assert.equal(r.healthz.status, 200);
    assert.equal(r.unauthenticated.status, 401);
    assert.equal(r.unauthenticated.type, "application/problem+json");
    assert.equal(r.post405.status, 405);
    assert.equal(r.post405.allow, "GET, HEAD");
    assert.equal(r.get405.status, 405);
    assert.equal(r.get405.allow, "POST");
    assert.deepEqual(r.servers, [{ url: "/qmtl" }]);
    assert.equal(r.state, "COMPLETED");
    assert.deepEqual(r.events, ["QUEUED", "PROCESSING", "COMPLETED"]);
    assert.equal(r.list, 200);
  });
}

Deno.test("gateway.app is a Hono app: app.route type-checks and answers in process", async () => {
  const gw = bareGateway({ logSuccess: false });
  try {
    const app: GatewayApp = gw.app;
    const parent = new Hono().route("/qmtl", app);
    const res = await parent.request("/qmtl/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
    // Standalone, the document has no servers entry.
    const doc = await (await gw.app.request("/openapi.json")).json();
    assert.equal(doc.servers, undefined);
  } finally {
    await gw.close();
  }
});

Deno.test("createGateway: a malformed basePath is refused", () => {
  for (const bad of ["qmtl", "/qmtl/", "/q mtl", "/a//b"]) {
    assert.throws(
      () => bareGateway({ basePath: bad }),
      /basePath must look like/,
      bad,
    );
  }
});
