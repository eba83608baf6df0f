// Unit tests of the DAG Manager's pure helpers.
import assert from "node:assert/strict";
import {
  CycleError,
  decodePageToken,
  encodePageToken,
  findCycle,
  firstFreeTopicName,
  gcPlan,
  RegistryError,
  topicAsset,
  topicName,
  validateDag,
} from "../../lib/dag/mod.ts";
import { dagOf, nid, spec } from "./helpers.ts";

Deno.test("topic names: asset from metadata, params or any; sanitised; short hash", () => {
  const id = "sha256:ab12cd34" + "0".repeat(56);
  const base = { nodeId: id, nodeType: "Processing", paramsJson: "{}" };
  assert.equal(
    topicName({ ...base, metadata: { asset: "btc" } }),
    "btc_Processing_ab12cd34_v1",
  );
  assert.equal(
    topicName({ ...base, metadata: {}, paramsJson: '{"asset":"eth/usdt"}' }),
    "eth-usdt_Processing_ab12cd34_v1",
  );
  assert.equal(
    topicName({ ...base, metadata: {} }, 3),
    "any_Processing_ab12cd34_v3",
  );
  assert.equal(
    topicAsset({ metadata: { asset: " _ " }, paramsJson: "{}" }),
    "any",
  );
  assert.equal(topicAsset({ metadata: {}, paramsJson: "not json" }), "any");
  assert.equal(
    firstFreeTopicName("a_b_c", new Set(["a_b_c_v1", "a_b_c_v2"])),
    "a_b_c_v3",
  );
});

Deno.test("findCycle handles deep chains iteratively and reports the cycle path", () => {
  const deep = new Map<string, string[]>();
  for (let i = 0; i < 50_000; i++) {
    deep.set(`n${i}`, i > 0 ? [`n${i - 1}`] : []);
  }
  assert.equal(findCycle(deep), null);
  deep.set("n0", ["n49999"]);
  const c = findCycle(deep);
  assert.ok(c);
  assert.equal(c.length, 50_001);
  assert.equal(c[0], c[c.length - 1]);
});

Deno.test("validateDag rejects malformed nodes with E_INVALID and collapses duplicates", () => {
  const a = spec("a");
  assert.throws(
    () => validateDag(dagOf("x", [{ ...a, nodeId: "nope" }])),
    (e) => e instanceof RegistryError && e.code === "E_INVALID",
  );
  assert.throws(
    () => validateDag(dagOf("x", [{ ...a, intervalS: 0 }])),
    (e) => e instanceof RegistryError && e.code === "E_INVALID",
  );
  assert.throws(
    () => validateDag(dagOf("x", [{ ...a, period: 1.5 }])),
    (e) => e instanceof RegistryError && e.code === "E_INVALID",
  );
  const v = validateDag(dagOf("x", [a, a]));
  assert.equal(v.nodes.length, 1);
  const ext = nid("ext");
  const b = spec("b", { inputs: [ext, a.nodeId] });
  const v2 = validateDag(dagOf("x", [a, b]));
  assert.deepEqual([...v2.externalInputs], [[ext, b.nodeId]]);
  assert.throws(
    () =>
      validateDag(
        dagOf("x", [spec("s", { id: a.nodeId, inputs: [a.nodeId] })]),
      ),
    CycleError,
  );
});

Deno.test("gcPlan: grace, dependents, levels, limit", () => {
  const p = gcPlan([
    { nodeId: "a", lastRefAt: 0, dependents: ["b"] },
    { nodeId: "b", lastRefAt: 0, dependents: ["c"] },
    { nodeId: "c", lastRefAt: 0, dependents: [] },
    { nodeId: "d", lastRefAt: 0, dependents: ["live"] },
    { nodeId: "e", lastRefAt: 100, dependents: [] },
  ], { cutoff: 50 });
  assert.equal(p.observed, 5);
  assert.deepEqual(p.levels, [["c"], ["b"], ["a"]]);
  assert.deepEqual(p.keptInGrace, ["e"]);
  assert.deepEqual(p.keptWithDependents, ["d"]);
  const limited = gcPlan([
    { nodeId: "a", lastRefAt: 0, dependents: ["b"] },
    { nodeId: "b", lastRefAt: 0, dependents: [] },
    { nodeId: "x", lastRefAt: 0, dependents: [] },
  ], { cutoff: 50, limit: 1 });
  assert.deepEqual(limited.levels, [["b"]]);
});

Deno.test("page tokens round-trip and reject garbage", () => {
  assert.equal(
    decodePageToken(encodePageToken("sha256:ab/+=é")),
    "sha256:ab/+=é",
  );
  assert.equal(encodePageToken(""), "");
  assert.equal(decodePageToken(undefined), "");
  assert.throws(() => decodePageToken("%%%"), RegistryError);
  assert.throws(() => decodePageToken(btoa("other")), RegistryError);
});
