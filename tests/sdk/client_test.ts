import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  QmtlClient,
  QmtlClientError,
  StrategyBuilder,
  UnexpectedStateError,
  ValidationError,
  WaitTimeoutError,
} from "../../sdk/mod.ts";
import {
  GetStrategyRequestSchema,
  ListNodesRequestSchema,
  ListNodesResponseSchema,
  QueryNodesByTagsRequestSchema,
  RetireStrategyRequestSchema,
  SCHEMA_HASH,
  SCHEMA_VERSION,
  SubmitStrategyRequestSchema,
  SubmitStrategyResponseSchema,
} from "../../lib/contracts/mod.ts";
import {
  connectError,
  type FakeGateway,
  onFake,
  protoResponse,
  requestOf,
  startFake,
  status,
  statusResponse,
  StrategyState,
} from "./fake_gateway.ts";
import { code } from "./helpers.ts";
import { input60, step60 } from "./fixtures/nodes.ts";

const FAST_RETRY = { maxAttempts: 4, baseMs: 5, maxMs: 40 };

function strategy(): StrategyBuilder {
  const s = new StrategyBuilder("unit");
  const p = input60(s, "price", ["btc"]);
  step60(s, "sma", [p], 5, (v) => v.last, { params: { window: 5 } });
  return s;
}

function withFake(fn: (f: FakeGateway, c: QmtlClient) => Promise<void>) {
  return onFake((f) =>
    fn(f, new QmtlClient({ url: f.url, token: "tok", retry: FAST_RETRY }))
  );
}

Deno.test("client: submit sends protobuf, schema headers and the bearer token", async () => {
  await withFake(async (f, c) => {
    f.on("SubmitStrategy", () =>
      protoResponse(SubmitStrategyResponseSchema, {
        strategyId: "st_1",
        state: StrategyState.QUEUED,
        dagHash: "sha256:" + "a".repeat(64),
        duplicate: false,
      }));
    const s = strategy();
    const ack = await c.submit(s, {
      version: "v1",
      callbackUrl: "http://x/hook",
    });
    assert.equal(ack.strategyId, "st_1");
    assert.equal(ack.state, "QUEUED");
    const rec = f.requests[0];
    assert.equal(rec.method, "POST");
    assert.equal(rec.path, "/qmtl.v1.GatewayService/SubmitStrategy");
    assert.equal(rec.headers.get("content-type"), "application/proto");
    assert.equal(rec.headers.get("connect-protocol-version"), "1");
    assert.equal(rec.headers.get("qmtl-schema-version"), SCHEMA_VERSION);
    assert.equal(rec.headers.get("qmtl-schema-hash"), SCHEMA_HASH);
    assert.equal(rec.headers.get("authorization"), "Bearer tok");
    const req = requestOf(SubmitStrategyRequestSchema, rec);
    assert.deepEqual(req.dag, s.build());
    assert.equal(req.version, "v1");
    assert.equal(req.callbackUrl, "http://x/hook");
  });
});

Deno.test("client: get, retire, nodesByTags, listNodes encode their requests", async () => {
  await withFake(async (f, c) => {
    f.on("GetStrategy", (_r, rec) => {
      const { strategyId } = requestOf(GetStrategyRequestSchema, rec);
      return statusResponse(status(strategyId, StrategyState.PROCESSING));
    });
    f.on("RetireStrategy", (_r, rec) => {
      const { strategyId } = requestOf(RetireStrategyRequestSchema, rec);
      return statusResponse(status(strategyId, StrategyState.RETIRED));
    });
    const node = strategy().build().nodes[1];
    f.on("QueryNodesByTags", (_r, rec) => {
      const q = requestOf(QueryNodesByTagsRequestSchema, rec);
      assert.deepEqual(
        q,
        create(QueryNodesByTagsRequestSchema, {
          tags: ["btc", "close"],
          matchMode: "all",
          intervalS: 60,
        }),
      );
      return protoResponse(ListNodesResponseSchema, {
        nodes: [{
          node,
          topic: "btc_Processing_1_v1",
          refCount: 2,
          createdAtMs: 1,
          updatedAtMs: 2,
        }],
        nextPageToken: "",
      });
    });
    f.on("ListNodes", (_r, rec) => {
      const q = requestOf(ListNodesRequestSchema, rec);
      assert.deepEqual(
        q,
        create(ListNodesRequestSchema, {
          pageSize: 10,
          pageToken: "p2",
          nodeType: "Processing",
        }),
      );
      return protoResponse(ListNodesResponseSchema, {
        nodes: [],
        nextPageToken: "p3",
      });
    });
    assert.equal((await c.get("st_7")).strategyId, "st_7");
    assert.equal((await c.retire("st_7")).state, "RETIRED");
    const nodes = await c.nodesByTags(["btc", "close"], {
      matchMode: "all",
      intervalS: 60,
    });
    assert.equal(nodes[0].topic, "btc_Processing_1_v1");
    assert.equal(nodes[0].node.nodeId, node.nodeId);
    const page = await c.listNodes({
      pageSize: 10,
      pageToken: "p2",
      nodeType: "Processing",
    });
    assert.equal(page.nextPageToken, "p3");
  });
});

