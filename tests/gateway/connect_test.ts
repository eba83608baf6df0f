// The contract API as connect-es serves it: generated clients over every
// protocol the gateway speaks, and the Connect conformance points (status
// table, unknown procedure, 415, gzip, QMTL error detail, Retry-After).
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  createContextValues,
  createHandlerContext,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-web";
import {
  ERROR_TABLE,
  ErrorCode,
  ErrorDetailSchema,
  GatewayService,
  ListNodesRequestSchema,
  QmtlError,
  schemaHeaders,
  StrategyState,
} from "../../lib/contracts/mod.ts";
import { UnavailableError } from "../../lib/dag/mod.ts";
import { ROUTES } from "../../lib/gateway/mod.ts";
import {
  chain,
  client,
  closeAll,
  dag,
  memoryGateway,
  node,
  rpcRaw,
  submitBytes,
  token,
  waitFor,
  withGateway,
} from "./helpers.ts";
import {
  connectErrorOf,
  gatewayServiceImpl,
  gzip,
  PRINCIPAL,
  rpcErrorResponse,
} from "../../lib/gateway/connect/mod.ts";

function authHeaders(tok: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${tok}`);
    for (const [k, v] of Object.entries(schemaHeaders())) req.header.set(k, v);
    return next(req);
  };
}

function qmtlDetail(e: unknown) {
  assert.ok(e instanceof ConnectError, String(e));
  const [d] = e.findDetails(ErrorDetailSchema);
  assert.ok(d, `no qmtl.v1.ErrorDetail in ${e.message}`);
  return { code: e.code, detail: d, metadata: e.metadata };
}

Deno.test({
  name:
    "connect: generated clients (Connect binary, Connect JSON, gRPC-Web) call every method over HTTP",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const gw = memoryGateway();
    const ac = new AbortController();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: () => {},
    }, gw.app.fetch);
    try {
      const tok = await token("alice", ["submitter", "reader"]);
      const baseUrl = `http://127.0.0.1:${server.addr.port}`;
      const transports: [string, Transport][] = [
        [
          "connect+proto",
          createConnectTransport({
            baseUrl,
            interceptors: [authHeaders(tok)],
            useBinaryFormat: true,
          }),
        ],
        [
          "connect+json",
          createConnectTransport({
            baseUrl,
            interceptors: [authHeaders(tok)],
          }),
        ],
        [
          "grpc-web",
          createGrpcWebTransport({
            baseUrl,
            interceptors: [authHeaders(tok)],
          }),
        ],
      ];
      for (const [name, transport] of transports) {
        const c = createClient(GatewayService, transport);
        const nodes = chain(`c-${name}-`, 2).map((n) => ({
          ...n,
          tags: ["cx"],
        }));
        const ack = await c.submitStrategy({
          dag: dag(`connect-${name}`, nodes),
          version: "1",
        });
        assert.equal(ack.state, StrategyState.QUEUED, name);
        const done = await waitFor(async () => {
          const { status } = await c.getStrategy({
            strategyId: ack.strategyId,
          });
          return status?.state === StrategyState.COMPLETED ? status : undefined;
        });
        assert.equal(Object.keys(done.queueMap).length, 2, name);
        assert.ok((await c.listNodes({ pageSize: 10 })).nodes.length >= 2);
        const tagged = await c.queryNodesByTags({ tags: ["cx"] });
        assert.ok(tagged.nodes.length >= 2, name);
        const retired = await c.retireStrategy({ strategyId: ack.strategyId });
        assert.equal(retired.status?.state, StrategyState.RETIRED, name);
        // Errors: the Connect code plus the QMTL code as an ErrorDetail.
        const e = await c.getStrategy({ strategyId: "st_nope" }).then(
          () => assert.fail("no error"),
          (e) => e,
        );
        const { code, detail } = qmtlDetail(e);
        assert.equal(code, Code.NotFound, name);
        assert.equal(detail.code, "E_NOT_FOUND", name);
        assert.equal(detail.field, "strategy_id", name);
      }
    } finally {
      ac.abort();
      await server.finished;
      await closeAll(gw);
    }
  },
});

