/**
 * Decoding with typed errors: {@link decode} is `fromBinary` from
 * `@bufbuild/protobuf` whose failures become a {@link ContractError}
 * (`E_INVALID`) naming the message, the field path (when the bytes let it
 * be known) and the byte offset, e.g.
 * `decode StrategyDag.nodes[0].period: premature EOF at offset 5`.
 *
 * Decoding itself is protobuf-es: defaults filled, unknown fields kept in
 * `$unknown` and written back by `toBinary`. Only when it fails are the
 * bytes walked once more, by the descriptor, to say where.
 *
 * @module
 */

import {
  type BinaryReadOptions,
  type DescField,
  type DescMessage,
  fromBinary,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { ContractError } from "./errors.ts";

/**
 * Decode `bytes` as a message of `schema`. Malformed input throws a
 * {@link ContractError} (`E_INVALID`) whose message reads
 * `decode <Message>[.<field path>]: <reason> at offset <n>` and whose
 * `field` is the path (e.g. `nodes[0].period`) when it is known.
 *
 * @param schema the message descriptor, e.g. `StrategyDagSchema`
 * @param bytes the binary protobuf
 * @param options protobuf-es read options
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContractError, decode, EdgeSchema } from "@qmtl/qmtl/contracts";
 * assert.equal(decode(EdgeSchema, new Uint8Array([0x12, 0x01, 0x62])).to, "b");
 * assert.throws(
 *   () => decode(EdgeSchema, new Uint8Array([0x0a, 0x05, 0x61])),
 *   (e) => e instanceof ContractError && /^decode Edge\.from: length 5 exceeds the 1 remaining bytes at offset 0$/.test(e.message),
 * );
 * ```
 */
export function decode<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  options?: Partial<BinaryReadOptions>,
): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes, options);
  } catch (e) {
    const where = locate(schema, bytes);
    const reason = where?.reason ??
      (e instanceof Error ? e.message : String(e));
    const path = where?.path ?? "";
    const at = where === undefined ? "" : ` at offset ${where.offset}`;
    throw new ContractError(
      `decode ${schema.name}${path ? "." + path : ""}: ${reason}${at}`,
      { ...(path ? { field: path } : {}), cause: e },
    );
  }
}

interface Failure {
  path: string;
  offset: number;
  reason: string;
}

class Stop extends Error {
  constructor(readonly failure: Failure) {
    super(failure.reason);
  }
}

const byNumber = new WeakMap<DescMessage, Map<number, DescField>>();

function fieldOf(desc: DescMessage, no: number): DescField | undefined {
  let m = byNumber.get(desc);
  if (m === undefined) {
    m = new Map(desc.fields.map((f) => [f.number, f]));
    byNumber.set(desc, m);
  }
  return m.get(no);
}

/** Walk the bytes by the descriptor; the first problem found, if any. */
function locate(schema: DescMessage, bytes: Uint8Array): Failure | undefined {
  try {
    walk(schema, new BinaryReader(bytes), bytes.byteLength, "", 0);
    return undefined;
  } catch (e) {
    return e instanceof Stop ? e.failure : undefined;
  }
}

function step<T>(path: string, offset: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Stop) throw e;
    throw new Stop({
      path,
      offset,
      reason: e instanceof Error ? e.message : String(e),
    });
  }
}

function walk(
  desc: DescMessage,
  r: BinaryReader,
  end: number,
  path: string,
  depth: number,
): void {
  if (depth > 100) {
    throw new Stop({ path, offset: r.pos, reason: "nesting too deep" });
  }
  const counts = new Map<number, number>();
  while (r.pos < end) {
    const at = r.pos;
    const [no, wt] = step(path, at, () => r.tag());
    const field = fieldOf(desc, no);
    if (field === undefined) {
      step(path, at, () => r.skip(wt, no));
      continue;
    }
    let here = path ? `${path}.${field.name}` : field.name;
    if (field.fieldKind === "list") {
      const i = counts.get(no) ?? 0;
      counts.set(no, i + 1);
      here += `[${i}]`;
    }
    const nested = field.fieldKind === "message" ||
        (field.fieldKind === "list" && field.listKind === "message")
      ? field.message
      : undefined;
    if (wt !== WireType.LengthDelimited) {
      step(here, at, () => r.skip(wt, no));
      continue;
    }
    const len = step(here, at, () => r.uint32());
    if (r.pos + len > end) {
      throw new Stop({
        path: here,
        offset: at,
        reason: `length ${len} exceeds the ${end - r.pos} remaining bytes`,
      });
    }
    const stop = r.pos + len;
    if (nested !== undefined) {
      walk(nested, r, stop, here, depth + 1);
    } else if (field.fieldKind === "map") {
      walkEntry(field, r, stop, here, depth);
    } else if (
      field.fieldKind === "scalar" && field.scalar === ScalarType.STRING
    ) {
      r.pos = at;
      r.tag();
      try {
        r.string(true);
      } catch {
        throw new Stop({ path: here, offset: at, reason: "invalid UTF-8" });
      }
    }
    r.pos = stop;
  }
}

function walkEntry(
  field: DescField & { fieldKind: "map" },
  r: BinaryReader,
  end: number,
  path: string,
  depth: number,
): void {
  while (r.pos < end) {
    const at = r.pos;
    const [no, wt] = step(path, at, () => r.tag());
    if (
      no === 2 && field.mapKind === "message" && wt === WireType.LengthDelimited
    ) {
      const len = step(path, at, () => r.uint32());
      const stop = Math.min(r.pos + len, end);
      walk(field.message, r, stop, path, depth + 1);
      r.pos = stop;
      continue;
    }
    step(path, at, () => r.skip(wt, no));
  }
}
