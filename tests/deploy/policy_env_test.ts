import assert from "node:assert/strict";
import {
  decode,
  schemaHeaders,
  SubmitStrategyResponseSchema,
} from "../../lib/contracts/mod.ts";
import { dag, node, submitBytes } from "../gateway/helpers.ts";

const root = new URL("../../", import.meta.url);

/** Read a child stream until `pattern` matches (bounded). */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  let seen = "";
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const { done, value } = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((r) =>
        timer = setTimeout(
          () => r({ done: true, value: undefined }),
          deadline - Date.now(),
        )
      ),
    ]);
    clearTimeout(timer);
    if (done) break;
    seen += value;
    const m = pattern.exec(seen);
    if (m) return m;
  }
  throw new Error(`timed out waiting for ${pattern}; output so far:\n${seen}`);
}

Deno.test("server: QMTL_POLICY_* limits are enforced by `deno task serve`", async () => {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("QMTL_")),
  );
  Object.assign(env, {
    QMTL_PORT: "0",
    NO_COLOR: "1",
    QMTL_POLICY_MAX_NODES: "2",
    QMTL_POLICY_MAX_DEPTH: "1",
    QMTL_POLICY_SUBMISSIONS_PER_MINUTE: "4",
    QMTL_POLICY_ALLOWED_NODE_TYPES: "StreamInput,Processing",
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "serve"],
    cwd: root,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const err = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const url = (await readUntil(
      out,
      /"url":"(http:\/\/127\.0\.0\.1:\d+)"/,
      30_000,
    ))[1];
    const token = (await readUntil(err, /export QMTL_TOKEN=(\S+)/, 10_000))[1];
    const submit = async (nodes: ReturnType<typeof node>[]) => {
      const res = await fetch(`${url}/qmtl.v1.GatewayService/SubmitStrategy`, {
        method: "POST",
        headers: {
          "content-type": "application/proto",
          authorization: `Bearer ${token}`,
          ...schemaHeaders(),
        },
        body: submitBytes({
          dag: dag("p", nodes),
          version: "1",
          callbackUrl: "",
          metadata: {},
        }) as BodyInit,
      });
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
    const ok = await fetch(`${url}/qmtl.v1.GatewayService/SubmitStrategy`, {
      method: "POST",
      headers: {
        "content-type": "application/proto",
        authorization: `Bearer ${token}`,
        ...schemaHeaders(),
      },
      body: submitBytes({ dag: dag("ok", [src]), version: "1" }) as BodyInit,
    });
    assert.equal(ok.status, 200);
    assert.ok(
      decode(
        SubmitStrategyResponseSchema,
        new Uint8Array(await ok.arrayBuffer()),
      ).strategyId,
    );
    // 5. The fifth submission within a minute: 429 E_RATE_LIMITED with
    // Retry-After.
    const res = await fetch(`${url}/qmtl.v1.GatewayService/SubmitStrategy`, {
      method: "POST",
      headers: {
        "content-type": "application/proto",
        authorization: `Bearer ${token}`,
        ...schemaHeaders(),
      },
      body: submitBytes({ dag: dag("ok", [src]), version: "1" }) as BodyInit,
    });
    const body = await res.json();
    assert.equal(res.status, 429, JSON.stringify(body));
    assert.equal(body.code, "resource_exhausted");
    assert.match(body.message, /^\[E_RATE_LIMITED\] policy limit /);
    assert.equal(body.details[0].debug.details.limit, "submissionsPerMinute");
    const after = Number(res.headers.get("retry-after"));
    assert.ok(after >= 1 && after <= 60, `Retry-After ${after}`);
  } finally {
    child.kill("SIGTERM");
    out.releaseLock();
    err.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await child.status;
  }
});
