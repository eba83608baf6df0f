import assert from "node:assert/strict";
import { createLogger } from "../../lib/gateway/mod.ts";
import { closeAll, memoryGateway, token } from "./helpers.ts";

Deno.test("logger: JSON lines, credentials redacted at any depth, fields override base, levels", () => {
  const lines: string[] = [];
  const log = createLogger({
    sink: (l) => lines.push(l),
    base: { component: "gw" },
    level: "info",
  });
  log.debug("hidden");
  log.info("a", {
    token: "abc",
    n: 1,
    s: 'q"\n',
    nested: { password: "p", ok: [1, 2], deep: { apiKey: "k" } },
    err: new Error("boom"),
    skipped: undefined,
    nan: NaN,
  });
  log.warn("b", { component: "override", msg: "m2" });
  assert.equal(lines.length, 2);
  const a = JSON.parse(lines[0]);
  assert.equal(a.level, "info");
  assert.equal(a.msg, "a");
  assert.equal(a.component, "gw");
  assert.equal(a.token, "<redacted>");
  assert.equal(a.s, 'q"\n');
  assert.deepEqual(a.nested, {
    password: "<redacted>",
    ok: [1, 2],
    deep: { apiKey: "<redacted>" },
  });
  assert.deepEqual(a.err, { name: "Error", message: "boom" });
  assert.equal("skipped" in a, false);
  assert.equal(a.nan, null);
  assert.match(a.time, /^\d{4}-\d\d-\d\dT/);
  assert.ok(!lines[0].includes("abc"));
  const b = JSON.parse(lines[1]);
  assert.equal(b.component, "override");
  assert.equal(b.msg, "m2");
  assert.equal(lines[1].split('"component"').length, 2, "no duplicate key");
  assert.equal(log.enabled?.("debug"), false);
  assert.equal(log.enabled?.("warn"), true);
});

Deno.test("logger: the request line has no query string, headers or token", async () => {
  const gw = memoryGateway({ worker: { autoStart: false } });
  try {
    const tok = await token("alice", ["reader"]);
    const res = await gw.app.request("/v1/nodes?page_size=5&secret=x", {
      headers: { authorization: `Bearer ${tok}` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const line = gw.logs.map((l) => JSON.parse(l)).find((r) =>
      r.msg === "request" && r.path === "/v1/nodes"
    );
    assert.ok(line);
    assert.equal(line.subject, "alice");
    assert.equal(line.route, "/v1/nodes");
    assert.equal(line.status, 200);
    assert.equal(line.requestId, res.headers.get("x-request-id"));
    for (const l of gw.logs) {
      assert.ok(!l.includes(tok), "token in a log line");
      assert.ok(!l.includes("page_size"), "query string in a log line");
    }
  } finally {
    await closeAll(gw);
  }
});
