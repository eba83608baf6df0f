/**
 * One runner benchmark measurement in its own process (so heap figures are
 * its own), printing one JSON line:
 *   throughput <bars>        the 10-node strategy and the hand loop
 *   sharing <n> <bars>       n variants together vs each alone
 *   memory <strategies>      heap held per distinct node
 *
 * @module
 */

import { backtest } from "../../sdk/mod.ts";
import { Engine } from "../../sdk/runner/engine.ts";
import { planRun } from "../../sdk/runner/plan.ts";
import { handLoop, prices, tenNode } from "./strategies.ts";

const [what, a, b] = Deno.args;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

if (what === "throughput") {
  const bars = Number(a);
  const src = prices(bars);
  const st = tenNode(0);
  await backtest(st, { source: prices(2_000), keep: 0 }); // warm-up
  handLoop(prices(2_000).map((r) => r.value));
  const [r, ms] = await timed(() => backtest(st, { source: src, keep: 0 }));
  const values = src.map((r) => r.value);
  const [handEvals, handMs] = await timed(() =>
    Promise.resolve(handLoop(values))
  );
  console.log(JSON.stringify({
    bars,
    nodes: r.stats.nodes,
    evaluations: r.stats.evaluations,
    ms,
    handEvals,
    handMs,
  }));
} else if (what === "sharing") {
  const n = Number(a);
  const bars = Number(b);
  const src = prices(bars);
  const variants = Array.from({ length: n }, (_, i) => tenNode(i));
  await backtest(variants, { source: prices(2_000), keep: 0 }); // warm-up
  const [shared, sharedMs] = await timed(() =>
    backtest(variants, { source: src, keep: 0 })
  );
  let aloneEvals = 0;
  let aloneMs = 0;
  for (const v of variants) {
    const [r, ms] = await timed(() => backtest(v, { source: src, keep: 0 }));
    aloneEvals += r.stats.evaluations;
    aloneMs += ms;
  }
  console.log(JSON.stringify({
    n,
    bars,
    nodes: shared.stats.nodes,
    sharedEvals: shared.stats.evaluations,
    sharedMs,
    aloneEvals,
    aloneMs,
  }));
} else if (what === "memory") {
  // Heap held by a running engine: every distinct node with its input
  // windows filled (periods up to 20), measured while the engine is alive.
  const n = Number(a);
  // Several full collections: one pass can leave garbage from compiling
  // the strategies that a later pass frees, which reads as negative growth.
  const gc = () => {
    for (let i = 0; i < 4; i++) (globalThis as { gc?: () => void }).gc?.();
  };
  const variants = Array.from({ length: n }, (_, i) => tenNode(i));
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const plan = planRun(variants);
  const engine = new Engine({});
  for (const p of plan.nodes) engine.add(p.engine);
  const px = plan.nodes[0].engine.id;
  for (let i = 0; i < 100; i++) engine.feed(px, i * 60, 100 + i);
  gc();
  const after = Deno.memoryUsage().heapUsed;
  console.log(
    JSON.stringify({ nodes: plan.nodes.length, heapBytes: after - before }),
  );
  if ([...engine.nodes()].length < 0) console.log(engine); // keep it alive until here
}
