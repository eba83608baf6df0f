/**
 * Contracts: node-ID computation on a 1,000-node DAG and binary encode /
 * decode of a 10,000-node StrategyDag (fixture: bench/contracts_fixture.ts),
 * each beside a peer doing the bare part of the same work in the same run:
 * SHA-256 of the already-canonical strings for node IDs, and
 * `JSON.stringify` / `JSON.parse` of the same DAG for the codec. The codec
 * is reached only through bench/contracts/codec_adapter.ts.
 *
 * Each operation and its peer run in alternating slices of back-to-back
 * calls, after a warm-up, for a fixed time each; the figure is the work per
 * second at the median call time ("best" = fastest call, in the detail).
 *
 * @module
 */

import {
  computeNodeId,
  nodeIdCanonical,
  nodeIdOfSpec,
  sha256Hex,
  verifyDag,
} from "../../lib/contracts/mod.ts";
import {
  CODEC_NAME,
  decodeStrategyDag,
  encodeStrategyDag,
} from "../contracts/codec_adapter.ts";
import { identities, strategyDag } from "../contracts_fixture.ts";
import { median } from "../harness/stats.ts";
import type {
  BenchGroup,
  Figure,
  GroupContext,
  GroupReport,
} from "../harness/types.ts";

interface Timing {
  /** Median ms per call. */
  medianMs: number;
  /** Fastest ms per call. */
  bestMs: number;
  /** Calls timed. */
  calls: number;
}

/**
 * Time several operations in alternating slices (about `sliceMs` of back to
 * back calls each, in turn) until each has had `totalMs`, after three
 * untimed calls of each: a figure and its peer see the same machine.
 */
function measureAlternating(
  fns: (() => void)[],
  totalMs: number,
  sliceMs: number,
): Timing[] {
  for (const fn of fns) for (let i = 0; i < 3; i++) fn();
  const times: number[][] = fns.map(() => []);
  const spent = fns.map(() => 0);
  while (spent.some((x, i) => x < totalMs || times[i].length < 3)) {
    fns.forEach((fn, i) => {
      const start = performance.now();
      do {
        const t0 = performance.now();
        fn();
        times[i].push(performance.now() - t0);
      } while (performance.now() - start < sliceMs);
      spent[i] += performance.now() - start;
    });
  }
  return times.map((t) => ({
    medianMs: median(t),
    bestMs: Math.min(...t),
    calls: t.length,
  }));
}

const perS = (count: number, ms: number) => count / (ms / 1000);
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

