/**
 * Binary protobuf codec for every `qmtl.v1` message, typed against
 * `types.ts`, plus proto3-JSON helpers for the debug/REST side.
 *
 * - `decode` fills every default (`""`, `0`, `false`, empty arrays, empty
 *   maps, empty `Uint8Array`), converts int64 to `number` (rejecting values
 *   outside the safe-integer range), keeps enums numeric (unknown enum values
 *   are kept as numbers), sets an absent optional message (`error`) to
 *   `undefined`, and fills an absent non-optional message with its defaults.
 * - Malformed input (truncation, bad wire type, invalid UTF-8, oversize
 *   varint, field number 0, groups) throws a {@link ContractError} (`E_INVALID`)
 *   naming the message type, the field path and the byte offset.
 * - `encode` validates types (throws {@link ContractError} naming the field
 *   path, e.g. `nodes[3].interval_s`), writes fields in field-number order,
 *   omits proto3 default values and sorts map entries by key, so encoding is
 *   deterministic.
 * - Unknown fields (from a newer minor version) are kept through
 *   decode → encode: their raw bytes are stored on the decoded object under
 *   the non-enumerable {@link UNKNOWN_FIELDS} symbol and appended on encode.
 *   (A spread copy `{...msg}` drops them; unknown fields inside map entries
 *   are not kept.)
 *
 * @module
 */

import type protobuf from "protobufjs/light";
import { ContractError } from "./errors.ts";
import { PACKAGE_PREFIX, protoRoot } from "./descriptor.ts";
import type {
  DiffResult,
  Edge,
  ErrorDetail,
  Event,
  GetStrategyRequest,
  ListNodesRequest,
  ListNodesResponse,
  NodeRecord,
  NodeSpec,
  QueryNodesByTagsRequest,
  QueueJob,
  RetireStrategyRequest,
  SchemaVersion,
  StrategyDag,
  StrategyStatus,
  SubmitStrategyRequest,
  SubmitStrategyResponse,
  TopicDescriptor,
} from "./types.ts";

/**
 * Message name → TypeScript shape, for every top-level `qmtl.v1` message.
 *
 * @example
 * ```ts
 * import type { MessageTypes } from "./codec.ts";
 * type Dag = MessageTypes["StrategyDag"];
 * ```
 */
export interface MessageTypes {
  /** `qmtl.v1.NodeSpec` */
  NodeSpec: NodeSpec;
  /** `qmtl.v1.Edge` */
  Edge: Edge;
  /** `qmtl.v1.NodeRecord` */
  NodeRecord: NodeRecord;
  /** `qmtl.v1.TopicDescriptor` */
  TopicDescriptor: TopicDescriptor;
  /** `qmtl.v1.StrategyDag` */
  StrategyDag: StrategyDag;
  /** `qmtl.v1.StrategyStatus` */
  StrategyStatus: StrategyStatus;
  /** `qmtl.v1.DiffResult` */
  DiffResult: DiffResult;
  /** `qmtl.v1.QueueJob` */
  QueueJob: QueueJob;
  /** `qmtl.v1.Event` */
  Event: Event;
  /** `qmtl.v1.ErrorDetail` */
  ErrorDetail: ErrorDetail;
  /** `qmtl.v1.SchemaVersion` */
  SchemaVersion: SchemaVersion;
  /** `qmtl.v1.SubmitStrategyRequest` */
  SubmitStrategyRequest: SubmitStrategyRequest;
  /** `qmtl.v1.SubmitStrategyResponse` */
  SubmitStrategyResponse: SubmitStrategyResponse;
  /** `qmtl.v1.GetStrategyRequest` */
  GetStrategyRequest: GetStrategyRequest;
  /** `qmtl.v1.RetireStrategyRequest` */
  RetireStrategyRequest: RetireStrategyRequest;
  /** `qmtl.v1.ListNodesRequest` */
  ListNodesRequest: ListNodesRequest;
  /** `qmtl.v1.ListNodesResponse` */
  ListNodesResponse: ListNodesResponse;
  /** `qmtl.v1.QueryNodesByTagsRequest` */
  QueryNodesByTagsRequest: QueryNodesByTagsRequest;
}

/**
 * Name of a top-level `qmtl.v1` message (without the package prefix).
 *
 * @example
 * ```ts
 * import type { MessageName } from "./codec.ts";
 * const n: MessageName = "NodeSpec";
 * ```
 */
