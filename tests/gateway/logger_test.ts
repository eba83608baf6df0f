import assert from "node:assert/strict";
import { bufferedSink, createLogger } from "../../lib/gateway/mod.ts";
import { token, withGateway } from "./helpers.ts";

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
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
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
  });
});

Deno.test("logger: the default sink buffers lines and loses none at exit", async () => {
  // A program that logs 20,000 lines through the default logger and exits at
  // once (no flush): the unload hook writes the rest.
  const script = `
    import { createLogger } from "${
    new URL("../../lib/gateway/mod.ts", import.meta.url).href
  }";
    const log = createLogger();
    for (let i = 0; i < 20000; i++) log.info("line", { i });
    Deno.exit(0);
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(lines.length, 20000);
  assert.deepEqual(lines.map((l) => JSON.parse(l).i), [...Array(20000).keys()]);
});

Deno.test("logger: a sink the target cannot drain drops new lines and counts them", async () => {
  let release = () => {};
  const written: string[] = [];
  const target = {
    write: (p: Uint8Array) =>
      new Promise<number>((r) => {
        release = () => {
          written.push(new TextDecoder().decode(p));
          r(p.length);
        };
      }),
    writeSync: (p: Uint8Array) => p.length,
  };
  const sink = bufferedSink({ target, maxBytes: 100, flushBytes: 10 });
  for (let i = 0; i < 50; i++) sink.write(`line ${i}`);
  assert.ok(
    sink.dropped > 0,
    "beyond maxBytes lines are dropped, memory is bounded",
  );
  release();
  await new Promise((r) => setTimeout(r, 10));
  release();
  sink.close();
  assert.match(written.join(""), /^line 0\n/);
});

Deno.test("access log: a successful probe or scrape is logged at debug, an API success at info, an ops failure at warn", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const levelOf = async (path: string, auth = false) => {
      gw.logs.length = 0;
      const res = await gw.app.request(path, {
        headers: auth
          ? { authorization: `Bearer ${await token("alice", ["reader"])}` }
          : {},
      });
      await res.body?.cancel();
      const line = gw.logs.map((l) => JSON.parse(l)).find((r) =>
        r.msg === "request"
      );
      assert.ok(line, `a request line for ${path}`);
      return line.level as string;
    };
    // (/readyz answers 503 here: the worker is not started; /metrics needs
    // the operator role.)
    for (const p of ["/healthz", "/openapi.json"]) {
      assert.equal(await levelOf(p), "debug", p);
    }
    assert.equal(await levelOf("/v1/strategies", true), "info");
    assert.equal(await levelOf("/no-such-path"), "warn");
  });
});

Deno.test("logger: a line written while a write is under way neither stalls the sink nor is lost", async () => {
  // The writer picks up line B while B's own flush timer is still pending;
  // that timer then fires on an empty buffer. The sink must go on writing
  // (it once kept a settled writer and never wrote again).
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const written: string[] = [];
  const target = {
    write: async (p: Uint8Array) => {
      await sleep(5);
      written.push(new TextDecoder().decode(p));
      return p.length;
    },
    writeSync: (p: Uint8Array) => p.length,
  };
  const sink = bufferedSink({ target, flushMs: 20 });
  sink.write("A");
  await sleep(22); // A's timer fired: A is being written (5 ms)
  sink.write("B"); // its timer fires in 20 ms; the writer takes B first
  await sleep(40); // B's timer fired on an empty buffer
  sink.write("C");
  await sleep(40);
  sink.close();
  assert.deepEqual(written.join(""), "A\nB\nC\n");
  assert.equal(sink.dropped, 0);
});
