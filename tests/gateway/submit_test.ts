import assert from "node:assert/strict";
import { toJson } from "@bufbuild/protobuf";
import {
  schemaHeaders,
  type StrategyDag,
  StrategyDagSchema,
} from "../../lib/contracts/mod.ts";
import { GLOBAL_STREAM } from "../../lib/gateway/mod.ts";
import {
  closeAll,
  dag,
  memoryGateway,
  node,
  rpcRaw,
  submitBytes,
  token,
} from "./helpers.ts";

type Gw = ReturnType<typeof memoryGateway>;

function submitBody(d: StrategyDag): Uint8Array {
  return submitBytes({ dag: d, version: "1" });
}

async function nothingWritten(gw: Gw): Promise<void> {
  assert.equal((await gw.service.store.list()).strategies.length, 0);
  const q = await gw.queue.stats();
  assert.equal(q.ready + q.delayed + q.leased + q.done + q.dead, 0);
  assert.equal((await gw.registry.listNodes()).nodes.length, 0);
  assert.equal(await gw.events.length(GLOBAL_STREAM), 0);
}

async function expectError(
  res: Response,
  status: number,
  qmtlCode: string,
): Promise<Record<string, unknown>> {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.match(String(body.message), new RegExp(`^\\[${qmtlCode}\\]`));
  const detail =
    (body.details as { type: string; debug: { code: string } }[])[0];
  assert.equal(detail.type, "qmtl.v1.ErrorDetail");
  assert.equal(detail.debug.code, qmtlCode);
  return body;
}

Deno.test("submit: bad input gets its code and writes nothing", async (t) => {
  const gw = memoryGateway({ maxBodyBytes: 4096 });
  const tok = await token("alice", ["submitter"]);
  try {
    // [step, request body, HTTP status, QMTL code, Connect code if checked]
    const refused: [string, () => Uint8Array, number, string, string?][] = [
      [
        "malformed protobuf → E_INVALID",
        () => new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x01, 0x02]),
        400,
        "E_INVALID",
      ],
      [
        "oversize body → E_PAYLOAD_TOO_LARGE (resource_exhausted, 429)",
        () => new Uint8Array(8192),
        429,
        "E_PAYLOAD_TOO_LARGE",
        "resource_exhausted",
      ],
      [
        "cyclic DAG → E_CYCLE",
        () => {
          const a = node("a");
          const b = node("b", { inputs: [a.nodeId] });
          a.inputs = [b.nodeId];
          return submitBody(dag("c", [a, b]));
        },
        400,
        "E_CYCLE",
      ],
      [
        "unknown input → E_UNKNOWN_INPUT (failed_precondition, 400)",
        () => {
          const ghost = node("ghost");
          return submitBody(dag("u", [node("n", { inputs: [ghost.nodeId] })]));
        },
        400,
        "E_UNKNOWN_INPUT",
        "failed_precondition",
      ],
      [
        "node ID mismatch → E_NODE_ID_MISMATCH",
        () => {
          const n = node("n");
          n.period = 7;
          return submitBody(dag("m", [n]));
        },
        400,
        "E_NODE_ID_MISMATCH",
      ],
      [
        "checksum mismatch → E_CHECKSUM_MISMATCH",
        () => {
          const d = dag("x", [node("n")]);
          d.checksum = (d.checksum + 1) >>> 0;
          return submitBody(d);
        },
        400,
        "E_CHECKSUM_MISMATCH",
      ],
      [
        "bad callback URL → E_INVALID",
        () =>
          submitBytes({
            dag: dag("v", [node("n")]),
            version: "1",
            callbackUrl: "file:///etc/passwd",
            metadata: {},
          }),
        400,
        "E_INVALID",
      ],
    ];
    /** A valid one-node submission, sent with `headers` over the defaults. */
    const validWith = (headers: Record<string, string>) =>
      rpcRaw(
        gw,
        "SubmitStrategy",
        submitBody(dag("v", [node("n")])),
        tok,
        headers,
      );
    /** SubmitStrategy with the caller's token and only `headers` besides. */
    const postSubmit = (headers: Record<string, string>, body: BodyInit) =>
      gw.app.request("/qmtl.v1.GatewayService/SubmitStrategy", {
        method: "POST",
        headers: { authorization: `Bearer ${tok}`, ...headers },
        body,
      });
    for (const [name, body, status, qmtlCode, connectCode] of refused) {
      await t.step(name, async () => {
        const res = await rpcRaw(gw, "SubmitStrategy", body(), tok);
        const answer = await expectError(res, status, qmtlCode);
        if (connectCode) assert.equal(answer.code, connectCode);
        await nothingWritten(gw);
      });
    }
    await t.step(
      "wrong schema major → E_SCHEMA_INCOMPATIBLE (failed_precondition, 400) with accepted versions",
      async () => {
        const res = await validWith({ "qmtl-schema-version": "3.0.0" });
        const body = await expectError(res, 400, "E_SCHEMA_INCOMPATIBLE");
        assert.equal(body.code, "failed_precondition");
        assert.match(String(body.message), /accepted versions: .*\^2\.0\.0/);
        assert.equal(
          res.headers.get("qmtl-schema-version"),
          schemaHeaders()["qmtl-schema-version"],
        );
        assert.equal(
          res.headers.get("qmtl-schema-hash"),
          schemaHeaders()["qmtl-schema-hash"],
        );
        await nothingWritten(gw);
      },
    );
    await t.step(
      "missing schema headers → E_SCHEMA_INCOMPATIBLE (400)",
      async () => {
        const res = await postSubmit(
          { "content-type": "application/proto" },
          submitBody(dag("v", [node("n")])) as BodyInit,
        );
        await expectError(res, 400, "E_SCHEMA_INCOMPATIBLE");
        await nothingWritten(gw);
      },
    );
    await t.step("unsupported content type → 415", async () => {
      const res = await validWith({ "content-type": "text/plain" });
      assert.equal(res.status, 415);
      await res.body?.cancel();
      await nothingWritten(gw);
    });
    await t.step(
      "JSON body (debug format) is accepted and answered in JSON",
      async () => {
        const d = dag("json", [node("j")]);
        const res = await postSubmit(
          { "content-type": "application/json", ...schemaHeaders() },
          JSON.stringify({ dag: toJson(StrategyDagSchema, d), version: "1" }),
        );
        assert.equal(res.status, 200);
        assert.match(
          res.headers.get("content-type") ?? "",
          /application\/json/,
        );
        const body = await res.json();
        assert.equal(body.state, "STRATEGY_STATE_QUEUED");
      },
    );
  } finally {
    await closeAll(gw);
  }
});
