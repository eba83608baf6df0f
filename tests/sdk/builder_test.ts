import assert from "node:assert/strict";
import {
  codeHash,
  computeNodeId,
  dagChecksum,
  verifyDag,
} from "../../lib/contracts/node_id.ts";
import {
  type ComputeFn,
  type NodeInput,
  type NodeRef,
  type NodeSpec,
  type NodeView,
  type Params,
  type ProcessingOptions,
  StrategyBuilder,
  type StrategyDag,
  type StreamInputOptions,
  ValidationError,
} from "../../sdk/mod.ts";
import { input60, mean, step60 } from "./fixtures/nodes.ts";

const cross = (v: NodeView<number>) =>
  Math.sign(v.inputs[0].last - v.inputs[1].last);

function crossover(): { s: StrategyBuilder; dag: StrategyDag } {
  const s = new StrategyBuilder("sma_crossover", { metadata: { team: "t" } });
  const price = input60(s, "btc_close", ["close", "btc", "btc"], {
    asset: "BTC/USDT",
    params: { exchange: "binance", seed: 42 },
  });
  const fast = step60(s, "sma_fast", [price], 5, mean, {
    params: { window: 5 },
  });
  const slow = step60(s, "sma_slow", ["btc_close"], 20, mean, {
    params: { window: 20.0 },
  });
  step60(s, "crossover", [fast, slow], 2, cross, {
    nodeType: "Signal",
    tags: ["signal"],
  });
  return { s, dag: s.build() };
}

/** A stream input of one 1 s bar, tagged with its own name unless `more` says otherwise. */
function input(
  s: StrategyBuilder,
  name: string,
  more: Partial<StreamInputOptions> = {},
): NodeRef {
  return s.streamInput({
    name,
    tags: [name],
    intervalS: 1,
    period: 1,
    ...more,
  });
}

/** A processing node of one 1 s bar whose compute source text is its name, unless `more` says otherwise. */
function proc<P extends Params = Params>(
  s: StrategyBuilder,
  name: string,
  inputs: readonly NodeInput[],
  more: Partial<ProcessingOptions<P>> = {},
): NodeRef {
  return s.processing<P>({
    name,
    inputs,
    intervalS: 1,
    period: 1,
    compute: name,
    ...more,
  });
}

function byName(dag: StrategyDag, name: string): NodeSpec {
  const n = dag.nodes.find((x) => x.name === name);
  assert.ok(n, `node ${name}`);
  return n;
}

function throwsValidation(
  fn: () => unknown,
  expect: { code: string; node?: string; field?: string },
): ValidationError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof ValidationError,
    `expected ValidationError, got ${caught}`,
  );
  assert.equal(caught.code, expect.code, caught.message);
  if (expect.node !== undefined) {
    assert.equal(caught.node, expect.node, caught.message);
  }
  if (expect.field !== undefined) {
    assert.equal(caught.field, expect.field, caught.message);
  }
  return caught;
}

Deno.test("builder: node IDs equal the lib/contracts computation", () => {
  const { dag } = crossover();
  const price = byName(dag, "btc_close");
  assert.equal(
    price.nodeId,
    computeNodeId({
      nodeType: "StreamInput",
      intervalS: 60,
      period: 1,
      params: { exchange: "binance", stream_tags: ["btc", "close"] },
    }),
  );
  assert.equal(
    price.paramsJson,
    '{"exchange":"binance","stream_tags":["btc","close"]}',
  );
  assert.equal(price.codeHash, "");
  const fast = byName(dag, "sma_fast");
  assert.equal(fast.codeHash, codeHash(mean));
  assert.equal(
    fast.nodeId,
    computeNodeId({
      nodeType: "Processing",
      intervalS: 60,
      period: 5,
      params: { window: 5 },
      inputs: [price.nodeId],
      codeHash: codeHash(mean),
    }),
  );
  const slow = byName(dag, "sma_slow");
  assert.equal(slow.paramsJson, '{"window":20}');
  const sig = byName(dag, "crossover");
  assert.equal(sig.nodeType, "Signal");
  assert.deepEqual(sig.inputs, [fast.nodeId, slow.nodeId]);
  assert.equal(
    sig.nodeId,
    computeNodeId({
      nodeType: "Signal",
      intervalS: 60,
      period: 2,
      params: {},
      inputs: [slow.nodeId, fast.nodeId],
      codeHash: codeHash(cross),
    }),
  );
  assert.equal(dag.checksum, dagChecksum(dag.nodes.map((n) => n.nodeId)));
  assert.deepEqual(verifyDag(dag).externalInputs, []);
  assert.deepEqual(dag.metadata, { team: "t" });
  assert.equal(dag.name, "sma_crossover");
});