export type MessageName = keyof MessageTypes;

/**
 * Every message name, in proto declaration order.
 *
 * @example
 * ```ts
 * import { MESSAGE_NAMES } from "./codec.ts";
 * MESSAGE_NAMES.includes("StrategyDag"); // true
 * ```
 */
export const MESSAGE_NAMES: readonly MessageName[] = Object.freeze([
  "NodeSpec",
  "Edge",
  "NodeRecord",
  "TopicDescriptor",
  "StrategyDag",
  "StrategyStatus",
  "DiffResult",
  "QueueJob",
  "Event",
  "ErrorDetail",
  "SchemaVersion",
  "SubmitStrategyRequest",
  "SubmitStrategyResponse",
  "GetStrategyRequest",
  "RetireStrategyRequest",
  "ListNodesRequest",
  "ListNodesResponse",
  "QueryNodesByTagsRequest",
] as MessageName[]);

/**
 * Symbol under which a decoded message keeps the raw bytes of fields its
 * schema does not know (non-enumerable; appended again by `encode`).
 *
 * @example
 * ```ts
 * import { decode, UNKNOWN_FIELDS } from "./codec.ts";
 * const msg = decode("Edge", new Uint8Array([0x18, 0x01]));
 * (msg as unknown as Record<symbol, Uint8Array>)[UNKNOWN_FIELDS]; // Uint8Array [0x18, 0x01]
 * ```
 */
export const UNKNOWN_FIELDS: unique symbol = Symbol.for(
  "qmtl.contracts.unknownFields",
);

// ---------------------------------------------------------------------------
// Plans: per-message field tables compiled once from the reflection root.

const K_STRING = 0;
const K_BYTES = 1;
const K_BOOL = 2;
const K_UINT32 = 3;
const K_INT64 = 4;
const K_ENUM = 5;
const K_MESSAGE = 6;
const K_MAP = 7;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

const KIND_NAMES = [
  "string",
  "bytes",
  "bool",
  "uint32",
  "int64",
  "enum",
  "message",
  "map",
];

interface FieldPlan {
  id: number;
  proto: string;
  name: string;
  kind: number;
  repeated: boolean;
  optional: boolean;
  tag: number;
  wireType: number;
  msg?: MessagePlan;
  enumNames?: Map<number, string>;
  enumValues?: Map<string, number>;
}

interface MessagePlan {
  name: string;
  fields: FieldPlan[];
  byId: (FieldPlan | undefined)[];
  byJsonName: Map<string, FieldPlan>;
}

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

const plans = new Map<string, MessagePlan>();

function compile(type: protobuf.Type): MessagePlan {
  const existing = plans.get(type.name);
  if (existing) return existing;
  const p: MessagePlan = {
    name: type.name,
    fields: [],
    byId: [],
    byJsonName: new Map(),
  };
  plans.set(type.name, p);
  const fields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
  for (const f of fields) {
    const where = `${type.name}.${f.name}`;
    let kind: number;
    let msg: MessagePlan | undefined;
    let enumNames: Map<number, string> | undefined;
    let enumValues: Map<string, number> | undefined;
    const resolved = f.resolvedType;
    if (f.map) {
      const mf = f as unknown as protobuf.MapField;
      if (mf.keyType !== "string" || mf.type !== "string") {
        throw new Error(`${where}: only map<string, string> is supported`);
      }
      kind = K_MAP;
    } else if (resolved && "fieldsArray" in resolved) {
      kind = K_MESSAGE;
      msg = compile(resolved as protobuf.Type);
    } else if (resolved) {
      kind = K_ENUM;
      const values = (resolved as protobuf.Enum).values;
      enumValues = new Map(Object.entries(values));
      enumNames = new Map(Object.entries(values).map(([k, v]) => [v, k]));
    } else {
      kind = KIND_NAMES.indexOf(f.type);
      if (kind < 0 || kind > K_INT64) {
        throw new Error(`${where}: unsupported field type ${f.type}`);
      }
    }
    if (
      f.repeated && kind !== K_STRING && kind !== K_MESSAGE && kind !== K_MAP
    ) {
      throw new Error(`${where}: only repeated string/message are supported`);
    }
    const wireType = kind === K_BOOL || kind === K_UINT32 || kind === K_INT64 ||
        kind === K_ENUM
      ? WIRE_VARINT
      : WIRE_LEN;
    const plan: FieldPlan = {
      id: f.id,
      proto: f.name,
      name: camel(f.name),
      kind,
      repeated: f.repeated && !f.map,
      optional: f.options?.proto3_optional === true,
      tag: (f.id << 3 | wireType) >>> 0,
      wireType,
      msg,
      enumNames,
      enumValues,
    };
    p.fields.push(plan);
    p.byId[f.id] = plan;
    p.byJsonName.set(plan.name, plan);
    p.byJsonName.set(plan.proto, plan);
  }
  return p;
}

