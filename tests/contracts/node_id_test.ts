import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  canonicalJson,
  canonicalParamsJson,
  codeHash,
  computeNodeId,
  CONTEXT_KEYS,
  ContractError,
  crc32,
  dagChecksum,
  dagHash,
  functionCodeHash,
  isContextKey,
  isNodeId,
  nodeIdCanonical,
  type NodeIdentity,
  nodeIdOfSpec,
  type NodeSpec,
  NodeSpecSchema,
  normaliseSource,
  sha256Hex,
  type StrategyDag,
  StrategyDagSchema,
  stripContextKeys,
  tagQueryParams,
  verifyDag,
} from "../../lib/contracts/mod.ts";
import { identity, type Vector as GoldenVector } from "../golden/generate.ts";

const file = JSON.parse(
  Deno.readTextFileSync(new URL("../golden/node_ids.json", import.meta.url)),
);

/** A vector of node_ids.json: the generator's, with its results filled in. */
type Vector =
  & GoldenVector
  & Required<
    Pick<GoldenVector, "canonical" | "code_hash" | "node_id">
  >;

function rejects(
  fn: () => unknown,
  field: string,
  re?: RegExp,
  code = "E_INVALID",
) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ContractError, `expected ContractError, got ${e}`);
    assert.equal(e.code, code);
    assert.equal(e.field, field);
    if (re) assert.match(e.message, re);
    return true;
  });
}

Deno.test("node-ID vectors: literal IDs, canonical strings and relations", () => {
  const vectors = file.vectors as Vector[];
  assert.ok(vectors.length >= 30);
  const byName = new Map(vectors.map((v) => [v.name, v]));
  for (const v of vectors) {
    const id = identity(v);
    assert.equal(codeHash(v.code ?? ""), v.code_hash, v.name);
    assert.equal(nodeIdCanonical(id), v.canonical, v.name);
    assert.equal(computeNodeId(id), v.node_id, v.name);
    assert.equal("sha256:" + sha256Hex(v.canonical), v.node_id, v.name);
    // Same ID through the NodeSpec path (display fields never enter).
    const spec: NodeSpec = create(NodeSpecSchema, {
      nodeId: v.node_id,
      nodeType: v.node_type,
      intervalS: v.interval_s,
      period: v.period,
      paramsJson: canonicalParamsJson(JSON.parse(v.params_source)),
      inputs: v.inputs,
      codeHash: v.code_hash,
      schemaCompatId: v.schema_compat_id ?? "v1",
      name: v.display?.name ?? "",
      tags: v.display?.tags ?? [],
      metadata: v.display?.metadata ?? {},
    });
    assert.equal(nodeIdOfSpec(spec), v.node_id, v.name);
    for (const other of v.expect_same_as ?? []) {
      assert.equal(
        v.node_id,
        byName.get(other)!.node_id,
        `${v.name} == ${other}`,
      );
    }
    for (const other of v.expect_differs_from ?? []) {
      assert.notEqual(
        v.node_id,
        byName.get(other)!.node_id,
        `${v.name} != ${other}`,
      );
    }
  }
  for (const c of file.tag_query_cases) {
    const params = tagQueryParams(c.tags, c.match_mode);
    const id = computeNodeId({
      nodeType: "TagQuery",
      intervalS: 60,
      period: 1,
      params: { ...params },
    });
    assert.equal(id, byName.get(c.same_as)!.node_id);
  }
  for (const d of file.dags) {
    assert.equal(dagChecksum(d.node_ids), d.checksum);
    assert.equal(dagHash(d.node_ids), d.dag_hash);
  }
});