Deno.test("builder: display fields and context keys never change IDs", () => {
  const a = crossover().dag;
  const s = new StrategyBuilder("other name");
  const p = input60(s, "price", ["btc", "close"], {
    params: { exchange: "binance", as_of: "2024-01-01", env_host: "x" },
    metadata: { note: "n" },
  });
  step60(s, "fast", [p], 5, mean, {
    params: { window: 5, world: "w1" },
    tags: ["x"],
  });
  const b = s.build();
  assert.equal(b.nodes[0].nodeId, byName(a, "btc_close").nodeId);
  assert.equal(b.nodes[1].nodeId, byName(a, "sma_fast").nodeId);
});

Deno.test("builder: nodes come out in DAG order, forward references allowed", () => {
  const s = new StrategyBuilder("fwd");
  proc(s, "sig", ["sma"], { intervalS: 60, compute: "x => x" });
  proc(s, "sma", ["price"], { intervalS: 60, period: 3, compute: mean });
  input(s, "price", { tags: ["btc"], intervalS: 60 });
  const dag = s.build();
  assert.deepEqual(dag.nodes.map((n) => n.name), ["price", "sma", "sig"]);
  verifyDag(dag);
});

Deno.test("builder: asset goes to metadata and is inherited", () => {
  const { dag } = crossover();
  for (const n of dag.nodes) assert.equal(n.metadata.asset, "BTC/USDT", n.name);
});

Deno.test("builder: tag query params are exactly {match_mode, query_tags}", () => {
  const s = new StrategyBuilder("tq");
  const q = s.tagQuery({
    name: "closes",
    tags: ["close", "btc", "close"],
    intervalS: 60,
    period: 1,
  });
  s.processing({
    name: "avg",
    inputs: [q],
    intervalS: 60,
    period: 10,
    compute: mean,
  });
  const dag = s.build();
  const tq = dag.nodes[0];
  assert.equal(tq.nodeType, "TagQuery");
  assert.equal(
    tq.paramsJson,
    '{"match_mode":"any","query_tags":["btc","close"]}',
  );
  assert.equal(tq.codeHash, "");
  assert.deepEqual(tq.inputs, []);
  assert.equal(
    tq.nodeId,
    computeNodeId({
      nodeType: "TagQuery",
      intervalS: 60,
      period: 1,
      params: { match_mode: "any", query_tags: ["btc", "close"] },
    }),
  );
});

Deno.test("builder: an external node ID is a valid input", () => {
  const ext = crossover().dag.nodes[1].nodeId;
  const s = new StrategyBuilder("ext");
  proc(s, "uses_existing", [ext], { intervalS: 60, compute: "x => x" });
  const dag = s.build();
  assert.deepEqual(dag.nodes[0].inputs, [ext]);
  assert.deepEqual(verifyDag(dag).externalInputs, [ext]);
});

Deno.test("builder: a cycle names the node and the inputs field", () => {
  const s = new StrategyBuilder("cyc");
  input(s, "price", { tags: ["btc"], intervalS: 60 });
  proc(s, "a", ["price", "c"], { intervalS: 60 });
  proc(s, "b", ["a"], { intervalS: 60 });
  proc(s, "c", ["b"], { intervalS: 60 });
  const e = throwsValidation(() => s.build(), {
    code: "E_CYCLE",
    node: "a",
    field: "inputs",
  });
  assert.match(e.message, /a → b → c → a/);
});