Deno.test("client: every QMTL error code becomes a QmtlClientError with its code", async () => {
  // [Connect code, QMTL code, validation?] — the HTTP status is the one the
  // Connect specification gives the code.
  const cases: [number, string, string, boolean][] = [
    [401, "unauthenticated", "E_UNAUTHENTICATED", false],
    [403, "permission_denied", "E_FORBIDDEN", false],
    [403, "permission_denied", "E_POLICY", false],
    [400, "invalid_argument", "E_INVALID", true],
    [400, "invalid_argument", "E_CYCLE", true],
    [400, "invalid_argument", "E_DUPLICATE", true],
    [400, "invalid_argument", "E_NODE_ID_MISMATCH", true],
    [400, "invalid_argument", "E_CHECKSUM_MISMATCH", true],
    [400, "failed_precondition", "E_UNKNOWN_INPUT", true],
    [404, "not_found", "E_NOT_FOUND", false],
    [409, "aborted", "E_CONFLICT", false],
    [429, "resource_exhausted", "E_PAYLOAD_TOO_LARGE", false],
    [429, "resource_exhausted", "E_RATE_LIMITED", false],
    [500, "internal", "E_INTERNAL", false],
    [400, "failed_precondition", "E_SCHEMA_INCOMPATIBLE", false],
  ];
  await withFake(async (f, c) => {
    for (const [http, connect, qmtl, validation] of cases) {
      f.on(
        "GetStrategy",
        () => connectError(http, connect, qmtl, `because ${qmtl}`),
      );
      const before = f.requests.length;
      const e = await c.get("st_1").then(() => undefined, (e) => e);
      assert.ok(e instanceof QmtlClientError, `${qmtl} → ${e}`);
      assert.equal(e instanceof ValidationError, validation, qmtl);
      assert.equal(e.code, qmtl);
      assert.equal(e.connectCode, connect);
      assert.equal(e.status, http);
      assert.equal(e.retryable, false);
      assert.equal(e.message, `because ${qmtl}`);
      assert.equal(
        f.requests.length - before,
        1,
        `${qmtl} must not be retried`,
      );
    }
  });
});