Deno.test("canonicalJson follows RFC 8785", () => {
  assert.equal(
    canonicalJson({ b: 1.0, a: [true, null, "x"] }),
    '{"a":[true,null,"x"],"b":1}',
  );
  assert.equal(
    canonicalJson([1e21, 1e-7, -0, 0.1, 123456789012345680000]),
    "[1e+21,1e-7,0,0.1,123456789012345680000]",
  );
  assert.equal(
    canonicalJson("\u2028\u00e9\u{1F600}\u001f"),
    '"\u2028\u00e9\u{1F600}\\u001f"',
  );
  assert.equal(
    canonicalJson({ "\ufb01": 1, "\u{1F600}": 2 }),
    '{"\u{1F600}":2,"\ufb01":1}',
  );
  assert.equal(
    canonicalJson(Object.assign(Object.create(null), { z: 1, a: 2 })),
    '{"a":2,"z":1}',
  );
  assert.equal(canonicalJson({}), "{}");
  assert.equal(canonicalJson([]), "[]");
  assert.equal(canonicalJson(false), "false");
  // RFC 8785 appendix B sample numbers.
  const samples: [number, string][] = [
    [333333333.33333329, "333333333.3333333"],
    [1e23, "1e+23"],
    [4.50, "4.5"],
    [2e-3, "0.002"],
    [0.000001, "0.000001"],
    [1e-27, "1e-27"],
    [-5e-324, "-5e-324"],
    [9007199254740992, "9007199254740992"],
  ];
  for (const [n, s] of samples) assert.equal(canonicalJson(n), s);
  rejects(() => canonicalJson({ a: NaN }), "params.a", /non-finite/);
  rejects(() => canonicalJson({ a: [Infinity] }), "params.a[0]", /non-finite/);
  rejects(
    () => canonicalJson({ a: undefined }),
    "params.a",
    /undefined is not a JSON value/,
  );
  rejects(() => canonicalJson({ f: () => 1 }), "params.f", /function/);
  rejects(() => canonicalJson({ b: 1n }), "params.b", /bigint/);
  rejects(() => canonicalJson(Symbol("s")), "params", /symbol/);
  rejects(
    () => canonicalJson({ d: new Date(0) }),
    "params.d",
    /plain objects.*Date/,
  );
  rejects(() => canonicalJson({ m: new Map() }), "params.m", /Map/);
  rejects(() => canonicalJson("\ud800x"), "params", /lone surrogate/);
  rejects(
    () => canonicalJson({ "\udc00": 1 }),
    "params",
    /key contains a lone surrogate/,
  );
  rejects(() => canonicalJson([, 1]), "params[0]", /undefined/);
  const cyc: Record<string, unknown> = {};
  cyc.self = cyc;
  rejects(() => canonicalJson(cyc), "params.self", /circular/);
  const arr: unknown[] = [];
  arr.push(arr);
  rejects(() => canonicalJson(arr, "x"), "x[0]", /circular/);
  // Shared (non-circular) references are fine.
  const shared = { k: 1 };
  assert.equal(
    canonicalJson({ a: shared, b: shared }),
    '{"a":{"k":1},"b":{"k":1}}',
  );
});