/** [what is refused, the declarations, the ValidationError expected] */
const REFUSED: [
  string,
  (s: StrategyBuilder) => void,
  { code: string; node?: string; field?: string },
][] = [
  [
    "self input is a cycle",
    (s) => proc(s, "me", ["me"], { intervalS: 60, compute: "m" }),
    { code: "E_CYCLE", node: "me", field: "inputs" },
  ],
  [
    "duplicate names are refused",
    (s) => {
      input(s, "price", { tags: ["btc"], intervalS: 60 });
      input(s, "price", { tags: ["eth"], intervalS: 60 });
    },
    { code: "E_DUPLICATE", node: "price", field: "name" },
  ],
  [
    "two nodes with one identity are refused",
    (s) => {
      const p = input(s, "price", { tags: ["btc"], intervalS: 60 });
      proc(s, "sma_a", [p], { intervalS: 60, period: 5, compute: mean });
      proc(s, "sma_b", [p], { intervalS: 60, period: 5, compute: mean });
    },
    { code: "E_DUPLICATE", node: "sma_b", field: "nodeId" },
  ],
  [
    "an input name no node has is refused",
    (s) => {
      input(s, "x");
      proc(s, "p", ["nope"]);
    },
    { code: "E_UNKNOWN_INPUT", node: "p", field: "inputs[0]" },
  ],
  [
    "a node of another strategy as input is refused",
    (s) => {
      const foreign = input(new StrategyBuilder("other"), "x");
      input(s, "x");
      proc(s, "q", ["x", foreign]);
    },
    { code: "E_UNKNOWN_INPUT", node: "q", field: "inputs[1]" },
  ],
  [
    "a processing node without inputs is refused",
    (s) => proc(s, "p", []),
    { code: "E_INVALID", node: "p", field: "inputs" },
  ],
  [
    "a processing node without compute is refused",
    (s) => {
      input(s, "x");
      proc(s, "p", ["x"], { compute: undefined as unknown as string });
    },
    { code: "E_INVALID", node: "p", field: "compute" },
  ],
  [
    "an empty node name is refused",
    (s) => input(s, "", { tags: ["x"] }),
    { code: "E_INVALID", field: "name" },
  ],
  [
    "a stream input without tags is refused",
    (s) => input(s, "x", { tags: [] }),
    { code: "E_INVALID", node: "x", field: "tags" },
  ],
  [
    "an unknown match mode is refused",
    (s) =>
      s.tagQuery({
        name: "q",
        tags: ["a"],
        intervalS: 1,
        period: 1,
        matchMode: "some" as "any",
      }),
    { code: "E_INVALID", node: "q", field: "matchMode" },
  ],
];
for (const [what, declare, expected] of REFUSED) {
  Deno.test(`builder: ${what}`, () => {
    const s = new StrategyBuilder("refused");
    declare(s);
    throwsValidation(() => s.build(), expected);
  });
}

Deno.test("builder: missing or invalid interval and period name node + field", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ intervalS: undefined, period: 1 }, "intervalS"],
    [{ intervalS: 0, period: 1 }, "intervalS"],
    [{ intervalS: 1.5, period: 1 }, "intervalS"],
    [{ intervalS: "60", period: 1 }, "intervalS"],
    [{ intervalS: 60, period: undefined }, "period"],
    [{ intervalS: 60, period: 0 }, "period"],
    [{ intervalS: 60, period: -3 }, "period"],
  ];
  for (const [fields, field] of cases) {
    const s = new StrategyBuilder("iv");
    const p = input(s, "price", { tags: ["btc"], intervalS: 60 });
    proc(s, "bad", [p], {
      compute: mean,
      ...(fields as { intervalS: number; period: number }),
    });
    throwsValidation(() => s.build(), {
      code: "E_INVALID",
      node: "bad",
      field,
    });
  }
});

