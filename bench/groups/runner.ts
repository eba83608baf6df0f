/**
 * Runner: backtest throughput of a 10-node strategy of simple numeric nodes
 * (peer: the same ten values per bar from a hand-written loop), compute saved
 * by sharing an indicator chain between N = 1, 4, 16 strategies (peer: each
 * strategy backtested alone), heap held per node, and — on Redis — the live
 * latency from a bar published on an input topic to the downstream signal's
 * output being readable (peer: the bare topic hop, published and read with no
 * runner in between).
 *
 * Backtests run in child processes (`bench/runner/backtest_child.ts`), one
 * measurement each, so heap figures are their own. The live runner is its own
 * process (`bench/runner/live_child.ts`); the bench process publishes and
 * reads.
 *
 * @module
 */

import { RedisTopicStore } from "../../lib/queue/mod.ts";
import { encodeBar } from "../../sdk/mod.ts";
import { chainQueueMap } from "../runner/live_strategy.ts";
import { spawnLogged } from "../harness/process.ts";
import { percentile } from "../harness/stats.ts";
import type {
  BenchGroup,
  Figure,
  GroupContext,
  GroupReport,
} from "../harness/types.ts";

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

async function child(
  ctx: GroupContext,
  ...args: string[]
): Promise<Record<string, number>> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL("bench/runner/backtest_child.ts", ctx.root).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout).trim().split("\n").at(-1) ??
    "";
  if (!r.success) {
    throw new Error(
      `backtest_child ${args.join(" ")}: ${
        new TextDecoder().decode(r.stderr).slice(0, 400)
      }`,
    );
  }
  return JSON.parse(out);
}

async function backtests(ctx: GroupContext): Promise<Figure[]> {
  const bars = ctx.quick ? 20_000 : 1_000_000;
  ctx.log(`runner: throughput over ${fmt(bars)} bars`);
  const t = await child(ctx, "throughput", String(bars));
  const evalsPerS = t.evaluations / (t.ms / 1000);
  const handPerS = t.handEvals / (t.handMs / 1000);
  const figures: Figure[] = [{
    name: `backtest, 10-node strategy, ${fmt(bars)} bars (one core)`,
    value: evalsPerS,
    unit: "evaluations/s",
    peer: {
      name: "the same ten values per bar from a hand-written loop",
      value: handPerS,
    },
    ratioNote: "of the hand loop",
    target: { text: "≥ 1,000,000 evaluations/s", met: evalsPerS >= 1_000_000 },
    detail: `${fmt(t.evaluations)} evaluations in ${fmt(t.ms)} ms (hand loop ${
      fmt(t.handMs)
    } ms)`,
  }];
  const sizes = ctx.quick ? [1, 4] : [1, 4, 16];
  const shareBars = ctx.quick ? 2_000 : 100_000;
  for (const n of sizes) {
    ctx.log(`runner: sharing, N = ${n}`);
    const s = await child(ctx, "sharing", String(n), String(shareBars));
    figures.push({
      name: `sharing: ${n} strategies on one indicator chain, ${
        fmt(shareBars)
      } bars`,
      value: s.sharedMs,
      unit: "ms",
      peer: {
        name: `each of the ${n} strategies backtested alone`,
        value: s.aloneMs,
      },
      ratioNote: "of the time alone",
      detail: `${fmt(s.sharedEvals)} evaluations shared vs ${
        fmt(s.aloneEvals)
      } alone (${
        (100 * (1 - s.sharedEvals / s.aloneEvals)).toFixed(1)
      } % saved); ${s.nodes} distinct nodes`,
    });
  }
  // Enough nodes even in --quick that heap noise (tens of KB) stays small.
  const strategies = ctx.quick ? 200 : 1_000;
  ctx.log(`runner: memory, ${strategies} strategies`);
  const m = await child(ctx, "memory", String(strategies));
  figures.push({
    name: `heap held per node (${fmt(m.nodes)} distinct nodes, windows full)`,
    value: m.heapBytes / m.nodes,
    unit: "bytes/node",
    detail: `${fmt(m.heapBytes)} bytes of heap for ${
      fmt(m.nodes)
    } nodes (V8 heapUsed after GC, engine alive)`,
  });
  return figures;
}