Deno.test("context keys, tag-query params, source normalisation, code hash", () => {
  assert.equal(CONTEXT_KEYS.length, 14);
  for (const k of CONTEXT_KEYS) assert.ok(isContextKey(k));
  assert.ok(isContextKey("env_x") && isContextKey("env_"));
  assert.ok(
    !isContextKey("environment") && !isContextKey("Seed") &&
      !isContextKey("my_env_x"),
  );
  assert.deepEqual(
    stripContextKeys({ a: 1, seed: 2, env_b: 3, nested: { seed: 4 } }),
    { a: 1, nested: { seed: 4 } },
  );
  rejects(() => stripContextKeys([] as never), "params", /plain JSON object/);
  rejects(() => stripContextKeys(null as never), "params");
  assert.equal(
    canonicalParamsJson({ window: 20, as_of: "x" }),
    '{"window":20}',
  );

  assert.deepEqual(tagQueryParams(["b", "a", "b", "B"], "all"), {
    match_mode: "all",
    query_tags: ["B", "a", "b"],
  });
  rejects(
    () => tagQueryParams([], "any"),
    "params.query_tags",
    /non-empty array/,
  );
  rejects(() => tagQueryParams(["a", ""], "any"), "params.query_tags[1]");
  rejects(
    () => tagQueryParams(["a", 1 as never], "any"),
    "params.query_tags[1]",
  );
  rejects(
    () => tagQueryParams(["a"], "some" as never),
    "params.match_mode",
    /"any" or "all"/,
  );
  rejects(() => tagQueryParams("a" as never, "any"), "params.query_tags");

  assert.equal(normaliseSource("\r\n\r\n  a  \r\n\tb\t\r\n\r\n"), "  a\n\tb");
  assert.equal(normaliseSource("x"), "x");
  assert.equal(normaliseSource(""), "");
  assert.equal(normaliseSource("a\n\n\nb"), "a\n\n\nb");
  assert.equal(codeHash(""), "");
  assert.equal(codeHash(" \n\t\r\n"), "");
  assert.equal(codeHash("a\r\nb  "), "sha256:" + sha256Hex("a\nb"));
  // Functions are hashed by their syntax tree (tests/contracts/code_hash_test.ts).
  const fn = (x: number) => x + 1;
  assert.equal(codeHash(fn), functionCodeHash(fn));
  assert.notEqual(
    codeHash(fn),
    "sha256:" + sha256Hex(normaliseSource(fn.toString())),
  );
  assert.ok(isNodeId(codeHash(function named() {})));
  rejects(() => codeHash(5 as never), "code_hash", /string or a function/);
  rejects(() => codeHash("\ud800"), "code_hash", /lone surrogate/);
  assert.equal(sha256Hex(new TextEncoder().encode("abc")), sha256Hex("abc"));
  assert.equal(
    sha256Hex(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.ok(isNodeId("sha256:" + "0".repeat(64)));
  assert.ok(!isNodeId("sha256:" + "A".repeat(64)));
  assert.ok(!isNodeId(42));
});

Deno.test("computeNodeId validates every field", () => {
  const ok: NodeIdentity = {
    nodeType: "Processing",
    intervalS: 60,
    period: 20,
    params: { w: 1 },
  };
  const id = computeNodeId(ok);
  assert.equal(
    computeNodeId({ ...ok, params: undefined, paramsJson: '{"w":1}' }),
    id,
  );
  assert.equal(computeNodeId({ ...ok, params: { w: 1, seed: 3 } }), id);
  assert.equal(
    computeNodeId({ nodeType: "X", intervalS: 1, period: 1 }),
    computeNodeId({ nodeType: "X", intervalS: 1, period: 1, params: {} }),
  );
  const I = "sha256:" + "1".repeat(64);
  rejects(() => computeNodeId({ ...ok, nodeType: "" }), "node_type");
  rejects(
    () => computeNodeId({ ...ok, nodeType: "a|b" }),
    "node_type",
    /node_type must be 1-64 characters of A-Z a-z 0-9 _ \. : -/,
  );
  rejects(() => computeNodeId({ ...ok, nodeType: 3 as never }), "node_type");
  rejects(
    () => computeNodeId({ ...ok, intervalS: 0 }),
    "interval_s",
    /> 0, got 0/,
  );
  rejects(() => computeNodeId({ ...ok, intervalS: 1.5 }), "interval_s");
  rejects(() => computeNodeId({ ...ok, intervalS: 2 ** 32 }), "interval_s");
  rejects(
    () => computeNodeId({ ...ok, intervalS: "60" as never }),
    "interval_s",
  );
  rejects(() => computeNodeId({ ...ok, period: 0 }), "period", /≥ 1/);
  rejects(() => computeNodeId({ ...ok, period: NaN }), "period");
  rejects(
    () => computeNodeId({ ...ok, params: [] as never }),
    "params",
    /plain JSON object/,
  );
  rejects(
    () => computeNodeId({ ...ok, params: { a: NaN } }),
    "params.a",
    /non-finite/,
  );
  rejects(
    () => computeNodeId({ ...ok, paramsJson: "{}" }),
    "params",
    /not both/,
  );
  rejects(
    () => computeNodeId({ ...ok, params: undefined, paramsJson: 5 as never }),
    "params_json",
  );
  rejects(
    () => computeNodeId({ ...ok, params: undefined, paramsJson: "{" }),
    "params_json",
    /not valid JSON/,
  );
  rejects(
    () => computeNodeId({ ...ok, params: undefined, paramsJson: "[1]" }),
    "params_json",
    /plain JSON object/,
  );
  rejects(
    () => computeNodeId({ ...ok, params: undefined, paramsJson: '{"w": 1}' }),
    "params_json",
    /canonical/,
  );
  rejects(
    () => computeNodeId({ ...ok, params: undefined, paramsJson: '{"w":1.0}' }),
    "params_json",
    /canonical/,
  );
  rejects(
    () =>
      computeNodeId({ ...ok, params: undefined, paramsJson: '{"b":1,"a":2}' }),
    "params_json",
    /canonical/,
  );
  rejects(
    () =>
      computeNodeId({ ...ok, params: undefined, paramsJson: '{"w":1,"w":1}' }),
    "params_json",
    /canonical/,
  );
  rejects(
    () => computeNodeId({ ...ok, params: undefined, paramsJson: '{"seed":1}' }),
    "params_json",
    /context key "seed"/,
  );
  rejects(() => computeNodeId({ ...ok, inputs: "x" as never }), "inputs");
  rejects(
    () => computeNodeId({ ...ok, inputs: [I, "sha256:abc"] }),
    "inputs[1]",
  );
  rejects(
    () => computeNodeId({ ...ok, schemaCompatId: "" }),
    "schema_compat_id",
  );
  rejects(
    () => computeNodeId({ ...ok, schemaCompatId: "v|1" }),
    "schema_compat_id",
  );
  rejects(() => computeNodeId({ ...ok, codeHash: "abc" }), "code_hash");
  rejects(() => computeNodeId({ ...ok, nodeType: "\ud800" }), "node_type");
  // TagQuery rules.
  const tq = {
    nodeType: "TagQuery",
    intervalS: 60,
    period: 1,
    params: { match_mode: "any", query_tags: ["a", "b"] },
  };
  assert.ok(isNodeId(computeNodeId(tq)));
  rejects(() => computeNodeId({ ...tq, inputs: [I] }), "inputs", /no inputs/);
  rejects(
    () => computeNodeId({ ...tq, codeHash: I }),
    "code_hash",
    /empty code_hash/,
  );
  rejects(
    () => computeNodeId({ ...tq, params: { ...tq.params, extra: 1 } }),
    "params",
    /exactly/,
  );
  rejects(
    () => computeNodeId({ ...tq, params: { match_mode: "any" } }),
    "params",
    /exactly/,
  );
  rejects(
    () =>
      computeNodeId({
        ...tq,
        params: { match_mode: "any", query_tags: ["b", "a"] },
      }),
    "params.query_tags",
    /sorted/,
  );
  rejects(
    () =>
      computeNodeId({
        ...tq,
        params: { match_mode: "any", query_tags: ["a", "a"] },
      }),
    "params.query_tags",
    /deduplicated/,
  );
  rejects(
    () =>
      computeNodeId({ ...tq, params: { match_mode: "x", query_tags: ["a"] } }),
    "params.match_mode",
  );
  rejects(
    () =>
      computeNodeId({ ...tq, params: { match_mode: "any", query_tags: [] } }),
    "params.query_tags",
  );
  rejects(
    () =>
      computeNodeId({
        ...tq,
        params: undefined,
        paramsJson: '{"match_mode":"any","query_tags":["b","a"]}',
      }),
    "params_json.query_tags",
  );
  // Context keys are stripped before the TagQuery shape check.
  assert.equal(
    computeNodeId({ ...tq, params: { ...tq.params, seed: 1 } }),
    computeNodeId(tq),
  );
});

Deno.test("crc32 and dagChecksum", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(dagChecksum([]), 0);
  assert.equal(dagChecksum(["123456789"]), 0xcbf43926);
  assert.equal(
    dagChecksum(["1234", "6789"]),
    crc32(new TextEncoder().encode("1234\n6789")),
  );
  // Non-ASCII falls back to UTF-8 bytes.
  assert.equal(
    dagChecksum(["a", "é😀"]),
    crc32(new TextEncoder().encode("a\né😀")),
  );
  assert.equal(dagHash([]), "sha256:" + sha256Hex(""));
});

// --- verifyDag -------------------------------------------------------------

function node(
  overrides: Partial<NodeSpec> & { params?: Record<string, unknown> } = {},
): NodeSpec {
  const { params, ...rest } = overrides;
  const spec: NodeSpec = create(NodeSpecSchema, {
    nodeId: "",
    nodeType: "Processing",
    intervalS: 60,
    period: 1,
    paramsJson: canonicalParamsJson(params ?? {}),
    inputs: [],
    codeHash: "",
    schemaCompatId: "v1",
    name: "",
    tags: [],
    metadata: {},
    ...rest,
  });
  if (!rest.nodeId) spec.nodeId = nodeIdOfSpec(spec);
  return spec;
}

function dagOf(nodes: NodeSpec[], checksum?: number): StrategyDag {
  return create(StrategyDagSchema, {
    name: "t",
    nodes,
    checksum: checksum ?? dagChecksum(nodes.map((n) => n.nodeId)),
  });
}

Deno.test("verifyDag accepts a valid DAG and reports external inputs", () => {
  const ext1 = "sha256:" + "e".repeat(64);
  const ext2 = "sha256:" + "f".repeat(64);
  const a = node({ nodeType: "StreamInput", params: { s: "BTC" }, name: "a" });
  const b = node({ params: { w: 2 }, inputs: [a.nodeId, ext1], name: "b" });
  const c = node({
    params: { w: 3 },
    inputs: [ext2, b.nodeId, ext1],
    name: "",
  });
  const d = node({ params: { w: 4 }, name: "" });
  const v = verifyDag(dagOf([a, b, c, d]));
  assert.deepEqual(v.nodeIds, [a.nodeId, b.nodeId, c.nodeId, d.nodeId]);
  assert.deepEqual(v.externalInputs, [ext1, ext2]);
  assert.equal(v.dagHash, dagHash(v.nodeIds));
  assert.deepEqual(verifyDag(dagOf([])), {
    nodeIds: [],
    externalInputs: [],
    dagHash: dagHash([]),
  });
});

Deno.test("verifyDag rejects with typed errors naming node index and field", () => {
  const a = node({ params: { w: 1 }, name: "a" });
  const b = node({ params: { w: 2 }, inputs: [a.nodeId], name: "b" });
  rejects(
    () => verifyDag(dagOf([a, { ...b, period: 2 }])),
    "nodes[1].node_id",
    /nodes\[1\]: node_id .* does not match/,
    "E_NODE_ID_MISMATCH",
  );
  assert.throws(
    () => verifyDag(dagOf([a, { ...b, period: 2 }])),
    (e: ContractError) =>
      e.nodeId === b.nodeId && e.details?.actual === b.nodeId,
  );
  rejects(
    () => verifyDag(dagOf([a, b], 12345)),
    "checksum",
    /checksum 12345/,
    "E_CHECKSUM_MISMATCH",
  );
  rejects(
    () => verifyDag(dagOf([a, b, { ...a, name: "a2" }])),
    "nodes[2].node_id",
    /duplicate node_id .*nodes\[0\]/,
    "E_DUPLICATE",
  );
  const a2 = node({ params: { w: 9 }, name: "a" });
  rejects(
    () => verifyDag(dagOf([a, a2])),
    "nodes[1].name",
    /duplicate name "a"/,
    "E_DUPLICATE",
  );
  rejects(
    () => verifyDag(dagOf([b, a])),
    "nodes[0].inputs[0]",
    /appears later/,
  );
  rejects(
    () => verifyDag(dagOf([{ ...a, nodeId: "x" }])),
    "nodes[0].node_id",
    /not a node ID/,
  );
  rejects(
    () => verifyDag(dagOf([{ ...a, intervalS: 0 }])),
    "nodes[0].interval_s",
    /nodes\[0\]: interval_s/,
  );
  // Non-canonical paramsJson is rejected, never fixed up.
  const nc = { ...a, paramsJson: '{ "w": 1 }' };
  rejects(() => verifyDag(dagOf([nc])), "nodes[0].params_json", /canonical/);
  rejects(
    () => verifyDag(dagOf([{ ...a, paramsJson: '{"w":1,"seed":2}' }])),
    "nodes[0].params_json",
    /context key/,
  );
  rejects(() => verifyDag(dagOf([null as never], 0)), "nodes[0]", /NodeSpec/);
  rejects(() => verifyDag({ nodes: "x" } as never), "nodes");
  rejects(() => verifyDag(null as never), "nodes");
  // Non-ContractError failures propagate unchanged.
  const weird = { ...a };
  Object.defineProperty(weird, "inputs", {
    get() {
      throw new TypeError("boom");
    },
  });
  assert.throws(() => verifyDag(dagOf([weird], 0)), TypeError);
});