Deno.test("builder: non-JSON params name the node and the param", () => {
  const bad: [unknown, string][] = [
    [{ w: NaN }, "params.w"],
    [{ w: Infinity }, "params.w"],
    [{ f: () => 1 }, "params.f"],
    [{ d: new Date(0) }, "params.d"],
    [{ n: { deep: undefined } }, "params.n.deep"],
    [{ b: 1n }, "params.b"],
  ];
  for (const [params, field] of bad) {
    const s = new StrategyBuilder("json");
    input(s, "x");
    proc(s, "p", ["x"], { params: params as Record<string, number> });
    throwsValidation(() => s.build(), { code: "E_INVALID", node: "p", field });
  }
  const s = new StrategyBuilder("arr");
  input(s, "x", { params: [1] as unknown as Record<string, number> });
  throwsValidation(() => s.build(), {
    code: "E_INVALID",
    node: "x",
    field: "params",
  });
});

Deno.test("builder: build is repeatable and the result is independent", () => {
  const { s, dag } = crossover();
  const again = s.build();
  assert.deepEqual(again, dag);
  again.nodes[0].tags.push("mutated");
  assert.notDeepEqual(s.build().nodes[0].tags, again.nodes[0].tags);
});

Deno.test("builder: changing the compute source changes the ID", () => {
  const make = (compute: ComputeFn) => {
    const s = new StrategyBuilder("c");
    proc(s, "p", [input(s, "x")], { compute });
    return s.build().nodes[1].nodeId;
  };
  assert.notEqual(make((v) => v.at(0)), make((v) => v.at(1)));
  assert.equal(make(mean), make(mean));
});

Deno.test("builder: a compute function reading a closure setting is refused; settings go in params", () => {
  const factory = (window: number) => (v: NodeView<number>) =>
    v.values.slice(-window).reduce((a, b) => a + b, 0) / window;
  const s = new StrategyBuilder("closure");
  const p = input(s, "p", { intervalS: 60 });
  proc(s, "sma5", [p], { intervalS: 60, period: 5, compute: factory(5) });
  assert.throws(
    () => s.build(),
    (e) =>
      e instanceof ValidationError && e.node === "sma5" &&
      e.field === "compute" &&
      /reads "window" from its enclosing scope/.test(e.message) &&
      /params/.test(e.message),
  );
  // The natural way: one function, the setting in params.
  const ok = new StrategyBuilder("params");
  const q = input(ok, "p", { intervalS: 60 });
  const sma = (v: NodeView<number>, prm: { window: number }) =>
    v.values.slice(-prm.window).reduce((a, b) => a + b, 0) / prm.window;
  for (const [name, window] of [["a", 5], ["b", 20]] as const) {
    proc(ok, name, [q], {
      intervalS: 60,
      period: 20,
      params: { window },
      compute: sma,
    });
  }
  const [, a, b] = ok.build().nodes;
  assert.notEqual(a.nodeId, b.nodeId);
  assert.equal(a.codeHash, b.codeHash);
});

Deno.test("builder: uses lists helpers (hashed into the ID) and libraries; plain values are refused", () => {
  const helper1 = (xs: number[]) => xs[0];
  const helper2 = (xs: number[]) => xs[1];
  const lib = { version: "1" };
  const make = (uses: Record<string, unknown>) => {
    const s = new StrategyBuilder("uses");
    proc(s, "h", [input(s, "p", { intervalS: 60 })], {
      intervalS: 60,
      period: 2,
      uses,
      compute: (v) => pick(v.values) + Number(lib.version),
    });
    return s.build().nodes[1];
  };
  const a = make({ pick: helper1, lib });
  const b = make({ pick: helper2, lib });
  assert.notEqual(a.nodeId, b.nodeId); // the helper's code is part of the identity
  assert.equal(make({ pick: helper1, lib: { version: "2" } }).nodeId, a.nodeId);
  assert.throws(
    () => make({ pick: helper1, lib: 3 }),
    (e) =>
      e instanceof ValidationError && e.field === "uses.lib" &&
      /settings belong in params/.test(e.message),
  );
  assert.throws(
    () => make({ pick: helper1 }),
    (e) => e instanceof ValidationError && /reads "lib"/.test(e.message),
  );
  assert.throws(
    () => make({ "not a name": helper1, pick: helper1, lib }),
    (e) => e instanceof ValidationError && e.field === "uses.not a name",
  );
});
// Declared for the `uses` test above: the compute function refers to them by name.
declare const pick: (xs: readonly number[]) => number;