function plan(name: string): MessagePlan {
  const p = plans.get(name);
  if (p && p.fields.length > 0) return p;
  if (!(MESSAGE_NAMES as readonly string[]).includes(name)) {
    throw new ContractError(`unknown message type ${JSON.stringify(name)}`);
  }
  return compile(protoRoot().lookupType(PACKAGE_PREFIX + name));
}

function createObject(p: MessagePlan): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of p.fields) {
    if (f.repeated) o[f.name] = [];
    else {
      switch (f.kind) {
        case K_STRING:
          o[f.name] = "";
          break;
        case K_BYTES:
          o[f.name] = new Uint8Array(0);
          break;
        case K_BOOL:
          o[f.name] = false;
          break;
        case K_MAP:
          o[f.name] = {};
          break;
        case K_MESSAGE:
          o[f.name] = f.optional ? undefined : createObject(f.msg!);
          break;
        default:
          o[f.name] = 0;
      }
    }
  }
  return o;
}

/**
 * A message with every field at its default, optionally overridden by
 * `init` (a shallow merge).
 *
 * @example
 * ```ts
 * import { create } from "./codec.ts";
 * const dag = create("StrategyDag", { name: "demo" });
 * dag.nodes; // []
 * ```
 */
export function create<N extends MessageName>(
  name: N,
  init?: Partial<MessageTypes[N]>,
): MessageTypes[N] {
  const o = createObject(plan(name));
  if (init) Object.assign(o, init);
  return o as unknown as MessageTypes[N];
}

/**
 * The raw bytes of the unknown fields kept on a decoded message, if any.
 *
 * @example
 * ```ts
 * import { decode, unknownFields } from "./codec.ts";
 * unknownFields(decode("Edge", new Uint8Array([0x18, 0x01]))); // Uint8Array [0x18, 0x01]
 * ```
 */
export function unknownFields(message: object): Uint8Array | undefined {
  const u = (message as Record<symbol, unknown>)[UNKNOWN_FIELDS];
  return u instanceof Uint8Array && u.length > 0 ? u : undefined;
}

