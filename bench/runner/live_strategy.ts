/**
 * The strategy of the live-latency benchmark: px → sma3 → signal.
 *
 * @module
 */

import {
  type NodeView,
  type Strategy,
  StrategyBuilder,
} from "../../sdk/mod.ts";

/** px → sma3 → signal. */
export function chain(): Strategy {
  const s = new StrategyBuilder("latency");
  const px = s.streamInput({
    name: "px",
    tags: ["bench", "latency"],
    intervalS: 1,
    period: 1,
  });
  const sma = s.processing({
    name: "sma3",
    inputs: [px],
    intervalS: 1,
    period: 3,
    compute: (v: NodeView<number>) => (v.at(0)! + v.at(1)! + v.at(2)!) / 3,
  });
  s.processing({
    name: "signal",
    inputs: [sma, px],
    intervalS: 1,
    period: 1,
    compute: (v) => Math.sign(v.inputs[1].last - v.inputs[0].last),
  });
  return s.compile();
}

/** Node ID → topic for a topic prefix. */
export function chainQueueMap(prefix: string): Record<string, string> {
  return Object.fromEntries(
    chain().nodes.map((n) => [n.spec.nodeId, `${prefix}_${n.spec.name}`]),
  );
}