function run(ctx: GroupContext): Promise<GroupReport> {
  const idN = ctx.quick ? 100 : 1_000;
  const codecN = ctx.quick ? 200 : 10_000;
  const totalMs = ctx.quick ? 100 : 2_000;

  const ids = identities(idN);
  const dagIds = strategyDag(idN);
  const canonical = ids.map((n) => nodeIdCanonical(n));
  const dag = strategyDag(codecN);
  const bytes = encodeStrategyDag(dag);
  const json = new TextEncoder().encode(JSON.stringify(dag));
  const mb = bytes.length / 1e6;
  const jsonMb = json.length / 1e6;
  const n = idN.toLocaleString("en-US");
  const c = codecN.toLocaleString("en-US");

  const sliceMs = ctx.quick ? 20 : 200;
  ctx.log("contracts: node IDs");
  const [hashOnly, compute, ofSpec, verify] = measureAlternating(
    [
      () => {
        for (const s of canonical) sha256Hex(s);
      },
      () => {
        for (const x of ids) computeNodeId(x);
      },
      () => {
        for (const x of dagIds.nodes) nodeIdOfSpec(x);
      },
      () => verifyDag(dagIds),
    ],
    totalMs,
    sliceMs,
  );
  ctx.log("contracts: codec");
  const [enc, jsonEnc] = measureAlternating(
    [
      () => encodeStrategyDag(dag),
      () => new TextEncoder().encode(JSON.stringify(dag)),
    ],
    totalMs,
    sliceMs,
  );
  const [dec, jsonDec] = measureAlternating(
    [
      () => decodeStrategyDag(bytes),
      () => JSON.parse(new TextDecoder().decode(json)),
    ],
    totalMs,
    sliceMs,
  );

  const hashPeer = {
    name: `SHA-256 (hex) of the ${n} canonical strings alone`,
    value: perS(idN, hashOnly.medianMs),
  };
  const detail = (t: Timing, count: number, unit: string) =>
    `best ${fmt(perS(count, t.bestMs))} ${unit}; ${t.calls} timed calls of ${
      t.medianMs.toFixed(2)
    } ms (median)`;
  const idTarget = (v: number) => ({
    text: "≥ 200,000 IDs/s",
    met: v >= 200_000,
  });
  const vCompute = perS(idN, compute.medianMs);
  const vSpec = perS(idN, ofSpec.medianMs);
  /** The protobuf codec's `verb` of the DAG against JSON's (`peer`) doing the same. */
  const codecFigure = (
    verb: string,
    t: Timing,
    peer: string,
    json: Timing,
  ): Figure => ({
    name: `${verb} StrategyDag, ${c} nodes (${mb.toFixed(2)} MB)`,
    value: perS(mb, t.medianMs),
    unit: "MB/s",
    peer: {
      name: `${peer} of the same DAG (${jsonMb.toFixed(2)} MB)`,
      value: perS(jsonMb, json.medianMs),
    },
    ratio: json.medianMs / t.medianMs,
    ratioNote: "the speed of JSON (per DAG)",
    detail: `${t.medianMs.toFixed(1)} ms per DAG (JSON ${
      json.medianMs.toFixed(1)
    } ms); ${detail(t, mb, "MB/s")}`,
  });
  const figures: Figure[] = [
    {
      name: `computeNodeId, ${n}-node DAG (params objects)`,
      value: vCompute,
      unit: "IDs/s",
      peer: hashPeer,
      ratioNote: "of hashing alone",
      target: idTarget(vCompute),
      detail: detail(compute, idN, "IDs/s"),
    },
    {
      name: `nodeIdOfSpec, ${n} nodes (paramsJson checked)`,
      value: vSpec,
      unit: "IDs/s",
      peer: hashPeer,
      ratioNote: "of hashing alone",
      detail: detail(ofSpec, idN, "IDs/s"),
    },
    {
      name: `verifyDag, ${n}-node DAG`,
      value: perS(idN, verify.medianMs),
      unit: "nodes/s",
      detail: detail(verify, idN, "nodes/s"),
    },
    codecFigure("encode", enc, "JSON.stringify + UTF-8", jsonEnc),
    codecFigure("decode", dec, "UTF-8 + JSON.parse", jsonDec),
  ];
  return Promise.resolve({
    figures,
    notes: [
      `Codec under test: ${CODEC_NAME} (bench/contracts/codec_adapter.ts). MB are the protobuf bytes; the JSON peer's MB/s is of its own (larger) text, so the ratio compares time per DAG.`,
      `Each operation runs ${totalMs} ms in total, in ${sliceMs} ms slices of back-to-back calls alternated with its peer (node IDs: hashing, computeNodeId, nodeIdOfSpec, verifyDag in turn), after 3 untimed calls, in the bench process; figures at the median call time.`,
      "Node-ID peer: `sha256Hex` of the canonical strings computed beforehand, i.e. the cost of canonicalisation is what separates the figure from its peer.",
    ],
  });
}

/** The contracts group. */
export const contractsGroup: BenchGroup = {
  name: "contracts",
  title: "Contracts: node IDs and the StrategyDag codec",
  description:
    "Node-ID computation on a 1,000-node DAG and binary encode/decode of a 10,000-node StrategyDag, in process.",
  needs: [],
  run,
};