function setUnknown(target: object, bytes: Uint8Array): void {
  const prev = unknownFields(target);
  let value = bytes;
  if (prev) {
    value = new Uint8Array(prev.length + bytes.length);
    value.set(prev);
    value.set(bytes, prev.length);
  }
  Object.defineProperty(target, UNKNOWN_FIELDS, {
    value,
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

// ---------------------------------------------------------------------------
// Errors with a field path, converted to ContractError at the API boundary.

class PathError extends Error {
  path: string[];
  offset: number;
  constructor(reason: string, offset = -1) {
    super(reason);
    this.path = [];
    this.offset = offset;
  }
}

function toContractError(
  type: string,
  op: "decode" | "encode" | "fromJson",
  e: unknown,
): ContractError {
  if (e instanceof ContractError) return e;
  if (e instanceof PathError) {
    const field = e.path.join(".").replaceAll(".[", "[");
    const at = e.offset >= 0 ? ` at offset ${e.offset}` : "";
    return new ContractError(
      `${op} ${type}${field ? "." + field : ""}: ${e.message}${at}`,
      field ? { field } : {},
    );
  }
  return new ContractError(`${op} ${type}: ${String(e)}`, { cause: e });
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") {
    return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  }
  if (typeof v === "number" || typeof v === "boolean") {
    return `${typeof v} ${v}`;
  }
  if (Array.isArray(v)) return "array";
  return typeof v;
}

// ---------------------------------------------------------------------------
// Decoding.

const utf8Fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const charBuf: number[] = [];

interface Reader {
  buf: Uint8Array;
  pos: number;
  lo: number;
  hi: number;
}

function readVarint(r: Reader, end: number): void {
  const buf = r.buf;
  let p = r.pos;
  const start = p;
  let lo = 0;
  let hi = 0;
  let b: number;
  for (let shift = 0; shift < 28; shift += 7) {
    if (p >= end) throw new PathError("truncated varint", start);
    b = buf[p++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.lo = lo >>> 0;
      r.hi = 0;
      r.pos = p;
      return;
    }
  }
  if (p >= end) throw new PathError("truncated varint", start);
  b = buf[p++];
  lo |= (b & 0x7f) << 28;
  hi = (b & 0x7f) >>> 4;
  if (b < 0x80) {
    r.lo = lo >>> 0;
    r.hi = hi;
    r.pos = p;
    return;
  }
  for (let shift = 3; shift < 32; shift += 7) {
    if (p >= end) throw new PathError("truncated varint", start);
    b = buf[p++];
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.lo = lo >>> 0;
      r.hi = hi >>> 0;
      r.pos = p;
      return;
    }
  }
  throw new PathError("varint longer than 10 bytes", start);
}

function readLength(r: Reader, end: number): number {
  const at = r.pos;
  readVarint(r, end);
  if (r.hi !== 0 || r.lo > end - r.pos) {
    throw new PathError(
      `truncated: length ${r.hi !== 0 ? "> 2^32" : r.lo} exceeds the ${
        end - r.pos
      } remaining bytes`,
      at,
    );
  }
  return r.lo;
}

function readString(r: Reader, end: number): string {
  const at = r.pos;
  const len = readLength(r, end);
  const buf = r.buf;
  const start = r.pos;
  const stop = start + len;
  r.pos = stop;
  if (len <= 256) {
    // ASCII fast path: copy into a reused array, one fromCharCode call.
    const chars = charBuf;
    chars.length = len;
    let or = 0;
    for (let i = 0; i < len; i++) {
      const b = buf[start + i];
      or |= b;
      chars[i] = b;
    }
    if (or < 0x80) return String.fromCharCode.apply(null, chars);
  }
  try {
    return utf8Fatal.decode(buf.subarray(start, stop));
  } catch {
    throw new PathError("invalid UTF-8 in string", at);
  }
}

function skipField(r: Reader, wireType: number, end: number, at: number): void {
  switch (wireType) {
    case 0:
      readVarint(r, end);
      return;
    case 1:
      if (end - r.pos < 8) throw new PathError("truncated fixed64", at);
      r.pos += 8;
      return;
    case 2: {
      const len = readLength(r, end);
      r.pos += len;
      return;
    }
    case 5:
      if (end - r.pos < 4) throw new PathError("truncated fixed32", at);
      r.pos += 4;
      return;
    case 3:
    case 4:
      throw new PathError("groups (wire types 3/4) are not supported", at);
    default:
      throw new PathError(`invalid wire type ${wireType}`, at);
  }
}

function readTag(r: Reader, end: number): number {
  const at = r.pos;
  const b = r.buf[at];
  if (b < 0x80) {
    r.pos = at + 1;
    if (b < 8) throw new PathError("invalid field number 0", at);
    return b;
  }
  readVarint(r, end);
  if (r.hi !== 0) throw new PathError("tag larger than 32 bits", at);
  if (r.lo >>> 3 === 0) throw new PathError("invalid field number 0", at);
  return r.lo;
}

function decodeMapEntry(
  r: Reader,
  end: number,
  target: Record<string, string>,
): void {
  let key = "";
  let value = "";
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end);
    const id = tag >>> 3;
    const wt = tag & 7;
    if (id === 1 || id === 2) {
      if (wt !== WIRE_LEN) {
        throw new PathError(
          `wire type ${wt} for map ${id === 1 ? "key" : "value"} (expected 2)`,
          at,
        );
      }
      const s = readString(r, end);
      if (id === 1) key = s;
      else value = s;
    } else {
      skipField(r, wt, end, at);
    }
  }
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