Deno.test("builder: compile keeps params and compute functions, in DAG order", () => {
  const { s } = crossover();
  const st = s.compile();
  assert.deepEqual(st.dag, s.build());
  assert.deepEqual(st.nodes.map((n) => n.spec.name), [
    "btc_close",
    "sma_fast",
    "sma_slow",
    "crossover",
  ]);
  assert.equal(st.nodes[1].compute, mean);
  assert.equal(st.nodes[0].compute, undefined);
  assert.deepEqual(st.nodes[0].params, {
    exchange: "binance",
    stream_tags: ["btc", "close"],
  });
  assert.ok(Object.isFrozen(st.nodes[0].params));
  assert.throws(() => {
    (st.nodes[2].params as { window: number }).window = 1;
  });
});

Deno.test("builder: the Gateway's field limits — deep params, bad tags, names, metadata — name node and field", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  const p = new StrategyBuilder("deep");
  input(p, "x");
  proc(p, "d", ["x"], { params: { a: deep as number } });
  const e = throwsValidation(() => p.build(), {
    code: "E_INVALID",
    node: "d",
    field: "params",
  });
  assert.match(e.message, /deeper than 64 levels/);

  const cases: [
    (s: StrategyBuilder) => void,
    { node?: string; field: string },
    RegExp,
  ][] = [
    [
      (s) => input(s, "x", { tags: ["ok", "a\u0000b"] }),
      { node: "x", field: "tags[1]" },
      /control character U\+0000/,
    ],
    [
      (s) =>
        input(s, "x", { tags: new Array(65).fill(0).map((_, i) => `t${i}`) }),
      { node: "x", field: "tags" },
      /65 tags; at most 64/,
    ],
    [
      (s) => input(s, "x", { tags: ["x".repeat(65_536)] }),
      { node: "x", field: "tags[0]" },
      /65536 bytes long; at most 128/,
    ],
    [
      (s) => input(s, "x\r\ny", { tags: ["x"] }),
      { node: "x\r\ny", field: "name" },
      /control character U\+000D/,
    ],
    [
      (s) => input(s, "x", { metadata: { note: "y".repeat(5000) } }),
      { node: "x", field: "metadata.note" },
      /5000 bytes long; at most 1024/,
    ],
    [
      (s) =>
        s.tagQuery({
          name: "q",
          tags: ["a,b"],
          intervalS: 1,
          period: 1,
        }),
      { node: "q", field: "tags[0]" },
      /must not contain ","/,
    ],
    [
      (s) => proc(s, "p", [input(s, "i")], { nodeType: "My Type" }),
      { node: "p", field: "nodeType" },
      /node_type must be 1-64 characters/,
    ],
  ];
  for (const [declare, where, re] of cases) {
    const s = new StrategyBuilder("limits");
    declare(s);
    const err = throwsValidation(() => s.build(), {
      code: "E_INVALID",
      ...where,
    });
    assert.match(err.message, re);
  }
  // Strategy-level name and metadata.
  const m = new StrategyBuilder("meta", { metadata: { "": "v" } });
  input(m, "x");
  assert.match(
    throwsValidation(() => m.build(), {
      code: "E_INVALID",
      field: "metadata[#0]",
    })
      .message,
    /metadata key must not be empty/,
  );
  const n = new StrategyBuilder("bad\u0000name");
  input(n, "x");
  throwsValidation(() => n.build(), { code: "E_INVALID", field: "name" });
});
