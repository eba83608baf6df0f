/**
 * The strategies of the runner benchmarks: a 10-node strategy of simple
 * numeric nodes (price → SMA 5/20 → spread; returns → |returns| → vol 10 →
 * z-score → signal → position), the same computed by a hand-written loop
 * (the peer), and variants that share the indicator chain.
 *
 * @module
 */

import {
  type ComputeFn,
  type NodeRef,
  type NodeView,
  type SourceRecord,
  type Strategy,
  StrategyBuilder,
} from "../../sdk/mod.ts";

const mean = (v: NodeView<number>) => {
  let t = 0;
  for (let i = 0; i < v.length; i++) t += v.at(i)!;
  return t / v.length;
};

/**
 * The 10-node strategy; `variant` changes only the last two nodes (their
 * params), so variants share the first eight.
 */
export function tenNode(variant = 0): Strategy {
  const s = new StrategyBuilder(`ten_${variant}`);
  const px = s.streamInput({
    name: "px",
    tags: ["bench", "px"],
    intervalS: 60,
    period: 1,
  });
  /** A processing node over `period` 1-minute bars of `inputs`. */
  const step = (
    name: string,
    inputs: NodeRef[],
    period: number,
    compute: ComputeFn,
  ) => s.processing({ name, inputs, intervalS: 60, period, compute });
  const a = step("sma5", [px], 5, mean);
  const b = step("sma20", [px], 20, mean);
  const c = step(
    "spread",
    [a, b],
    1,
    (v) => v.inputs[0].last - v.inputs[1].last,
  );
  const d = step("ret", [px], 2, (v) => v.last / v.at(0) - 1);
  const e = step("absret", [d], 1, (v) => Math.abs(v.last));
  const f = step("vol10", [e], 10, mean);
  const g = step(
    "z",
    [c, f],
    1,
    (v) => v.inputs[0].last / (v.inputs[1].last + 1e-9),
  );
  const h = s.processing({
    name: "signal",
    inputs: [g],
    intervalS: 60,
    period: 1,
    params: { threshold: variant * 0.01 },
    compute: (
      v,
      p,
    ) => (v.last > p.threshold ? 1 : v.last < -p.threshold ? -1 : 0),
  });
  s.processing({
    name: "position",
    inputs: [h, px],
    intervalS: 60,
    period: 1,
    params: { size: 1 + variant },
    compute: (v, p) => v.inputs[0].last * p.size * v.inputs[1].last,
  });
  return s.compile();
}

/** `n` synthetic 1-minute prices (one record array, one tags array). */
export function prices(n: number): SourceRecord<number>[] {
  const tags = ["bench", "px"];
  const out = new Array<SourceRecord<number>>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      tags,
      ts: i * 60,
      value: 100 + Math.sin(i / 50) + (i % 7) * 0.01,
    };
  }
  return out;
}

/**
 * The peer: the same ten values per bar computed by a hand-written loop over
 * plain arrays (no engine, no views, no alignment): the floor for "simple
 * numeric nodes". Returns the number of node evaluations it did.
 */
export function handLoop(px: readonly number[]): number {
  const win = (xs: number[], n: number) => {
    let t = 0;
    for (let i = xs.length - n; i < xs.length; i++) t += xs[i];
    return t / n;
  };
  const hist: number[] = [];
  const abs: number[] = [];
  let evals = 0;
  let sink = 0;
  for (let i = 0; i < px.length; i++) {
    hist.push(px[i]);
    if (hist.length > 20) hist.shift();
    let sma5 = NaN, sma20 = NaN, spread = NaN;
    if (hist.length >= 5) (sma5 = win(hist, 5), evals++);
    if (hist.length >= 20) (sma20 = win(hist, 20), evals++);
    if (hist.length >= 20) (spread = sma5 - sma20, evals++);
    if (i >= 1) {
      const ret = px[i] / px[i - 1] - 1;
      evals++;
      abs.push(Math.abs(ret));
      evals++;
      if (abs.length > 10) abs.shift();
      if (abs.length >= 10) {
        const vol = win(abs, 10);
        evals++;
        if (hist.length >= 20) {
          const z = spread / (vol + 1e-9);
          const sig = z > 0 ? 1 : z < 0 ? -1 : 0;
          sink += sig * px[i];
          evals += 3;
        }
      }
    }
  }
  if (sink === 0.123) console.log(sink); // keep the work
  return evals;
}