Deno.test("connect: HTTP status follows the Connect spec's code table for every QMTL code", () => {
  const spec: Record<string, number> = {
    canceled: 499,
    unknown: 500,
    invalid_argument: 400,
    deadline_exceeded: 504,
    not_found: 404,
    already_exists: 409,
    permission_denied: 403,
    resource_exhausted: 429,
    failed_precondition: 400,
    aborted: 409,
    out_of_range: 400,
    unimplemented: 501,
    internal: 500,
    unavailable: 503,
    data_loss: 500,
    unauthenticated: 401,
  };
  for (const code of Object.values(ErrorCode)) {
    const res = rpcErrorResponse(
      connectErrorOf(new QmtlError(code, "x")),
      new Headers({ "content-type": "application/proto" }),
    );
    const connectCode = ERROR_TABLE[code].connectCode;
    assert.equal(res.status, spec[connectCode], `${code} → ${connectCode}`);
    assert.equal(res.headers.get("content-type"), "application/json");
  }
  // REST keeps the HTTP statuses of the error table (412 for the schema).
  assert.equal(ERROR_TABLE.E_SCHEMA_INCOMPATIBLE.httpStatus, 412);
});

Deno.test("connect: end-to-end codes, statuses, details and Retry-After", async (t) => {
  const unavailable = (() => {
    throw new UnavailableError("neo4j unreachable");
  }) as never;
  const gw = memoryGateway({
    maxBodyBytes: 64 * 1024,
    policy: { subjects: { mallory: { submissionsPerMinute: 1 } } },
    worker: { autoStart: false },
  });
  gw.registry.listNodes = unavailable;
  try {
    const alice = await token("alice", ["submitter", "reader"]);
    const mallory = await token("mallory", ["submitter"]);
    // mallory's one submission of the minute
    await client(gw, mallory).submitStrategy({ dag: dag("m", [node("m")]) });
    const cases: [
      string,
      () => Promise<Response>,
      number,
      string,
      string,
    ][] = [
      [
        "no token",
        () => rpcRaw(gw, "GetStrategy", new Uint8Array(), undefined),
        401,
        "unauthenticated",
        "E_UNAUTHENTICATED",
      ],
      [
        "role missing",
        async () =>
          rpcRaw(
            gw,
            "SubmitStrategy",
            new Uint8Array(),
            await token("r", ["reader"]),
          ),
        403,
        "permission_denied",
        "E_FORBIDDEN",
      ],
      [
        "not found",
        () => rpcRaw(gw, "GetStrategy", new Uint8Array([0x0a, 1, 0x78]), alice),
        404,
        "not_found",
        "E_NOT_FOUND",
      ],
      [
        "policy: submissions per minute",
        () =>
          rpcRaw(
            gw,
            "SubmitStrategy",
            submitBytes({ dag: dag("p", [node("p")]) }),
            mallory,
          ),
        429,
        "resource_exhausted",
        "E_RATE_LIMITED",
      ],
      [
        "registry unavailable",
        () => rpcRaw(gw, "ListNodes", new Uint8Array(), alice),
        503,
        "unavailable",
        "E_UNAVAILABLE",
      ],
      [
        "malformed protobuf",
        () =>
          rpcRaw(
            gw,
            "SubmitStrategy",
            new Uint8Array([0x0a, 0x05, 0x12, 0x03, 0x18, 0x3c, 0x20]),
            alice,
          ),
        400,
        "invalid_argument",
        "E_INVALID",
      ],
    ];
    for (const [name, call, status, connectCode, qmtlCode] of cases) {
      await t.step(name, async () => {
        const res = await call();
        const body = await res.json();
        assert.equal(res.status, status, JSON.stringify(body));
        assert.equal(body.code, connectCode);
        assert.equal(body.details[0].type, "qmtl.v1.ErrorDetail");
        assert.equal(body.details[0].debug.code, qmtlCode);
        assert.match(body.message, new RegExp(`^\\[${qmtlCode}\\] `));
        if (qmtlCode === "E_UNAVAILABLE") {
          assert.equal(res.headers.get("retry-after"), "5");
        }
        if (name.startsWith("policy")) {
          assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
        }
        // The request id and the schema echo are on every answer.
        assert.ok(res.headers.get("x-request-id"));
        assert.equal(
          res.headers.get("qmtl-schema-version"),
          schemaHeaders()["qmtl-schema-version"],
        );
      });
    }
    await t.step(
      "malformed protobuf: the detail names field and offset",
      async () => {
        const res = await rpcRaw(
          gw,
          "SubmitStrategy",
          new Uint8Array([0x0a, 0x05, 0x12, 0x03, 0x18, 0x3c, 0x20]),
          alice,
        );
        const d = (await res.json()).details[0].debug;
        assert.equal(d.field, "dag.nodes[0].period");
        assert.match(
          d.message,
          /^decode SubmitStrategyRequest\.dag\.nodes\[0\]\.period: .* at offset 6$/,
        );
      },
    );
    await t.step(
      "gRPC-Web: the same error in grpc-status and the detail",
      async () => {
        const c = createClient(
          GatewayService,
          createGrpcWebTransport({
            baseUrl: "http://gateway.test",
            interceptors: [authHeaders(alice)],
            fetch: (input, init) =>
              Promise.resolve(gw.app.request(input as string, init)),
          }),
        );
        const e = await c.listNodes({}).then(
          () => assert.fail("no error"),
          (e) => e,
        );
        const { code, detail, metadata } = qmtlDetail(e);
        assert.equal(code, Code.Unavailable);
        assert.equal(detail.code, "E_UNAVAILABLE");
        assert.equal(metadata.get("retry-after"), "5");
      },
    );
    await t.step(
      "gRPC-Web: a malformed body is invalid_argument + E_INVALID",
      async () => {
        const msg = new Uint8Array([0x0a, 0x05, 0x12, 0x03, 0x18, 0x3c, 0x20]);
        const frame = new Uint8Array([0, 0, 0, 0, msg.length, ...msg]);
        const res = await rpcRaw(gw, "SubmitStrategy", frame, alice, {
          "content-type": "application/grpc-web+proto",
          "x-grpc-web": "1",
        });
        assert.equal(res.status, 200);
        const text = new TextDecoder().decode(
          new Uint8Array(await res.arrayBuffer()),
        );
        const status = res.headers.get("grpc-status") ??
          /grpc-status: ?(\d+)/.exec(text)?.[1];
        assert.equal(status, String(Code.InvalidArgument), text);
      },
    );
  } finally {
    await closeAll(gw);
  }
});

