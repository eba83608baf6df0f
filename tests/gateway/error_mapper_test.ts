// The error mapper (lib/gateway/error_mapper): a store's or driver's error
// text never reaches a client — not in an answer, not in a strategy's status —
// and it does reach the log.
import assert from "node:assert/strict";
import { ConnectError } from "@connectrpc/connect";
import { HTTPException } from "hono/http-exception";
import {
  QmtlError,
  SCHEMA_HASH,
  SCHEMA_VERSION,
  StrategyState,
} from "../../lib/contracts/mod.ts";
import { RegistryError, UnavailableError } from "../../lib/dag/mod.ts";
import { DurabilityError } from "../../lib/queue/mod.ts";
import {
  client,
  closeAll,
  dag,
  memoryGateway,
  node,
  token,
  waitForState,
} from "./helpers.ts";
import { toQmtlError } from "../../lib/gateway/error_mapper/mod.ts";

const NEO4J_TEXT =
  "neo4j error Neo.ClientError.Statement.ArgumentError: Property value is too large to index";

Deno.test("toQmtlError: internal and unavailable errors get public messages; client errors keep theirs", () => {
  const cases: [unknown, string, string | RegExp][] = [
    [new Error("boom at /srv/x.ts:3"), "E_INTERNAL", "internal server error"],
    [
      new RegistryError("E_INTERNAL", NEO4J_TEXT),
      "E_INTERNAL",
      "internal server error",
    ],
    [
      new UnavailableError("neo4j unavailable: connect ECONNREFUSED 10.1.2.3"),
      "E_UNAVAILABLE",
      "the node registry is unavailable; retry later",
    ],
    [
      new DurabilityError("enqueue", "j1", 0, 1),
      "E_UNAVAILABLE",
      "the work queue is unavailable; retry later",
    ],
    [
      Object.assign(new Error("redis said ERR at 10.1.2.3"), {
        code: "E_INTERNAL",
      }),
      "E_INTERNAL",
      "internal server error",
    ],
    [
      new QmtlError("E_INTERNAL", "strategy st_1 has no stored DAG"),
      "E_INTERNAL",
      "internal server error",
    ],
    [new HTTPException(500, { message: "x" }), "E_INTERNAL", /^internal/],
    [new HTTPException(429, { message: "slow" }), "E_RATE_LIMITED", "slow"],
    // Client errors are about the client's input: their text is the point.
    [
      new RegistryError("E_CONFLICT", "topic t is in use"),
      "E_CONFLICT",
      "topic t is in use",
    ],
    [
      new QmtlError("E_INVALID", "nodes[0].tags[1]: tag must not be empty"),
      "E_INVALID",
      "nodes[0].tags[1]: tag must not be empty",
    ],
    ["a string", "E_INTERNAL", "internal server error"],
  ];
  for (const [err, code, message] of cases) {
    const q = toQmtlError(err);
    assert.equal(q.code, code, String(err));
    if (typeof message === "string") assert.equal(q.message, message);
    else assert.match(q.message, message);
    if (err instanceof Error && q !== err) assert.equal(q.cause, err);
  }
  // Untouched when already public.
  const pub = new QmtlError("E_INTERNAL", "internal server error");
  assert.equal(toQmtlError(pub), pub);
  assert.ok(!(toQmtlError(new ConnectError("x")) instanceof ConnectError));
});

Deno.test("error mapper: a registry's internal error text goes to the log, never to the client (REST, RPC, strategy status)", async () => {
  const gw = memoryGateway({ worker: { leaseMs: 5_000 } });
  const leak = () => {
    throw new RegistryError("E_INTERNAL", NEO4J_TEXT, {
      cause: new Error("driver stack"),
    });
  };
  gw.registry.listNodes = leak as never;
  gw.registry.diffAndCommit =
    (() =>
      Promise.reject(new RegistryError("E_INTERNAL", NEO4J_TEXT))) as never;
  try {
    const tok = await token("alice", ["submitter", "reader"]);
    // REST
    const rest = await gw.app.request("/v1/nodes", {
      headers: { authorization: `Bearer ${tok}` },
    });
    const restText = await rest.text();
    assert.equal(rest.status, 500);
    assert.doesNotMatch(restText, /Property value|Neo\.ClientError|neo4j/i);
    const problem = JSON.parse(restText);
    assert.equal(problem.code, "E_INTERNAL");
    assert.equal(problem.detail, "internal server error");
    assert.ok(problem.requestId);
    // RPC
    const rpc = await gw.app.request(
      "/qmtl.v1.GatewayService/ListNodes",
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${tok}`,
          "content-type": "application/json",
          "connect-protocol-version": "1",
          "qmtl-schema-version": SCHEMA_VERSION,
          "qmtl-schema-hash": SCHEMA_HASH,
        },
        body: "{}",
      },
    );
    const rpcText = await rpc.text();
    assert.equal(rpc.status, 500, rpcText);
    assert.doesNotMatch(rpcText, /Property value|Neo\.ClientError|neo4j/i);
    assert.match(rpcText, /\[E_INTERNAL\] internal server error/);
    // The diff fails: the status says E_INTERNAL without the driver's text.
    const ack = await client(gw, tok).submitStrategy({
      dag: dag("leaky", [node("a")]),
      version: "1",
    });
    const st = await waitForState(
      gw,
      ack.strategyId,
      StrategyState.FAILED,
      tok,
    );
    assert.equal(st.error?.code, "E_INTERNAL");
    assert.equal(st.error?.message, "internal server error");
    const view = await (await gw.app.request(
      `/v1/strategies/${ack.strategyId}`,
      { headers: { authorization: `Bearer ${tok}` } },
    )).text();
    assert.doesNotMatch(view, /Property value|Neo\.ClientError/);
    // The log has the original text, for each of the three.
    const logged = gw.logs.filter((l) => l.includes("Property value"));
    assert.ok(logged.length >= 3, gw.logs.join("\n"));
  } finally {
    await closeAll(gw);
  }
});

Deno.test("error mapper: an unreachable registry answers 503 naming the registry, with Retry-After, no address", async () => {
  const gw = memoryGateway({ worker: { autoStart: false } });
  gw.registry.getNode = (() =>
    Promise.reject(
      new UnavailableError(
        "neo4j unavailable: connect ECONNREFUSED 10.9.8.7:7687",
      ),
    )) as never;
  try {
    const tok = await token("r", ["reader"]);
    const res = await gw.app.request(`/v1/nodes/sha256:${"a".repeat(64)}`, {
      headers: { authorization: `Bearer ${tok}` },
    });
    const text = await res.text();
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "5");
    assert.doesNotMatch(text, /10\.9\.8\.7|ECONNREFUSED/);
    assert.equal(
      JSON.parse(text).detail,
      "the node registry is unavailable; retry later",
    );
    assert.ok(gw.logs.some((l) => l.includes("ECONNREFUSED")));
  } finally {
    await closeAll(gw);
  }
});
