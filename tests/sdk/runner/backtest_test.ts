import assert from "node:assert/strict";
import {
  backtest,
  type BacktestResult,
  ComputeError,
  outputsDigest,
  type SourceRecord,
  StrategyBuilder,
} from "../../../sdk/mod.ts";
import { input60, mean, query60, step60 } from "../fixtures/nodes.ts";

/** An SMA-crossover strategy. */
function crossover(name: string) {
  const s = new StrategyBuilder(name);
  const px = input60(s, "px", ["btc", "close"]);
  const fast = step60(s, "fast", [px], 3, mean);
  const slow = step60(s, "slow", [px], 5, mean);
  step60(
    s,
    "signal",
    [fast, slow],
    1,
    (v) => Math.sign(v.inputs[0].last - v.inputs[1].last),
    { nodeType: "Signal" },
  );
  return s;
}

function prices(n: number, start = 0): SourceRecord<number>[] {
  return Array.from({ length: n }, (_, i) => ({
    tags: ["btc", "close"],
    ts: start + i * 60,
    value: 100 + 10 * Math.sin(i / 3) + i * 0.1,
  }));
}

/** Byte-level digest of the outputs plus the counters, as one comparable string. */
function outputs(r: BacktestResult): string {
  return outputsDigest(r) + JSON.stringify(
    Object.values(r.nodes).map((s) => [s.nodeId, s.stats]),
  );
}

Deno.test("backtest: one strategy, values and bar times as the compute contract says", async () => {
  const r = await backtest(crossover("a"), { source: prices(8) });
  const a = r.strategies[0];
  assert.deepEqual(a.outputs, ["signal"]);
  assert.equal(a.nodes.fast.times[0], 120); // 3 values needed
  assert.equal(a.nodes.slow.times[0], 240); // 5 values needed
  assert.deepEqual(a.nodes.signal.times, [240, 300, 360, 420]);
  const px = prices(8).map((p) => p.value);
  const m = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  assert.equal(a.nodes.fast.values[0], m(px.slice(0, 3)));
  assert.equal(
    a.nodes.signal.values[0],
    Math.sign(m(px.slice(2, 5)) - m(px.slice(0, 5))),
  );
  assert.equal(r.stats.records, 8);
  assert.equal(r.stats.nodes, 4);
});

Deno.test("backtest: a node shared by several strategies is computed once per bar", async () => {
  const calls = { fast: 0 };
  const make = (name: string, threshold: number) => {
    const s = new StrategyBuilder(name);
    const px = input60(s, "px", ["btc", "close"]);
    const fast = step60(s, "sma3", [px], 3, (v) => {
      calls.fast++;
      return v.values.reduce((a: number, b: number) => a + b, 0) / 3;
    }, { uses: { calls } });
    step60(s, `above_${threshold}`, [fast], 1, (v, p) => v.last > p.threshold, {
      params: { threshold },
    });
    return s;
  };
  const bars = 50;
  const r = await backtest(
    [make("s1", 100), make("s2", 101), make("s3", 102)],
    {
      source: prices(bars),
    },
  );
  assert.equal(calls.fast, bars - 2); // once per bar after warm-up, not 3×
  assert.equal(r.stats.nodes, 1 + 1 + 3);
  assert.equal(r.strategies[0].nodes.sma3, r.strategies[2].nodes.sma3);
  assert.deepEqual(r.strategies[1].nodes.sma3.strategies, ["s1", "s2", "s3"]);
  assert.equal(r.stats.evaluationsSaved, 2 * (bars - 2));
  const separate = await backtest(make("alone", 100), { source: prices(bars) });
  assert.deepEqual(
    separate.strategies[0].nodes.above_100.values,
    r.strategies[0].nodes.above_100.values,
  );
});

Deno.test("backtest: deterministic — same records, same outputs, from arrays, iterators and async iterators", async () => {
  const data = prices(200);
  const a = outputs(
    await backtest([crossover("x"), crossover("y")], { source: data }),
  );
  const b = outputs(
    await backtest([crossover("x"), crossover("y")], { source: data }),
  );
  const c = outputs(
    await backtest([crossover("x"), crossover("y")], {
      source: (function* () {
        yield* data;
      })(),
    }),
  );
  const d = outputs(
    await backtest([crossover("x"), crossover("y")], {
      source: (async function* () {
        yield* data;
      })(),
    }),
  );
  const e = outputs(
    await backtest([crossover("x"), crossover("y")], {
      source: [...data].reverse(), // arrays are put in time order
    }),
  );
  assert.equal(a, b);
  assert.equal(a, c);
  assert.equal(a, d);
  assert.equal(a, e);
});

