import assert from "node:assert/strict";
import {
  decode,
  schemaHeaders,
  SubmitStrategyResponseSchema,
} from "../../lib/contracts/mod.ts";
import { dag, node, submitBytes } from "../gateway/helpers.ts";
import { startServe } from "../support/server_process.ts";

Deno.test("server: QMTL_POLICY_* limits are enforced by `deno task serve`", async () => {
  const srv = await startServe({
    env: {
      QMTL_POLICY_MAX_NODES: "2",
      QMTL_POLICY_MAX_DEPTH: "1",
      QMTL_POLICY_SUBMISSIONS_PER_MINUTE: "4",
      QMTL_POLICY_ALLOWED_NODE_TYPES: "StreamInput,Processing",
    },
  });
  try {
    const { url, token } = srv;
    const post = (name: string, nodes: ReturnType<typeof node>[]) =>
      fetch(`${url}/qmtl.v1.GatewayService/SubmitStrategy`, {
        method: "POST",
        headers: {
          "content-type": "application/proto",
          authorization: `Bearer ${token}`,
          ...schemaHeaders(),
        },
        body: submitBytes({
          dag: dag(name, nodes),
          version: "1",
          callbackUrl: "",
          metadata: {},
        }) as BodyInit,
      });
    const submit = async (nodes: ReturnType<typeof node>[]) => {
      const res = await post("p", nodes);
      return { status: res.status, body: await res.json() };
    };
    const src = node("src", { type: "StreamInput", params: { s: 1 } });
    const expectPolicy = (
      r: { status: number; body: Record<string, unknown> },
      limit: string,
    ) => {
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.equal(r.body.code, "permission_denied");
      assert.match(String(r.body.message), /^\[E_POLICY\] policy limit /);
      const detail = (r.body.details as { debug: { details: object } }[])[0]
        .debug.details as Record<string, string>;
      assert.equal(detail.limit, limit);
    };
    // 1. Three nodes, at most two allowed.
    expectPolicy(
      await submit([
        src,
        node("a", { inputs: [src.nodeId] }),
        node("b", { params: { b: 1 } }),
      ]),
      "maxNodes",
    );
    // 2. A node type outside the allow-list.
    expectPolicy(
      await submit([node("x", { type: "Shell", params: { x: 1 } })]),
      "allowedNodeTypes",
    );
    // 3. Depth 2, at most 1.
    expectPolicy(
      await submit([src, node("d", { inputs: [src.nodeId] })]),
      "maxDepth",
    );
    // 4. Within every limit: accepted.
    const ok = await post("ok", [src]);
    assert.equal(ok.status, 200);
    assert.ok(
      decode(
        SubmitStrategyResponseSchema,
        new Uint8Array(await ok.arrayBuffer()),
      ).strategyId,
    );
    // 5. The fifth submission within a minute: 429 E_RATE_LIMITED with
    // Retry-After.
    const res = await post("ok", [src]);
    const body = await res.json();
    assert.equal(res.status, 429, JSON.stringify(body));
    assert.equal(body.code, "resource_exhausted");
    assert.match(body.message, /^\[E_RATE_LIMITED\] policy limit /);
    assert.equal(body.details[0].debug.details.limit, "submissionsPerMinute");
    const after = Number(res.headers.get("retry-after"));
    assert.ok(after >= 1 && after <= 60, `Retry-After ${after}`);
  } finally {
    await srv.stop();
  }
});
