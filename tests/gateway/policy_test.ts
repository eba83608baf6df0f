import assert from "node:assert/strict";
import { createPolicy, dagDepth } from "../../lib/gateway/mod.ts";
import {
  chain,
  closeAll,
  dag,
  memoryGateway,
  node,
  rpcRaw,
  submitBytes,
  token,
} from "./helpers.ts";

Deno.test("policy: limits, explicit deny wins, rate per minute", () => {
  let now = 1_000_000;
  const p = createPolicy({
    defaults: {
      maxNodes: 5,
      maxDepth: 3,
      submissionsPerMinute: 2,
      allowedNodeTypes: ["Processing", "StreamInput"],
    },
    subjects: {
      big: { maxNodes: 100, maxDepth: 100, deniedNodeTypes: ["Processing"] },
    },
    deniedSubjects: ["mallory"],
    now: () => now,
  });
  const code = (f: () => void) => {
    try {
      f();
      return "ok";
    } catch (e) {
      return `${(e as { code: string }).code}:${
        (e as { details: Record<string, string> }).details.limit
      }`;
    }
  };
  assert.equal(code(() => p.checkDag("a", dag("s", chain("n", 3)))), "ok");
  assert.equal(
    code(() => p.checkDag("a", dag("s", chain("n", 6)))),
    "E_POLICY:maxNodes",
  );
  assert.equal(
    code(() => p.checkDag("a", dag("s", chain("n", 4)))),
    "E_POLICY:maxDepth",
  );
  assert.equal(dagDepth(dag("s", chain("n", 4))), 4);
  assert.equal(
    code(() => p.checkDag("a", dag("s", [node("t", { type: "Exotic" })]))),
    "E_POLICY:allowedNodeTypes",
  );
  // Subject override raises limits, but its deny beats the default allow.
  assert.equal(
    code(() => p.checkDag("big", dag("s", chain("n", 6)))),
    "E_POLICY:deniedNodeTypes",
  );
  assert.equal(
    code(() => p.checkDag("mallory", dag("s", chain("n", 1)))),
    "E_POLICY:deniedSubjects",
  );
  assert.equal(code(() => p.admit("a")), "ok");
  assert.equal(code(() => p.admit("a")), "ok");
  assert.equal(code(() => p.admit("a")), "E_POLICY:submissionsPerMinute");
  now += 61_000;
  assert.equal(code(() => p.admit("a")), "ok");
});

Deno.test("policy: enforced on SubmitStrategy with E_POLICY naming the limit", async () => {
  const gw = memoryGateway({ policy: { defaults: { maxNodes: 2 } } });
  try {
    const tok = await token("alice", ["submitter"]);
    const body = submitBytes({
      dag: dag("s", chain("n", 3)),
      version: "1",
      callbackUrl: "",
      metadata: {},
    });
    const res = await rpcRaw(gw, "SubmitStrategy", body, tok);
    assert.equal(res.status, 403);
    const err = await res.json();
    assert.equal(err.code, "permission_denied");
    assert.match(err.message, /\[E_POLICY\] policy limit maxNodes/);
    assert.equal((await gw.service.store.list()).strategies.length, 0);
  } finally {
    await closeAll(gw);
  }
});
