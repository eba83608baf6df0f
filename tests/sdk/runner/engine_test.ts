import assert from "node:assert/strict";
import {
  ComputeError,
  Engine,
  type EngineNodeSpec,
} from "../../../sdk/runner/engine.ts";
import type { NodeView } from "../../../sdk/runner/view.ts";

type Out = [string, number, unknown];

function engine(onError?: (e: ComputeError) => void) {
  const out: Out[] = [];
  const e = new Engine({
    onOutput: (id, t, v) => out.push([id, t, v]),
    ...(onError ? { onError } : {}),
  });
  return {
    e,
    out,
    of: (id: string) => out.filter((o) => o[0] === id).map((o) => [o[1], o[2]]),
  };
}

const stream = (id: string, intervalS = 60): EngineNodeSpec => ({
  id,
  name: id,
  kind: "stream",
  intervalS,
  period: 1,
  inputs: [],
  params: {},
});

const proc = (
  id: string,
  inputs: string[],
  compute: (v: NodeView, p: unknown) => unknown,
  o: Partial<EngineNodeSpec> = {},
): EngineNodeSpec => ({
  id,
  name: id,
  kind: "processing",
  intervalS: 60,
  period: 1,
  inputs,
  params: {},
  compute,
  ...o,
});

Deno.test("engine: inputs are aligned to the node's interval and outputs carry the bar time", () => {
  const { e, of } = engine();
  e.add(stream("p", 1));
  e.add(proc("last", ["p"], (v) => [v.barTs, v.last, v.times[0]]));
  e.feed("p", 59.9, 1);
  e.feed("p", 60, 2); // bar 60 of the 60 s node
  e.feed("p", 121.5, 3);
  assert.deepEqual(of("p"), [[59, 1], [60, 2], [121, 3]]);
  // 1 s stream values 59 and 60 fall in the 60 s bars 0 and 60.
  assert.deepEqual(of("last"), [[0, [0, 1, 0]], [60, [60, 2, 60]], [120, [
    120,
    3,
    120,
  ]]]);
});

Deno.test("engine: warm-up waits for `period` values on every input", () => {
  const { e, of } = engine();
  e.add(stream("p"));
  const node = e.add(
    proc(
      "sum3",
      ["p"],
      (v) => v.values.reduce((a: number, b: number) => a + b, 0),
      { period: 3 },
    ),
  );
  for (let i = 0; i < 5; i++) e.feed("p", i * 60, i + 1);
  assert.deepEqual(of("sum3"), [[120, 6], [180, 9], [240, 12]]);
  assert.equal(node.stats.warmup, 2);
  assert.equal(node.stats.evaluations, 3);
});

Deno.test("engine: a late or duplicate bar is dropped and counted; a newer value replaces an unemitted bar", () => {
  const { e, of } = engine();
  const p = e.add(stream("p"));
  const q = e.add(stream("q"));
  const n = e.add(
    proc("spread", ["p", "q"], (v) => v.inputs[0].last - v.inputs[1].last),
  );
  e.feed("p", 0, 10);
  e.feed("p", 30, 11); // stream: second value in bar 0 is a duplicate
  assert.equal(p.stats.duplicate, 1);
  e.feed("p", 60, 12);
  e.feed("p", 0, 9); // late at the stream
  assert.equal(p.stats.late, 1);
  e.feed("q", 0, 1);
  assert.deepEqual(of("spread"), [[0, 9]]);
  // The node holds p at 60; q has not reached 60 yet.
  e.feed("q", 60, 2);
  assert.deepEqual(of("spread"), [[0, 9], [60, 10]]);
  // The engine itself refuses bars the node already emitted.
  e.inject("q", 60, 99);
  assert.equal(q.stats.duplicate, 1);
  assert.equal(n.stats.late + n.stats.duplicate, 0);
});

Deno.test("engine: a node fires for every bar some input holds once all inputs advanced (as-of windows)", () => {
  const { e, of } = engine();
  e.add(stream("a"));
  e.add(stream("b"));
  e.add(
    proc("pair", ["a", "b"], (v) => `${v.inputs[0].last}/${v.inputs[1].last}`),
  );
  e.feed("a", 0, "a0");
  e.feed("b", 0, "b0");
  e.feed("a", 60, "a1");
  e.feed("a", 120, "a2");
  e.feed("b", 180, "b3"); // b skips 60 and 120
  assert.deepEqual(of("pair"), [[0, "a0/b0"], [60, "a1/b0"], [120, "a2/b0"]]);
  e.feed("a", 180, "a3");
  assert.deepEqual(of("pair").at(-1), [180, "a3/b3"]);
});

Deno.test("engine: a coarser node reads the first value of each of its bars", () => {
  const { e, of } = engine();
  e.add(stream("m1"));
  const n = e.add(proc("m5", ["m1"], (v) => v.last, { intervalS: 300 }));
  for (let i = 0; i < 11; i++) e.feed("m1", i * 60, i);
  assert.deepEqual(of("m5"), [[0, 0], [300, 5], [600, 10]]);
  assert.equal(n.stats.duplicate, 8);
});