Deno.test("client: a server validation error names the node and field", async () => {
  await withFake(async (f, c) => {
    const dag = strategy().build();
    f.on(
      "SubmitStrategy",
      () =>
        connectError(
          400,
          "invalid_argument",
          "E_NODE_ID_MISMATCH",
          "nodes[1]: node_id mismatch",
          {
            field: "nodes[1].node_id",
            nodeId: dag.nodes[1].nodeId,
          },
        ),
    );
    const e = await c.submit(dag, { version: "1" }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(e instanceof ValidationError);
    assert.equal(e.code, "E_NODE_ID_MISMATCH");
    assert.equal(e.node, "sma");
    assert.equal(e.field, "nodes[1].node_id");
    assert.equal(e.nodeId, dag.nodes[1].nodeId);
  });
});

Deno.test("client: the builder refuses an invalid DAG before sending", async () => {
  await withFake(async (f, c) => {
    const s = new StrategyBuilder("bad");
    s.streamInput({ name: "p", tags: ["x"], intervalS: 0, period: 1 });
    await assert.rejects(() => c.submit(s, { version: "1" }), ValidationError);
    assert.equal(f.requests.length, 0);
  });
});

Deno.test("client: the Gateway's version, callback URL and metadata limits are checked before sending", async () => {
  await withFake(async (f, c) => {
    const s = new StrategyBuilder("ok");
    s.streamInput({ name: "p", tags: ["x"], intervalS: 60, period: 1 });
    const cases: [Parameters<typeof c.submit>[1], string, RegExp][] = [
      [{ version: "1 beta" }, "version", /must be 1-64 characters/],
      [{ version: "x".repeat(65) }, "version", /at most 64 bytes/],
      [
        { version: "1", callbackUrl: "https://h/" + "p".repeat(3_000) },
        "callback_url",
        /at most 2048 bytes/,
      ],
      [
        { version: "1", metadata: { "bad\u0000key": "v" } },
        "metadata[#0]",
        /control character/,
      ],
    ];
    for (const [options, field, re] of cases) {
      const e = await c.submit(s, options).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(e instanceof ValidationError, String(e));
      assert.equal(e.field, field);
      assert.equal(e.code, "E_INVALID");
      assert.match(e.message, re);
    }
    assert.equal(f.requests.length, 0);
  });
});

Deno.test("client: E_SCHEMA_INCOMPATIBLE carries the accepted versions", async () => {
  await withFake(async (f) => {
    f.on("GetStrategy", (req) => {
      if (req.headers.get("qmtl-schema-version") === SCHEMA_VERSION) {
        return statusResponse(status("st_1", StrategyState.QUEUED));
      }
      return connectError(
        400,
        "failed_precondition",
        "E_SCHEMA_INCOMPATIBLE",
        "schema major 3 is not supported (server speaks 2.0.0); accepted versions: 2.0.0, ^2.0.0",
        {
          details: {
            accepted: "2.0.0,^2.0.0",
            "qmtl-schema-version": "2.0.0",
            "qmtl-schema-hash": SCHEMA_HASH,
          },
        },
      );
    });
    const c = new QmtlClient({
      url: f.url,
      token: "t",
      schemaVersion: "3.0.0",
    });
    const e = await c.get("st_1").then(() => undefined, (e) => e);
    assert.ok(code("E_SCHEMA_INCOMPATIBLE")(e), String(e));
    assert.deepEqual(e.accepted, ["2.0.0", "^2.0.0"]);
    assert.equal(e.serverVersion, "2.0.0");
    assert.equal(e.connectCode, "failed_precondition");
    assert.equal(f.requests[0].headers.get("qmtl-schema-version"), "3.0.0");
    // The same server accepts this SDK's own version.
    const ok = new QmtlClient({ url: f.url, token: "t" });
    assert.equal((await ok.get("st_1")).state, "QUEUED");
  });
});

Deno.test("client: non-QMTL answers map by HTTP status (Connect's rules)", async () => {
  await withFake(async (f, c) => {
    f.on(
      "GetStrategy",
      () => new Response("<html>bad gateway</html>", { status: 502 }),
    );
    const e = await c.get("x").then(() => undefined, (e) => e);
    assert.ok(code("E_UNAVAILABLE")(e), String(e));
    assert.equal(e.attempts, FAST_RETRY.maxAttempts);
    f.on("GetStrategy", () => new Response("nope", { status: 401 }));
    await assert.rejects(() => c.get("x"), code("E_UNAUTHENTICATED"));
    f.on("GetStrategy", () => new Response("hello", { status: 200 }));
    await assert.rejects(() => c.get("x"), code("E_INTERNAL"));
  });
});

Deno.test("client: unavailable is retried with bounded backoff, then succeeds", async () => {
  await withFake(async (f, c) => {
    let n = 0;
    f.on("GetStrategy", () => {
      n++;
      return n < 3
        ? connectError(503, "unavailable", "E_UNAVAILABLE", "neo4j down")
        : statusResponse(status("st_1", StrategyState.COMPLETED));
    });
    const t0 = performance.now();
    const st = await c.get("st_1");
    assert.equal(st.state, "COMPLETED");
    assert.equal(n, 3);
    // two waits, each ≤ maxMs (40 ms), plus slack
    assert.ok(performance.now() - t0 < 2 * FAST_RETRY.maxMs + 500);
  });
});

Deno.test("client: retries stop at maxAttempts and honour Retry-After up to maxMs", async () => {
  await withFake(async (f) => {
    let n = 0;
    f.on("GetStrategy", () => {
      n++;
      return connectError(503, "unavailable", "E_UNAVAILABLE", "down", {}, {
        "retry-after": "5",
      });
    });
    const c = new QmtlClient({
      url: f.url,
      token: "t",
      retry: { maxAttempts: 3, baseMs: 1, maxMs: 100 },
    });
    const t0 = performance.now();
    const e = await c.get("st_1").then(() => undefined, (e) => e);
    const elapsed = performance.now() - t0;
    assert.ok(code("E_UNAVAILABLE")(e), String(e));
    assert.equal(e.retryable, true);
    assert.equal(e.attempts, 3);
    assert.equal(e.retryAfterMs, 5000);
    assert.equal(n, 3);
    // Retry-After 5 s is capped at maxMs = 100 ms (jitter 80–100 %): 2 waits.
    assert.ok(elapsed >= 150, `waited ${elapsed} ms`);
    assert.ok(elapsed < 1500, `waited ${elapsed} ms`);
  });
});

Deno.test("client: a refused connection is unavailable after the retry budget", async () => {
  const f = startFake();
  const url = f.url;
  await f.close();
  const c = new QmtlClient({
    url,
    token: "t",
    retry: { maxAttempts: 2, baseMs: 1, maxMs: 5 },
  });
  const e = await c.get("st_1").then(() => undefined, (e) => e);
  assert.ok(code("E_UNAVAILABLE")(e), String(e));
  assert.match(e.message, /cannot reach the Gateway/);
  assert.equal(e.attempts, 2);
});

Deno.test("client: a hanging server times out per request", async () => {
  await withFake(async (f) => {
    f.on(
      "GetStrategy",
      () =>
        new Promise<Response>((r) =>
          setTimeout(() => r(new Response("")), 2000)
        ),
    );
    const c = new QmtlClient({
      url: f.url,
      token: "t",
      requestTimeoutMs: 50,
      retry: { maxAttempts: 2, baseMs: 1, maxMs: 5 },
    });
    const t0 = performance.now();
    const e = await c.get("st_1").then(() => undefined, (e) => e);
    assert.ok(code("E_UNAVAILABLE")(e), String(e));
    assert.equal(e.connectCode, "deadline_exceeded");
    assert.equal(e.attempts, 2);
    assert.ok(performance.now() - t0 < 1500);
    await new Promise((r) => setTimeout(r, 2100)); // let the fake answer before closing
  });
});

Deno.test("client: a token function is called per request", async () => {
  await withFake(async (f) => {
    f.on(
      "GetStrategy",
      () => statusResponse(status("a", StrategyState.QUEUED)),
    );
    let i = 0;
    const c = new QmtlClient({ url: f.url, token: () => `t${++i}` });
    await c.get("a");
    await c.get("a");
    assert.deepEqual(f.requests.map((r) => r.headers.get("authorization")), [
      "Bearer t1",
      "Bearer t2",
    ]);
  });
});

Deno.test("client: waitFor times out, fails on FAILED, honours its signal", async () => {
  await withFake(async (f, c) => {
    let state = StrategyState.PROCESSING;
    f.on("GetStrategy", () =>
      statusResponse(status(
        "st_1",
        state,
        state === StrategyState.FAILED
          ? { error: { code: "E_UNAVAILABLE", message: "neo4j gone" } }
          : {},
      )));
    const t = await c.waitFor("st_1", "COMPLETED", {
      timeoutMs: 150,
      pollMs: 20,
    }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(t instanceof WaitTimeoutError, String(t));
    assert.equal(t.lastStatus?.state, "PROCESSING");

    state = StrategyState.FAILED;
    const e = await c.waitFor("st_1", "COMPLETED", {
      timeoutMs: 2000,
      pollMs: 20,
    }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(e instanceof UnexpectedStateError, String(e));
    assert.equal(e.state, "FAILED");
    assert.match(e.message, /neo4j gone/);
    // Waiting for FAILED itself is fine.
    assert.equal(
      (await c.waitFor("st_1", ["FAILED"], { timeoutMs: 2000 })).state,
      "FAILED",
    );

    state = StrategyState.PROCESSING;
    const ac = new AbortController();
    const reason = new Error("user stop");
    setTimeout(() => ac.abort(reason), 50);
    await assert.rejects(
      () =>
        c.waitFor("st_1", "COMPLETED", {
          timeoutMs: 5000,
          pollMs: 20,
          signal: ac.signal,
        }),
      (err) => err === reason,
    );
  });
});

Deno.test("client: waitFor keeps going through unavailable answers until the state", async () => {
  await withFake(async (f, c) => {
    let n = 0;
    f.on("GetStrategy", () => {
      n++;
      if (n === 1) {
        return statusResponse(status("st_1", StrategyState.QUEUED));
      }
      if (n < 12) {
        return connectError(503, "unavailable", "E_UNAVAILABLE", "restarting");
      }
      return statusResponse(status("st_1", StrategyState.COMPLETED));
    });
    const st = await c.waitFor("st_1", "COMPLETED", {
      timeoutMs: 5000,
      pollMs: 10,
      useEvents: false,
    });
    assert.equal(st.state, "COMPLETED");
    assert.ok(n >= 12);
  });
});

Deno.test("client: waitFor stops at once on auth and not-found errors", async () => {
  await withFake(async (f, c) => {
    f.on(
      "GetStrategy",
      () => connectError(404, "not_found", "E_NOT_FOUND", "no strategy"),
    );
    await assert.rejects(
      () => c.waitFor("nope", "COMPLETED", { timeoutMs: 5000 }),
      code("E_NOT_FOUND"),
    );
    f.on(
      "GetStrategy",
      () =>
        connectError(401, "unauthenticated", "E_UNAUTHENTICATED", "expired"),
    );
    await assert.rejects(
      () => c.waitFor("nope", "COMPLETED", { timeoutMs: 5000 }),
      code("E_UNAUTHENTICATED"),
    );
  });
});