function decodeMessage(
  r: Reader,
  p: MessagePlan,
  end: number,
  target?: Record<string, unknown>,
): Record<string, unknown> {
  const obj = target ?? createObject(p);
  let unknown: number[] | undefined;
  const byId = p.byId;
  while (r.pos < end) {
    const at = r.pos;
    const tag = readTag(r, end);
    const f = byId[tag >>> 3];
    const wt = tag & 7;
    if (f === undefined) {
      skipField(r, wt, end, at);
      (unknown ??= []).push(at, r.pos);
      continue;
    }
    try {
      if (wt !== f.wireType) {
        throw new PathError(
          `wire type ${wt} does not match ${
            KIND_NAMES[f.kind]
          } (expected ${f.wireType})`,
          at,
        );
      }
      switch (f.kind) {
        case K_STRING: {
          const s = readString(r, end);
          if (f.repeated) (obj[f.name] as string[]).push(s);
          else obj[f.name] = s;
          break;
        }
        case K_BYTES: {
          const len = readLength(r, end);
          obj[f.name] = r.buf.slice(r.pos, r.pos + len);
          r.pos += len;
          break;
        }
        case K_BOOL:
          readVarint(r, end);
          obj[f.name] = (r.lo | r.hi) !== 0;
          break;
        case K_UINT32:
          readVarint(r, end);
          obj[f.name] = r.lo;
          break;
        case K_ENUM:
          readVarint(r, end);
          obj[f.name] = r.lo | 0;
          break;
        case K_INT64: {
          readVarint(r, end);
          const v = (r.hi | 0) * 4294967296 + r.lo;
          if (!Number.isSafeInteger(v)) {
            throw new PathError("int64 outside the safe integer range", at);
          }
          obj[f.name] = v;
          break;
        }
        case K_MAP: {
          const len = readLength(r, end);
          decodeMapEntry(r, r.pos + len, obj[f.name] as Record<string, string>);
          break;
        }
        default: {
          const len = readLength(r, end);
          const subEnd = r.pos + len;
          if (f.repeated) {
            const list = obj[f.name] as unknown[];
            try {
              list.push(decodeMessage(r, f.msg!, subEnd));
            } catch (e) {
              if (e instanceof PathError) e.path.unshift(`[${list.length}]`);
              throw e;
            }
          } else {
            const existing = obj[f.name] as Record<string, unknown> | undefined;
            obj[f.name] = decodeMessage(
              r,
              f.msg!,
              subEnd,
              existing ?? undefined,
            );
          }
        }
      }
    } catch (e) {
      if (e instanceof PathError) e.path.unshift(f.proto);
      throw e;
    }
  }
  if (unknown !== undefined) {
    let size = 0;
    for (let i = 0; i < unknown.length; i += 2) {
      size += unknown[i + 1] - unknown[i];
    }
    const bytes = new Uint8Array(size);
    let o = 0;
    for (let i = 0; i < unknown.length; i += 2) {
      bytes.set(r.buf.subarray(unknown[i], unknown[i + 1]), o);
      o += unknown[i + 1] - unknown[i];
    }
    setUnknown(obj, bytes);
  }
  return obj;
}

/**
 * Decode a binary protobuf message into its `types.ts` shape (all defaults
 * filled; unknown fields kept under {@link UNKNOWN_FIELDS}). Throws a
 * {@link ContractError} (`E_INVALID`) on malformed bytes.
 *
 * @example
 * ```ts
 * import { decode, encode } from "./codec.ts";
 * const edge = decode("Edge", encode("Edge", { from: "a", to: "b" }));
 * edge.to; // "b"
 * ```
 */
export function decode<N extends MessageName>(
  name: N,
  bytes: Uint8Array,
): MessageTypes[N] {
  const p = plan(name);
  if (!(bytes instanceof Uint8Array)) {
    throw new ContractError(`decode ${name}: expected a Uint8Array`);
  }
  const r: Reader = { buf: bytes, pos: 0, lo: 0, hi: 0 };
  try {
    return decodeMessage(r, p, bytes.length) as unknown as MessageTypes[N];
  } catch (e) {
    throw toContractError(name, "decode", e);
  }
}

// ---------------------------------------------------------------------------
// Encoding.

const utf8Encoder = new TextEncoder();

class Writer {
  buf: Uint8Array = new Uint8Array(1024);
  pos = 0;

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let p = this.pos;
    while (v > 127) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  u64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    while (hi !== 0) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  i64(n: number): void {
    if (n >= 0) {
      if (n <= 0xffffffff) this.u32(n);
      else this.u64(n >>> 0, Math.floor(n / 4294967296) >>> 0);
      return;
    }
    const m = -n;
    let lo = m >>> 0;
    let hi = Math.floor(m / 4294967296) >>> 0;
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    this.u64(lo, hi);
  }