Deno.test("backtest: from/to bound the records; several sources merge by time", async () => {
  const s = new StrategyBuilder("two");
  const b = input60(s, "b", ["btc"]);
  const e = input60(s, "e", ["eth"]);
  step60(s, "ratio", [b, e], 1, (v) => v.inputs[0].last / v.inputs[1].last);
  const btc = [0, 1, 2, 3].map((i) => ({
    tags: ["btc"],
    ts: i * 60,
    value: 10 * (i + 1),
  }));
  const eth = [0, 1, 2, 3].map((i) => ({
    tags: ["eth"],
    ts: i * 60,
    value: i + 1,
  }));
  const r = await backtest(s, {
    source: [btc, eth, [{ tags: ["doge"], ts: 60, value: 1 }]],
    from: 60,
    to: new Date(180_000),
  });
  assert.deepEqual(r.strategies[0].nodes.ratio.times, [60, 120]);
  assert.deepEqual(r.strategies[0].nodes.ratio.values, [10, 10]);
  assert.equal(r.stats.records, 5);
  assert.equal(r.stats.unmatched, 1);
});

Deno.test("backtest: tag queries resolve to the run's matching nodes, never to themselves", async () => {
  const s = new StrategyBuilder("basket");
  input60(s, "btc", ["btc", "close"]);
  input60(s, "eth", ["eth", "close"]);
  input60(s, "vol", ["btc", "volume"]);
  const q = query60(s, "closes", ["close"]);
  s.processing({
    name: "basket",
    inputs: [q],
    intervalS: 60,
    period: 1,
    tags: ["close"], // reads the query: must not be matched by it
    compute: (v) => {
      const xs = Object.values(v.last as Record<string, number>);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    },
  });
  const st = s.compile();
  const ids = Object.fromEntries(
    st.nodes.map((n) => [n.spec.name, n.spec.nodeId]),
  );
  const r = await backtest(st, {
    source: [
      { tags: ["btc", "close"], ts: 0, value: 100 },
      { tags: ["btc", "volume"], ts: 0, value: 7 },
      { tags: ["close", "eth"], ts: 0, value: 10 },
    ],
  });
  const closes = r.strategies[0].nodes.closes.values[0] as Record<
    string,
    number
  >;
  assert.deepEqual(Object.keys(closes), [ids.btc, ids.eth].sort());
  assert.deepEqual(r.strategies[0].nodes.basket.values, [55]);
});

Deno.test("backtest: refuses what it cannot run, with the reason", async () => {
  const ext = new StrategyBuilder("ext");
  step60(ext, "x", ["sha256:" + "a".repeat(64)], 1, (v) => v.last);
  await assert.rejects(
    () => backtest(ext, { source: [] }),
    /declared by none of the strategies/,
  );
  const text = new StrategyBuilder("text");
  const p = input60(text, "p", ["p"]);
  step60(text, "t", [p], 1, "def f(v): return v");
  await assert.rejects(() => backtest(text, { source: [] }), /source text/);
  await assert.rejects(
    () =>
      backtest(crossover("bad"), {
        source: [{ tags: ["btc", "close"], ts: Number.NaN, value: 1 }],
      }),
    /ts must be a finite number/,
  );
});

Deno.test("backtest: compute errors abort with the node and bar, or are skipped and counted", async () => {
  const s = new StrategyBuilder("err");
  const p = s.streamInput({ name: "p", tags: ["p"], intervalS: 60, period: 1 });
  step60(s, "inv", [p], 1, (v) => {
    if (v.last === 0) throw new RangeError("division by zero");
    return 1 / v.last;
  });
  const source = [2, 0, 4].map((value, i) => ({
    tags: ["p"],
    ts: i * 60,
    value,
  }));
  await assert.rejects(
    () => backtest(s, { source }),
    (e) => e instanceof ComputeError && e.node === "inv" && e.barTs === 60,
  );
  const r = await backtest(s, { source, onError: "skip" });
  assert.deepEqual(r.strategies[0].nodes.inv.values, [0.5, 0.25]);
  assert.equal(r.strategies[0].nodes.inv.stats.errors, 1);
});

Deno.test("backtest: keep bounds the kept outputs; onOutput streams all of them", async () => {
  let streamed = 0;
  const r = await backtest(crossover("k"), {
    source: prices(3000),
    keep: 10,
    onOutput: () => streamed++,
  });
  const sig = r.strategies[0].nodes.signal;
  assert.ok(sig.values.length <= 10 * 2 + 1024);
  assert.equal(sig.times.at(-1), 2999 * 60);
  assert.equal(streamed, r.stats.emitted);
  const none = await backtest(crossover("k"), { source: prices(50), keep: 0 });
  assert.equal(none.strategies[0].nodes.signal.values.length, 0);
  assert.equal(none.strategies[0].nodes.signal.stats.emitted, 46);
});