Deno.test("connect: unknown procedure → unimplemented; unsupported content type → 415", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const tok = await token("alice", ["submitter", "reader"]);
    const res = await rpcRaw(gw, "Nope", new Uint8Array(), tok);
    assert.equal(res.status, 501);
    const body = await res.json();
    assert.equal(body.code, "unimplemented");
    assert.equal(body.details[0].debug.code, "E_NOT_FOUND");
    const bad = await rpcRaw(gw, "ListNodes", new Uint8Array(), tok, {
      "content-type": "text/xml",
    });
    assert.equal(bad.status, 415);
    await bad.body?.cancel();
    // GET on a procedure: 405 with Allow.
    const get = await gw.app.request("/qmtl.v1.GatewayService/ListNodes");
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    await get.body?.cancel();
  });
});

async function gzipped(bytes: Uint8Array): Promise<Uint8Array> {
  return await gzip.compress(bytes);
}

Deno.test("connect: gzip request bodies are decoded, bounded after inflating; Accept-Encoding honoured", async (t) => {
  await withGateway({ maxBodyBytes: 64 * 1024 }, async (gw) => {
    const tok = await token("alice", ["submitter", "reader"]);
    await t.step("a gzip body is accepted", async () => {
      const body = await gzipped(
        submitBytes({ dag: dag("gz", chain("gz", 12)), version: "1" }),
      );
      const res = await rpcRaw(gw, "SubmitStrategy", body, tok, {
        "content-encoding": "gzip",
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
    });
    await t.step("a gzip bomb is refused without inflating it", async () => {
      // 16 MiB of zeros in one message field: ~16 KiB compressed, far over
      // the 64 KiB limit once inflated.
      const huge = new Uint8Array(16 * 1024 * 1024 + 6);
      huge.set([0x12, 0x80, 0x80, 0x80, 0x08]); // field 2, length 16 MiB
      const bomb = await gzipped(huge);
      assert.ok(bomb.length < 64 * 1024);
      const res = await rpcRaw(gw, "SubmitStrategy", bomb, tok, {
        "content-encoding": "gzip",
      });
      const body = await res.json();
      assert.equal(res.status, 429);
      assert.equal(body.code, "resource_exhausted");
      assert.equal(body.details[0].debug.code, "E_PAYLOAD_TOO_LARGE");
    });
    await t.step("not gzip → invalid_argument", async () => {
      const res = await rpcRaw(
        gw,
        "ListNodes",
        new Uint8Array([1, 2, 3]),
        tok,
        {
          "content-encoding": "gzip",
        },
      );
      const body = await res.json();
      assert.equal(res.status, 400);
      assert.equal(body.details[0].debug.code, "E_INVALID");
    });
    await t.step(
      "an unsupported encoding → unimplemented, gzip advertised",
      async () => {
        const res = await rpcRaw(gw, "ListNodes", new Uint8Array(), tok, {
          "content-encoding": "br",
        });
        const body = await res.json();
        assert.equal(res.status, 501);
        assert.equal(body.code, "unimplemented");
        assert.equal(res.headers.get("accept-encoding"), "gzip");
        assert.equal(body.details[0].debug.code, "E_INVALID");
      },
    );
    await t.step(
      "Accept-Encoding: gzip compresses a large answer",
      async () => {
        const page = toBinary(
          ListNodesRequestSchema,
          create(ListNodesRequestSchema, { pageSize: 100 }),
        );
        const res = await rpcRaw(gw, "ListNodes", page, tok, {
          "accept-encoding": "gzip",
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-encoding"), "gzip");
        const plain = await gzip.decompress(
          new Uint8Array(await res.arrayBuffer()),
          1 << 20,
        );
        assert.ok(plain.length >= 1024);
      },
    );
  });
});

Deno.test("connect: an unauthenticated body is refused before it is read", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 256) return controller.close(); // 16 MiB at most
        pulled++;
        controller.enqueue(chunk);
      },
    });
    const res = await gw.app.request("/qmtl.v1.GatewayService/SubmitStrategy", {
      method: "POST",
      headers: { "content-type": "application/proto", ...schemaHeaders() },
      body,
      // @ts-ignore Deno's RequestInit accepts duplex for stream bodies
      duplex: "half",
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    assert.ok(pulled <= 2, `read ${pulled} chunks of an unauthenticated body`);
  });
});

