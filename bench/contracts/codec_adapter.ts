/**
 * The one place the benchmarks touch the contracts codec. When the codec
 * changes (e.g. to protobuf-es), change these functions; the contracts
 * group and its figures stay as they are.
 *
 * @module
 */

import { toBinary } from "@bufbuild/protobuf";
import {
  decode,
  type StrategyDag,
  StrategyDagSchema,
} from "../../lib/contracts/mod.ts";

/** What results.md calls the codec under test. */
export const CODEC_NAME =
  "protobuf-es `toBinary` / lib/contracts `decode` (generated StrategyDagSchema)";

/** Binary protobuf encoding of a StrategyDag. */
export function encodeStrategyDag(dag: StrategyDag): Uint8Array {
  return toBinary(StrategyDagSchema, dag);
}

/** Decode a binary protobuf StrategyDag. */
export function decodeStrategyDag(bytes: Uint8Array): StrategyDag {
  return decode(StrategyDagSchema, bytes);
}
