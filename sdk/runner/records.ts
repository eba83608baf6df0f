/**
 * Bar values on the wire: a node output becomes a `qmtl.v1.BarRecord`
 * (protobuf). Numbers, booleans and strings travel as such; any other JSON
 * value (object, array, null) as RFC 8785 canonical JSON, so equal values
 * always encode to equal bytes — the basis of byte-identical backtests.
 *
 * @module
 */

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type BarRecord,
  BarRecordSchema,
} from "../../lib/contracts/gen/qmtl/v1/topic_pb.ts";
import { canonicalJson, ContractError } from "../contracts.ts";

export type { BarRecord };

/**
 * A bar as the runner handles it: bar time and decoded value.
 *
 * @example
 * ```ts
 * import type { Bar } from "@qmtl/qmtl/sdk";
 * const b: Bar = { barTs: 1_700_000_040, value: 42.5 };
 * ```
 */
export interface Bar {
  /** Bar time, seconds since the epoch. */
  barTs: number;
  /** The value: a number, boolean, string or other JSON value. */
  value: unknown;
}

/**
 * The `BarRecord` message of a bar. Throws a `ContractError` for a value
 * that is not JSON (a function, a symbol, a bigint, `undefined`, or a
 * non-finite number inside an object).
 *
 * @param bar the bar
 * @returns the message
 * @example
 * ```ts
 * import { toBarRecord } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toBarRecord({ barTs: 60, value: 1.5 }).value, { case: "number", value: 1.5 });
 * assert.equal(toBarRecord({ barTs: 60, value: { b: 1, a: [true] } }).value.value, '{"a":[true],"b":1}');
 * ```
 */
export function toBarRecord(bar: Bar): BarRecord {
  const v = bar.value;
  let value: BarRecord["value"];
  switch (typeof v) {
    case "number":
      value = { case: "number", value: v };
      break;
    case "boolean":
      value = { case: "flag", value: v };
      break;
    case "string":
      value = { case: "text", value: v };
      break;
    case "object":
      value = { case: "json", value: canonicalJson(v, "value") };
      break;
    default:
      throw new ContractError(
        `a bar value must be a number, boolean, string or JSON value, got ${typeof v}`,
        { field: "value" },
      );
  }
  return create(BarRecordSchema, { barTs: bar.barTs, value });
}

/**
 * The bar of a `BarRecord` message.
 *
 * @param record the message
 * @returns the bar; a record without a value decodes to `null`
 * @example
 * ```ts
 * import { fromBarRecord, toBarRecord } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * const bar = { barTs: 120, value: [1, "x", null] };
 * assert.deepEqual(fromBarRecord(toBarRecord(bar)), bar);
 * ```
 */
export function fromBarRecord(record: BarRecord): Bar {
  const v = record.value;
  return {
    barTs: record.barTs,
    value: v.case === "json"
      ? JSON.parse(v.value)
      : v.case === undefined
      ? null
      : v.value,
  };
}

/**
 * Encode a bar as `BarRecord` bytes.
 *
 * @param bar the bar
 * @returns protobuf bytes
 * @example
 * ```ts
 * import { decodeBar, encodeBar } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * assert.deepEqual(decodeBar(encodeBar({ barTs: 60, value: true })), { barTs: 60, value: true });
 * ```
 */
export function encodeBar(bar: Bar): Uint8Array {
  return toBinary(BarRecordSchema, toBarRecord(bar));
}

/**
 * Decode `BarRecord` bytes. Throws a `ContractError` for bytes that are not
 * a `BarRecord`.
 *
 * @param bytes protobuf bytes
 * @returns the bar
 * @example
 * ```ts
 * import { decodeBar } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * assert.throws(() => decodeBar(new Uint8Array([0xff, 0xff])));
 * ```
 */
export function decodeBar(bytes: Uint8Array): Bar {
  let record: BarRecord;
  try {
    record = fromBinary(BarRecordSchema, bytes);
  } catch (e) {
    throw new ContractError(
      `malformed qmtl.v1.BarRecord: ${(e as Error).message}`,
      { field: "bars" },
    );
  }
  return fromBarRecord(record);
}