  str(s: string): void {
    const n = s.length;
    let len = n;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) continue;
      ascii = false;
      if (c < 0x800) len += 1;
      else if (c >= 0xd800 && c <= 0xdfff) {
        const d = s.charCodeAt(i + 1);
        if (c >= 0xdc00 || !(d >= 0xdc00 && d <= 0xdfff)) {
          throw new PathError("string contains a lone surrogate (not UTF-8)");
        }
        len += 2;
        i++;
      } else len += 2;
    }
    this.u32(len);
    this.ensure(len);
    if (ascii) {
      const buf = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) buf[p + i] = s.charCodeAt(i);
    } else {
      utf8Encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len));
    }
    this.pos += len;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function varintSize(v: number): number {
  let s = 1;
  while (v > 127) {
    v >>>= 7;
    s++;
  }
  return s;
}

function expect(what: string, v: unknown): PathError {
  return new PathError(`expected ${what}, got ${describe(v)}`);
}

function encodeScalar(w: Writer, f: FieldPlan, v: unknown): void {
  switch (f.kind) {
    case K_STRING:
      if (typeof v !== "string") throw expect("string", v);
      if (v === "" && !f.repeated) return;
      w.u32(f.tag);
      w.str(v);
      return;
    case K_BYTES:
      if (!(v instanceof Uint8Array)) throw expect("Uint8Array", v);
      if (v.length === 0) return;
      w.u32(f.tag);
      w.bytes(v);
      return;
    case K_BOOL:
      if (typeof v !== "boolean") throw expect("boolean", v);
      if (!v) return;
      w.u32(f.tag);
      w.u32(1);
      return;
    case K_UINT32:
      if (
        typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff
      ) throw expect("uint32 (integer 0..4294967295)", v);
      if (v === 0) return;
      w.u32(f.tag);
      w.u32(v);
      return;
    case K_INT64:
      if (typeof v !== "number" || !Number.isSafeInteger(v)) {
        throw expect("int64 (safe integer)", v);
      }
      if (v === 0) return;
      w.u32(f.tag);
      w.i64(v);
      return;
    default: // K_ENUM
      if (
        typeof v !== "number" || !Number.isInteger(v) || v < -0x80000000 ||
        v > 0x7fffffff
      ) throw expect("enum value (int32)", v);
      if (v === 0) return;
      w.u32(f.tag);
      if (v > 0) w.u32(v);
      else w.u64(v >>> 0, 0xffffffff);
  }
}

function encodeNested(
  w: Writer,
  f: FieldPlan,
  v: unknown,
  keepEmpty: boolean,
): void {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw expect(`${f.msg!.name} object`, v);
  }
  const tagStart = w.pos;
  w.u32(f.tag);
  w.ensure(1);
  const start = w.pos++;
  encodeMessage(w, f.msg!, v as Record<string, unknown>);
  const len = w.pos - start - 1;
  if (len < 128) {
    if (len === 0 && !keepEmpty) w.pos = tagStart;
    else w.buf[start] = len;
    return;
  }
  const s = varintSize(len);
  w.ensure(s - 1);
  const buf = w.buf;
  buf.copyWithin(start + s, start + 1, w.pos);
  w.pos += s - 1;
  let p = start;
  let n = len;
  while (n > 127) {
    buf[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[p] = n;
}

function encodeMap(w: Writer, f: FieldPlan, v: unknown): void {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw expect("object map<string, string>", v);
  }
  const m = v as Record<string, unknown>;
  const keys = Object.keys(m).sort();
  for (const k of keys) {
    const value = m[k];
    if (typeof value !== "string") {
      const e = expect("string map value", value);
      e.path.push(`[${JSON.stringify(k)}]`);
      throw e;
    }
    const entryStart = w.pos;
    w.u32(f.tag);
    w.ensure(1);
    const start = w.pos++;
    if (k !== "") {
      w.u32(0x0a);
      w.str(k);
    }
    if (value !== "") {
      w.u32(0x12);
      w.str(value);
    }
    const len = w.pos - start - 1;
    if (len < 128) {
      w.buf[start] = len;
    } else {
      // Rare: long entry; re-encode it with a proper length prefix.
      w.pos = entryStart;
      const inner = new Writer();
      if (k !== "") {
        inner.u32(0x0a);
        inner.str(k);
      }
      if (value !== "") {
        inner.u32(0x12);
        inner.str(value);
      }
      w.u32(f.tag);
      w.bytes(inner.buf.subarray(0, inner.pos));
    }
  }
}