async function liveLatency(ctx: GroupContext): Promise<Figure[]> {
  const url = ctx.services.redisUrl!;
  const keyPrefix = `{qmtl:bench:live:${crypto.randomUUID().slice(0, 8)}}`;
  const topicPrefix = "lat";
  const store = new RedisTopicStore({ url, keyPrefix });
  const reader = new RedisTopicStore({ url, keyPrefix });
  const map = chainQueueMap(topicPrefix);
  const topics = Object.values(map);
  const px = `${topicPrefix}_px`;
  const signal = `${topicPrefix}_signal`;
  const bare = `${topicPrefix}_bare`;
  for (const t of [...topics, bare]) await store.create(t);
  const log = `${ctx.tmpDir}/live_child.log`;
  const runner = spawnLogged(
    [
      Deno.execPath(),
      "run",
      "-A",
      new URL("bench/runner/live_child.ts", ctx.root).pathname,
      keyPrefix,
      topicPrefix,
    ],
    { env: { ...Deno.env.toObject(), QMTL_REDIS_URL: url }, logFile: log },
  );
  try {
    const deadline = Date.now() + 30_000;
    while (!(await Deno.readTextFile(log).catch(() => "")).includes("ready")) {
      if (Date.now() > deadline) throw new Error("live runner did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
    const n = ctx.quick ? 30 : 500;
    const warm = 5;
    /** Publish bar i on `input`, time until `output` has bar i. */
    const measure = async (
      input: string,
      output: string,
      bars: number,
    ): Promise<number[]> => {
      const lat: number[] = [];
      let after = -1;
      // Two bars first: with the first measured one they fill the SMA(3).
      for (let i = 0; i < 2; i++) {
        await store.append(input, [{
          barTs: 998 + i,
          data: encodeBar({ barTs: 998 + i, value: 100 }),
        }]);
      }
      for (let i = 0; i < bars; i++) {
        const t0 = performance.now();
        await store.append(input, [{
          barTs: 1_000 + i,
          data: encodeBar({ barTs: 1_000 + i, value: 100 + (i % 5) }),
        }]);
        while (true) {
          const got = await reader.readMany([{
            topic: output,
            afterBarTs: after,
          }], { waitMs: 2_000 });
          const bar = got[0]?.bars.find((b) => b.barTs === 1_000 + i);
          if (got[0]) after = got[0].bars.at(-1)!.barTs;
          if (bar) break;
          if (performance.now() - t0 > 5_000) {
            throw new Error(`bar ${i} never reached ${output}`);
          }
        }
        if (i >= warm) lat.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 5));
      }
      return lat;
    };
    ctx.log(`runner: live latency, ${n} bars`);
    const hops = await measure(px, signal, n);
    const floor = await measure(bare, bare, n);
    const p50 = percentile(hops, 50);
    const p95 = percentile(hops, 95);
    return [{
      name: "live: bar on the input topic → downstream signal readable (p95)",
      value: p95,
      unit: "ms",
      peer: {
        name:
          "the bare topic hop (append, then read by another connection), p95",
        value: percentile(floor, 95),
      },
      ratioNote: "the bare hop",
      target: { text: "p95 ≤ 10 ms", met: p95 <= 10 },
      detail: `p50 ${p50.toFixed(2)} ms, p99 ${
        percentile(hops, 99).toFixed(2)
      } ms over ${hops.length} bars (px → sma3 → signal, runner in its own process, RedisTopicStore; bare hop p50 ${
        percentile(floor, 50).toFixed(2)
      } ms)`,
    }];
  } finally {
    await runner.stop();
    await store.close();
    await reader.close();
  }
}

/** Backtests (no services). */
export const runnerGroup: BenchGroup = {
  name: "runner",
  title: "Runner: backtest throughput, sharing, memory",
  description:
    "Evaluations/s of a 10-node strategy over recorded bars vs a hand-written loop; compute saved when 1, 4, 16 strategies share an indicator chain vs running them separately; heap held per node.",
  needs: [],
  async run(ctx): Promise<GroupReport> {
    return {
      figures: await backtests(ctx),
      notes: [
        "Each measurement runs in its own `deno run` process (bench/runner/backtest_child.ts), after a warm-up backtest; keep: 0 (outputs not kept).",
        "The hand loop computes the same node values per bar over plain arrays: the floor for simple numeric nodes, not a competing product.",
      ],
    };
  },
};

/** Live latency (Redis). */
export const liveGroup: BenchGroup = {
  name: "live",
  title: "Runner: live latency through Redis",
  description:
    "A bar published on an input topic → the downstream signal's output readable, through a live runner process on Redis (Sentinel), vs the bare topic hop.",
  needs: ["redisUrl"],
  async run(ctx): Promise<GroupReport> {
    return {
      figures: await liveLatency(ctx),
      notes: [
        "Runner: bench/runner/live_child.ts (its own process), px → sma3 → signal, 1 s bars, on RedisTopicStore with the server's defaults (WAIT 1 under Sentinel). The bench process appends each bar and long-polls the signal topic on a second connection; one bar every 5 ms after the previous one is read; the first 5 bars are not counted.",
        "Through the Gateway (the SDK's topic calls) adds one HTTP hop per publish and per read on top of this.",
      ],
    };
  },
};