Deno.test("connect: the principal reaches the implementation as a context value", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const tok = await token("alice", ["submitter"]);
    const ack = await client(gw, tok).submitStrategy({
      dag: dag("p", [node("p")]),
      version: "1",
    });
    const impl = gatewayServiceImpl({
      service: gw.service,
      registry: gw.registry,
      topics: gw.topics,
      policy: { limitsFor: () => ({}), admit() {}, checkDag() {} },
    });
    const ctx = (subject?: string) =>
      createHandlerContext({
        service: GatewayService,
        method: GatewayService.method.getStrategy,
        protocolName: "connect",
        requestMethod: "POST",
        url: "http://x/qmtl.v1.GatewayService/GetStrategy",
        contextValues: subject === undefined
          ? createContextValues()
          : createContextValues().set(PRINCIPAL, {
            subject,
            roles: ["submitter"],
          }),
      });
    const req = create(GatewayService.method.getStrategy.input, {
      strategyId: ack.strategyId,
    });
    const mine = await impl.getStrategy(req, ctx("alice"));
    assert.equal(mine.status?.owner, "alice");
    await assert.rejects(
      async () => await impl.getStrategy(req, ctx("bob")),
      (e) => e instanceof QmtlError && e.code === "E_NOT_FOUND",
    );
    await assert.rejects(
      async () => await impl.getStrategy(req, ctx()),
      (e) => e instanceof QmtlError && e.code === "E_UNAUTHENTICATED",
    );
  });
});

Deno.test("connect: every GatewayService method has an ACL route and every RPC route a method", () => {
  const methods = GatewayService.methods
    .map((m) => `/${GatewayService.typeName}/${m.name}`)
    .sort();
  const routes = ROUTES.filter((r) => r.kind === "rpc");
  assert.deepEqual(routes.map((r) => r.path).sort(), methods);
  for (const r of routes) {
    assert.equal(r.method, "POST");
    assert.equal(r.id, `rpc.${r.path.split("/").pop()}`);
    assert.ok(r.roles !== "public" && r.roles.length > 0, r.id);
  }
});