function encodeMessage(
  w: Writer,
  p: MessagePlan,
  obj: Record<string, unknown>,
): void {
  const fields = p.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const v = obj[f.name];
    if (v === undefined) continue;
    let index = -1;
    try {
      if (f.kind === K_MAP) {
        encodeMap(w, f, v);
      } else if (f.repeated) {
        if (!Array.isArray(v)) throw expect("array", v);
        for (index = 0; index < v.length; index++) {
          if (f.kind === K_MESSAGE) encodeNested(w, f, v[index], true);
          else encodeScalar(w, f, v[index]);
        }
      } else if (f.kind === K_MESSAGE) {
        if (v !== null) encodeNested(w, f, v, f.optional);
      } else {
        encodeScalar(w, f, v);
      }
    } catch (e) {
      if (e instanceof PathError) {
        if (index >= 0) e.path.unshift(`[${index}]`);
        e.path.unshift(f.proto);
      }
      throw e;
    }
  }
  const unknown = (obj as Record<symbol, unknown>)[UNKNOWN_FIELDS];
  if (unknown instanceof Uint8Array && unknown.length > 0) {
    w.ensure(unknown.length);
    w.buf.set(unknown, w.pos);
    w.pos += unknown.length;
  }
}

/**
 * Encode a message to binary protobuf after validating every field's type
 * (throws a {@link ContractError} naming the field path). Fields left
 * `undefined` are treated as defaults; unknown fields kept from a previous
 * `decode` are appended.
 *
 * @example
 * ```ts
 * import { encode } from "./codec.ts";
 * encode("GetStrategyRequest", { strategyId: "st_1" }); // Uint8Array [0x0a, 0x04, …]
 * ```
 */
export function encode<N extends MessageName>(
  name: N,
  message: MessageTypes[N],
): Uint8Array {
  const p = plan(name);
  if (
    typeof message !== "object" || message === null || Array.isArray(message)
  ) {
    throw new ContractError(
      `encode ${name}: expected an object, got ${describe(message)}`,
    );
  }
  const w = new Writer();
  try {
    encodeMessage(w, p, message as unknown as Record<string, unknown>);
  } catch (e) {
    throw toContractError(name, "encode", e);
  }
  return w.buf.slice(0, w.pos);
}

// ---------------------------------------------------------------------------
// proto3 JSON.

/**
 * A JSON value produced by {@link toJson}.
 *
 * @example
 * ```ts
 * import type { Json } from "./codec.ts";
 * const j: Json = { strategyId: "st_1", createdAtMs: "0" };
 * ```
 */
export type Json =
  | null
  | boolean
  | number
  | string
  | Json[]
  | { [key: string]: Json };

function base64Encode(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode.apply(
      null,
      b.subarray(i, i + 0x8000) as unknown as number[],
    );
  }
  return btoa(s);
}

