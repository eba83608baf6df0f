/**
 * The QMTL runner: computes strategies' nodes — each distinct node once —
 * in backtests over recorded data (and, live, on topics).
 *
 * A compute function is `compute(view, params) => value | undefined`: the
 * view holds each input's last `period` values aligned to the node's interval
 * (see {@link NodeView}); `params` are the node's declared params. The firing
 * rule (warm-up, late and duplicate bars) is documented in `engine.ts` and
 * docs/runner.md.
 *
 * @example
 * ```ts
 * import { backtest } from "@qmtl/qmtl/sdk";
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 *
 * const s = new StrategyBuilder("momentum");
 * const px = s.streamInput({ name: "px", tags: ["btc", "close"], intervalS: 60, period: 1 });
 * s.processing({
 *   name: "change", inputs: [px], intervalS: 60, period: 2,
 *   compute: (v) => v.last - v.at(0),
 * });
 * const source = [10, 11, 13].map((value, i) => ({ tags: ["btc", "close"], ts: 60 * i, value }));
 * const result = await backtest(s, { source });
 * assert.deepEqual(result.strategies[0].nodes.change.values, [1, 2]);
 * ```
 *
 * @module
 */

export type { ComputeFn, InputWindow, NodeView } from "./view.ts";
export { barTime } from "./view.ts";
export { ComputeError, type NodeStats } from "./engine.ts";
export {
  backtest,
  type BacktestOptions,
  type BacktestResult,
  type BacktestStats,
  type NodeOutput,
  type NodeSeries,
  outputsDigest,
  type StrategyResult,
} from "./backtest.ts";
export {
  type Bar,
  type BarRecord,
  decodeBar,
  encodeBar,
  fromBarRecord,
  toBarRecord,
} from "./records.ts";
export {
  readSource,
  type Source,
  SourceError,
  type SourceRecord,
  type TimeBound,
  toSeconds,
} from "./sources.ts";
export {
  type CsvInput,
  csvSource,
  type CsvSourceOptions,
} from "./csv_source.ts";
export { matchTagQuery, type Runnable, tagKey } from "./plan.ts";
export {
  live,
  type LiveClient,
  type LiveEvent,
  type LiveNodeStats,
  type LiveOptions,
  type LiveOutput,
  type LiveRole,
  type LiveRun,
  type TagMatch,
} from "./live.ts";
export {
  LeaseLostError,
  type LeaseOutcome,
  storeTopicIO,
  type TopicBatch,
  type TopicIO,
} from "./topic_io.ts";
