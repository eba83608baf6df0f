import assert from "node:assert/strict";
import { type NodeSpec, QmtlError } from "../../lib/contracts/mod.ts";
import {
  createPolicy,
  dagDepth,
  DEFAULT_POLICY_LIMITS,
} from "../../lib/gateway/mod.ts";
import {
  chain,
  dag,
  node,
  rpcRaw,
  submitBytes,
  token,
  withGateway,
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
  // [subject, nodes, outcome]
  const dags: [string, NodeSpec[], string][] = [
    ["a", chain("n", 3), "ok"],
    ["a", chain("n", 6), "E_POLICY:maxNodes"],
    ["a", chain("n", 4), "E_POLICY:maxDepth"],
    ["a", [node("t", { type: "Exotic" })], "E_POLICY:allowedNodeTypes"],
    // Subject override raises limits, but its deny beats the default allow.
    ["big", chain("n", 6), "E_POLICY:deniedNodeTypes"],
    ["mallory", chain("n", 1), "E_POLICY:deniedSubjects"],
  ];
  for (const [subject, nodes, outcome] of dags) {
    assert.equal(
      code(() => p.checkDag(subject, dag("s", nodes))),
      outcome,
      `${subject}, ${nodes.length} nodes`,
    );
  }
  assert.equal(dagDepth(dag("s", chain("n", 4))), 4);
  assert.equal(code(() => p.admit("a")), "ok");
  assert.equal(code(() => p.admit("a")), "ok");
  assert.equal(
    code(() => p.admit("a")),
    "E_RATE_LIMITED:submissionsPerMinute",
  );
  now += 61_000;
  assert.equal(code(() => p.admit("a")), "ok");
});

Deno.test("policy: enforced on SubmitStrategy with E_POLICY naming the limit", async () => {
  await withGateway({ policy: { defaults: { maxNodes: 2 } } }, async (gw) => {
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
  });
});

Deno.test("policy: safe defaults apply unless set; 0 lifts a limit; undefined keeps the default", () => {
  const p = createPolicy();
  assert.deepEqual(
    {
      maxNodes: p.limitsFor("a").maxNodes,
      maxDepth: p.limitsFor("a").maxDepth,
      submissionsPerMinute: p.limitsFor("a").submissionsPerMinute,
    },
    { maxNodes: 50_000, maxDepth: 1_000, submissionsPerMinute: 120 },
  );
  assert.deepEqual({ ...DEFAULT_POLICY_LIMITS }, {
    maxNodes: 50_000,
    maxDepth: 1_000,
    submissionsPerMinute: 120,
  });
  // The default rate refuses the 121st submission of a minute.
  let now = 5_000_000;
  const rated = createPolicy({ now: () => now });
  for (let i = 0; i < 120; i++) rated.admit("bot");
  assert.throws(
    () => rated.admit("bot"),
    (e: unknown) =>
      e instanceof QmtlError && e.code === "E_RATE_LIMITED" &&
      e.httpStatus === 429 && e.details?.retryAfterS === "60",
  );
  now += 30_000;
  assert.throws(() => rated.admit("bot"), /at most 120 submissions/);
  rated.admit("someone-else");
  now += 30_001;
  rated.admit("bot");

  // Explicit `undefined` (an unset variable) keeps the safe default.
  const fromEnv = createPolicy({
    defaults: {
      maxNodes: undefined,
      maxDepth: undefined,
      submissionsPerMinute: undefined,
    },
  });
  assert.equal(fromEnv.limitsFor("a").maxNodes, 50_000);
  assert.throws(
    () => fromEnv.checkDag("a", dag("deep", chain("n", 1_001))),
    /policy limit maxDepth: the DAG is 1001 deep, at most 1000 allowed/,
  );

  // 0 lifts a limit, in the defaults or per subject.
  const open = createPolicy({
    defaults: { maxNodes: 0, maxDepth: 0, submissionsPerMinute: 0 },
    subjects: { capped: { submissionsPerMinute: 1 } },
  });
  for (let i = 0; i < 500; i++) open.admit("a"); // no NaN retry, no refusal
  open.checkDag("a", dag("deep", chain("n", 1_500)));
  open.admit("capped");
  assert.throws(() => open.admit("capped"), (e: unknown) => {
    assert.ok(e instanceof QmtlError);
    assert.equal(e.code, "E_RATE_LIMITED");
    assert.match(e.details?.retryAfterS ?? "", /^\d+$/);
    return true;
  });
  const perSubject = createPolicy({
    subjects: { ci: { submissionsPerMinute: 0 } },
  });
  for (let i = 0; i < 200; i++) perSubject.admit("ci");
});

Deno.test("policy: a negative or fractional limit is a configuration error", () => {
  assert.throws(
    () => createPolicy({ defaults: { maxNodes: -1 } }),
    /policy: defaults\.maxNodes must be a whole number ≥ 0 \(0: unlimited\), got -1/,
  );
  assert.throws(
    () => createPolicy({ subjects: { bob: { submissionsPerMinute: 1.5 } } }),
    /subjects\.bob\.submissionsPerMinute/,
  );
  assert.throws(
    () => createPolicy({ defaults: { maxDepth: NaN } }),
    /defaults\.maxDepth/,
  );
});

Deno.test("policy: over the rate, SubmitStrategy answers 429 E_RATE_LIMITED with Retry-After; nothing is written", async () => {
  await withGateway({
    policy: { defaults: { submissionsPerMinute: 2 } },
    worker: { autoStart: false },
  }, async (gw) => {
    const tok = await token("alice", ["submitter"]);
    const submit = (i: number) =>
      rpcRaw(
        gw,
        "SubmitStrategy",
        submitBytes({ dag: dag(`s${i}`, chain(`r${i}_`, 1)), version: "1" }),
        tok,
      );
    assert.equal((await submit(1)).status, 200);
    assert.equal((await submit(2)).status, 200);
    const res = await submit(3);
    assert.equal(res.status, 429);
    const retry = Number(res.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    const err = await res.json();
    assert.equal(err.code, "resource_exhausted");
    assert.equal(err.details[0].debug.code, "E_RATE_LIMITED");
    assert.match(
      err.message,
      /^\[E_RATE_LIMITED\] policy limit submissionsPerMinute: at most 2/,
    );
    assert.equal((await gw.service.store.list()).strategies.length, 2);
  });
});