function base64Decode(s: string): Uint8Array {
  let t = s.replaceAll("-", "+").replaceAll("_", "/");
  while (t.length % 4 !== 0) t += "=";
  let bin: string;
  try {
    bin = atob(t);
  } catch {
    throw new PathError("invalid base64");
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function scalarToJson(f: FieldPlan, v: unknown): Json {
  switch (f.kind) {
    case K_BYTES:
      return base64Encode(v as Uint8Array);
    case K_INT64:
      return String(v);
    case K_ENUM:
      return f.enumNames!.get(v as number) ?? (v as number);
    default:
      return v as Json;
  }
}

function messageToJson(p: MessagePlan, obj: Record<string, unknown>): Json {
  const out: { [key: string]: Json } = {};
  for (const f of p.fields) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    if (f.kind === K_MAP) out[f.name] = { ...(v as Record<string, string>) };
    else if (f.kind === K_MESSAGE) {
      out[f.name] = f.repeated
        ? (v as Record<string, unknown>[]).map((m) => messageToJson(f.msg!, m))
        : messageToJson(f.msg!, v as Record<string, unknown>);
    } else if (f.repeated) {
      out[f.name] = (v as unknown[]).map((x) => scalarToJson(f, x));
    } else out[f.name] = scalarToJson(f, v);
  }
  return out;
}

/**
 * Proto3 JSON form of a message (lowerCamelCase names, int64 as decimal
 * strings, bytes as base64, enums by name). Every field is emitted, defaults
 * included; an absent optional message is omitted. Unknown fields are not
 * represented.
 *
 * @example
 * ```ts
 * import { toJson } from "./codec.ts";
 * toJson("TopicDescriptor", { name: "t", nodeId: "", retentionMs: 1000, partitions: 1, createdAtMs: 0 });
 * // { name: "t", nodeId: "", retentionMs: "1000", partitions: 1, createdAtMs: "0" }
 * ```
 */
export function toJson<N extends MessageName>(
  name: N,
  message: MessageTypes[N],
): Json {
  const p = plan(name);
  // Validate first so toJson never emits something encode would refuse.
  encode(name, message);
  return messageToJson(p, message as unknown as Record<string, unknown>);
}

function scalarFromJson(f: FieldPlan, v: unknown): unknown {
  switch (f.kind) {
    case K_STRING:
      if (typeof v !== "string") throw expect("string", v);
      return v;
    case K_BYTES:
      if (typeof v !== "string") throw expect("base64 string", v);
      return base64Decode(v);
    case K_BOOL:
      if (typeof v !== "boolean") throw expect("boolean", v);
      return v;
    case K_UINT32:
    case K_INT64: {
      const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
      const ok = typeof n === "number" &&
        (f.kind === K_INT64
          ? Number.isSafeInteger(n)
          : Number.isInteger(n) && n >= 0 && n <= 0xffffffff);
      if (!ok) throw expect(KIND_NAMES[f.kind], v);
      return n;
    }
    default: { // K_ENUM
      if (typeof v === "string") {
        const n = f.enumValues!.get(v);
        if (n === undefined) throw expect("enum name", v);
        return n;
      }
      if (typeof v !== "number" || !Number.isInteger(v)) {
        throw expect("enum", v);
      }
      return v;
    }
  }
}

function messageFromJson(
  p: MessagePlan,
  json: unknown,
): Record<string, unknown> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw expect(`${p.name} object`, json);
  }
  const obj = createObject(p);
  for (const [key, v] of Object.entries(json as Record<string, unknown>)) {
    const f = p.byJsonName.get(key);
    if (f === undefined) {
      throw new PathError(`unknown field ${JSON.stringify(key)}`);
    }
    if (v === null) continue;
    try {
      if (f.kind === K_MAP) {
        if (typeof v !== "object" || Array.isArray(v)) {
          throw expect("object", v);
        }
        const m = obj[f.name] as Record<string, string>;
        for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
          if (typeof s !== "string") throw expect("string map value", s);
          m[k] = s;
        }
      } else if (f.repeated) {
        if (!Array.isArray(v)) throw expect("array", v);
        obj[f.name] = v.map((x, i) => {
          try {
            return f.kind === K_MESSAGE
              ? messageFromJson(f.msg!, x)
              : scalarFromJson(f, x);
          } catch (e) {
            if (e instanceof PathError) e.path.unshift(`[${i}]`);
            throw e;
          }
        });
      } else if (f.kind === K_MESSAGE) {
        obj[f.name] = messageFromJson(f.msg!, v);
      } else {
        obj[f.name] = scalarFromJson(f, v);
      }
    } catch (e) {
      if (e instanceof PathError) e.path.unshift(f.proto);
      throw e;
    }
  }
  return obj;
}

/**
 * Parse the proto3 JSON form of a message (accepts lowerCamelCase and
 * original proto names, int64 as strings or numbers, enums by name or number,
 * standard or URL-safe base64). Unknown keys are rejected. Throws a
 * {@link ContractError} naming the field.
 *
 * @example
 * ```ts
 * import { fromJson } from "./codec.ts";
 * fromJson("GetStrategyRequest", { strategy_id: "st_1" }); // { strategyId: "st_1" }
 * ```
 */
export function fromJson<N extends MessageName>(
  name: N,
  json: unknown,
): MessageTypes[N] {
  const p = plan(name);
  try {
    return messageFromJson(p, json) as unknown as MessageTypes[N];
  } catch (e) {
    throw toContractError(name, "fromJson", e);
  }
}

/**
 * Field names (TypeScript / proto3 JSON names) of a message, in field-number
 * order — used to check `types.ts` against the protos.
 *
 * @example
 * ```ts
 * import { messageFields } from "./codec.ts";
 * messageFields("Edge"); // [{ name: "from", protoName: "from", id: 1, type: "string", repeated: false }, …]
 * ```
 */
export function messageFields(name: MessageName): {
  name: string;
  protoName: string;
  id: number;
  type: string;
  repeated: boolean;
}[] {
  return plan(name).fields.map((f) => ({
    name: f.name,
    protoName: f.proto,
    id: f.id,
    type: f.kind === K_MESSAGE ? f.msg!.name : KIND_NAMES[f.kind],
    repeated: f.repeated,
  }));
}