Deno.test("engine: shared inputs, diamond shapes, undefined outputs", () => {
  const { e, of } = engine();
  e.add(stream("p"));
  e.add(proc("x2", ["p"], (v) => v.last * 2));
  e.add(proc("odd", ["p"], (v) => (v.last % 2 ? v.last : undefined)));
  const d = e.add(
    proc("sum", ["x2", "odd"], (v) => v.inputs[0].last + v.inputs[1].last),
  );
  for (let i = 1; i <= 4; i++) e.feed("p", i * 60, i);
  // odd emits at 60 and 180 only; sum fires when both advanced.
  assert.deepEqual(of("odd"), [[60, 1], [180, 3]]);
  assert.deepEqual(of("sum"), [[60, 3], [120, 5], [180, 9]]);
  assert.equal(d.stats.evaluations, 3);
});

Deno.test("engine: compute errors are typed, name node and bar, and can skip the bar", () => {
  const boom = (v: NodeView) => {
    if (v.last === 2) throw new Error("bad value");
    return v.last;
  };
  const strict = engine();
  strict.e.add(stream("p"));
  strict.e.add(proc("f", ["p"], boom));
  strict.e.feed("p", 0, 1);
  assert.throws(
    () => strict.e.feed("p", 60, 2),
    (err) =>
      err instanceof ComputeError && err.node === "f" && err.barTs === 60 &&
      /bad value/.test(err.message),
  );
  const errors: ComputeError[] = [];
  const lax = engine((x) => errors.push(x));
  lax.e.add(stream("p"));
  const f = lax.e.add(proc("f", ["p"], boom));
  for (let i = 1; i <= 3; i++) lax.e.feed("p", i * 60, i);
  assert.deepEqual(lax.of("f"), [[60, 1], [180, 3]]);
  assert.equal(f.stats.errors, 1);
  assert.equal(errors[0].barTs, 120);
  const asyncNode = engine((x) => errors.push(x));
  asyncNode.e.add(stream("p"));
  asyncNode.e.add(proc("a", ["p"], (v) => Promise.resolve(v.last)));
  asyncNode.e.feed("p", 0, 1);
  assert.match(errors.at(-1)!.message, /synchronous/);
});

Deno.test("engine: injected outputs, then computing from the last published bar", () => {
  const { e, of } = engine();
  e.add(stream("p"));
  const n = e.add(proc("x10", ["p"], (v) => v.last * 10));
  e.setComputing("x10", false);
  for (let i = 0; i < 5; i++) e.feed("p", i * 60, i);
  // Another process published bars 0..120; bars 180 and 240 it never did.
  e.inject("x10", 0, 0);
  e.inject("x10", 60, 10);
  e.inject("x10", 120, 20);
  assert.equal(n.stats.evaluations, 0);
  e.setComputing("x10", true, 120);
  assert.deepEqual(of("x10"), [[0, 0], [60, 10], [120, 20], [180, 30], [
    240,
    40,
  ]]);
  assert.equal(n.stats.evaluations, 2); // each bar computed once, none skipped
});

Deno.test("engine: tag-query nodes emit their matched nodes' values by node ID", () => {
  const { e, of } = engine();
  e.add(stream("btc"));
  e.add(stream("eth"));
  e.add({
    id: "q",
    name: "q",
    kind: "tagQuery",
    intervalS: 60,
    period: 1,
    inputs: [],
    params: {},
  });
  e.setTagInputs("q", ["eth", "btc"]);
  e.feed("btc", 0, 100);
  e.feed("eth", 0, 10);
  assert.deepEqual(of("q"), [[0, { btc: 100, eth: 10 }]]);
  e.setTagInputs("q", ["btc"]);
  e.feed("btc", 60, 101);
  e.feed("eth", 60, 11);
  assert.deepEqual(of("q").at(-1), [60, { btc: 101 }]);
});

Deno.test("engine: a node reading an unknown input is refused", () => {
  const { e } = engine();
  assert.throws(
    () => e.add(proc("x", ["nope"], (v) => v.last)),
    /not part of this run/,
  );
});

Deno.test("engine: until a bar is emitted, a newer value for it replaces the older one", () => {
  const { e, of } = engine();
  e.add(stream("m1"));
  e.add(stream("slow", 300));
  const n = e.add(
    proc("pair", ["m1", "slow"], (v) => [v.inputs[0].last, v.inputs[1].last], {
      intervalS: 300,
    }),
  );
  e.feed("m1", 0, "a");
  e.feed("m1", 60, "b");
  e.feed("m1", 120, "c"); // bar 0 of `pair` not emitted yet: c replaces a, b
  e.feed("slow", 0, "s");
  assert.deepEqual(of("pair"), [[0, ["c", "s"]]]);
  e.feed("m1", 180, "d"); // bar 0 emitted: now a duplicate
  assert.equal(n.stats.duplicate, 1);
});
