/**
 * Node identity: RFC 8785 canonical JSON, context-key stripping, source
 * normalisation, node IDs, DAG checksum and DAG hash, and the DAG verifier
 * used by the Gateway. This is the one implementation shared by the SDK and
 * the Gateway; the algorithm is specified in `docs/contracts.md`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { functionCodeHash } from "./code_hash.ts";
import { ContractError, ErrorCode } from "./errors.ts";
import {
  checkDagFields,
  checkNodeType,
  checkParamsDepth,
  checkParamsSize,
  checkQueryTags,
  checkSchemaCompatId,
  FIELD_LIMITS,
  paramsTooDeep,
} from "./fields.ts";
import { crc32 as zlibCrc32 } from "node:zlib";
import type { NodeSpec, StrategyDag } from "./messages.ts";

/**
 * A JSON value as accepted by {@link canonicalJson}.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "@qmtl/qmtl/contracts";
 * const v: JsonValue = { window: 20, fields: ["close"], adjust: null };
 * ```
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * Top-level params keys that describe the execution context, not the
 * computation; they are removed before hashing. Any key starting with
 * `env_` is removed as well.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONTEXT_KEYS } from "@qmtl/qmtl/contracts";
 * assert.ok(CONTEXT_KEYS.includes("seed"));
 * ```
 */
export const CONTEXT_KEYS: readonly string[] = Object.freeze([
  "world",
  "world_id",
  "world_ids",
  "execution_world",
  "execution_domain",
  "domain",
  "domains",
  "as_of",
  "partition",
  "dataset_fingerprint",
  "timestamp",
  "seed",
  "random_state",
  "env",
]);

const CONTEXT_KEY_SET: ReadonlySet<string> = new Set(CONTEXT_KEYS);

/**
 * Node type of tag-query input nodes, whose params have a fixed shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TAG_QUERY_NODE_TYPE } from "@qmtl/qmtl/contracts";
 * assert.equal(TAG_QUERY_NODE_TYPE, "TagQuery");
 * ```
 */
export const TAG_QUERY_NODE_TYPE = "TagQuery";

/**
 * Default `schemaCompatId`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SCHEMA_COMPAT_ID } from "@qmtl/qmtl/contracts";
 * assert.equal(DEFAULT_SCHEMA_COMPAT_ID, "v1");
 * ```
 */
export const DEFAULT_SCHEMA_COMPAT_ID = "v1";

/**
 * True when `value` is a well-formed node ID (`"sha256:"` + 64 lowercase hex
 * digits). Code hashes have the same form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNodeId } from "@qmtl/qmtl/contracts";
 * assert.ok(isNodeId("sha256:" + "0".repeat(64)));
 * assert.equal(isNodeId("sha256:ABC"), false);
 * ```
 */
export function isNodeId(value: unknown): value is string {
  if (typeof value !== "string" || value.length !== 71) return false;
  if (knownIds.has(value)) return true;
  if (!value.startsWith("sha256:")) return false;
  let ok = 1;
  for (let i = 7; i < 71; i++) ok &= HEX_DIGIT[value.charCodeAt(i) & 0xff];
  if (ok !== 1) return false;
  remember(value);
  return true;
}

/** 1 for the bytes of `0-9a-f`, else 0. */
const HEX_DIGIT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const ch of "0123456789abcdef") t[ch.charCodeAt(0)] = 1;
  return t;
})();

/** Recently validated or computed IDs (bounded), so inputs validate fast. */
const knownIds = new Set<string>();
const KNOWN_IDS_MAX = 16384;

function remember(id: string): void {
  if (knownIds.size >= KNOWN_IDS_MAX) knownIds.clear();
  knownIds.add(id);
}

/**
 * Lowercase hex SHA-256 of the UTF-8 encoding of `data` (synchronous).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Hex } from "@qmtl/qmtl/contracts";
 * assert.equal(sha256Hex("abc").slice(0, 8), "ba7816bf");
 * ```
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function invalid(message: string, field: string): ContractError {
  return new ContractError(message, { field });
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Printable ASCII without `"` and `\`: quoted verbatim by RFC 8785. */
const VERBATIM_RE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Serialisation state: the path (for errors) and the ancestors (cycles). */
interface SerialiseState {
  root: string;
  path: (string | number)[];
  stack: object[];
}

function pathOf(st: SerialiseState): string {
  let out = st.root;
  for (const seg of st.path) {
    out += typeof seg === "number" ? `[${seg}]` : `.${seg}`;
  }
  return out;
}

function fail(st: SerialiseState, message: string): ContractError {
  const path = pathOf(st);
  return invalid(`${path}: ${message}`, path);
}

function quote(s: string, st: SerialiseState, what: string): string {
  if (VERBATIM_RE.test(s)) return '"' + s + '"';
  if (!isWellFormed(s)) throw fail(st, `${what} contains a lone surrogate`);
  // JSON.stringify escapes exactly as RFC 8785 requires for well-formed
  // strings: \b \t \n \f \r \" \\ and \u00xx (lowercase) for other controls.
  return JSON.stringify(s);
}

function serialise(value: unknown, st: SerialiseState): string {
  switch (typeof value) {
    case "string":
      return quote(value, st, "string");
    case "number":
      if (!Number.isFinite(value)) throw fail(st, `non-finite number ${value}`);
      return String(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (st.stack.length >= FIELD_LIMITS.paramsDepth) {
        throw paramsTooDeep(st.root);
      }
      if (st.stack.includes(value)) throw fail(st, "circular reference");
      if (Array.isArray(value)) {
        st.stack.push(value);
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ",";
          st.path.push(i);
          out += serialise(value[i], st);
          st.path.pop();
        }
        st.stack.pop();
        return out + "]";
      }
      if (!isPlainObject(value)) {
        throw fail(
          st,
          `only plain objects, arrays and primitives are JSON (got ${
            value.constructor?.name ?? "object"
          })`,
        );
      }
      return serialiseObject(value as Record<string, unknown>, st, false);
    }
    default:
      throw fail(st, `${typeof value} is not a JSON value`);
  }
}

function serialiseObject(
  rec: Record<string, unknown>,
  st: SerialiseState,
  skipContextKeys: boolean,
): string {
  st.stack.push(rec);
  const keys = Object.keys(rec).sort();
  let out = "{";
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (skipContextKeys && isContextKey(k)) continue;
    const q = quote(k, st, "key");
    if (!first) out += ",";
    first = false;
    st.path.push(k);
    out += q + ":" + serialise(rec[k], st);
    st.path.pop();
  }
  st.stack.pop();
  return out + "}";
}

/**
 * Serialise a JSON value by RFC 8785 (JSON Canonicalization Scheme): object
 * keys sorted by UTF-16 code units, no whitespace, ECMAScript number form.
 * Throws a {@link ContractError} (`E_INVALID`, with `field`) on non-finite
 * numbers, `undefined`, functions, bigints, symbols, lone surrogates,
 * non-plain objects, cycles, and arrays/objects nested deeper than
 * `FIELD_LIMITS.paramsDepth` (64) levels.
 *
 * @param value the value to serialise
 * @param field path used in error messages (default `"params"`)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalJson } from "@qmtl/qmtl/contracts";
 * assert.equal(canonicalJson({ b: 1.0, a: [true, null] }), '{"a":[true,null],"b":1}');
 * ```
 */
export function canonicalJson(value: unknown, field = "params"): string {
  return serialise(value, { root: field, path: [], stack: [] });
}

function assertParamsObject(
  params: unknown,
  field: string,
): asserts params is Record<string, unknown> {
  if (
    typeof params !== "object" || params === null || Array.isArray(params) ||
    !isPlainObject(params)
  ) {
    throw invalid(`${field}: params must be a plain JSON object`, field);
  }
}

/**
 * True when `key` is a top-level context key that never enters a node ID.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isContextKey } from "@qmtl/qmtl/contracts";
 * assert.ok(isContextKey("env_region"));
 * assert.equal(isContextKey("window"), false);
 * ```
 */
export function isContextKey(key: string): boolean {
  return CONTEXT_KEY_SET.has(key) || key.startsWith("env_");
}

/**
 * A shallow copy of `params` without the top-level context keys
 * ({@link CONTEXT_KEYS} and any key starting with `env_`). Nested objects are
 * not touched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stripContextKeys } from "@qmtl/qmtl/contracts";
 * assert.deepEqual(stripContextKeys({ window: 20, seed: 7, env_host: "a" }), { window: 20 });
 * ```
 */
export function stripContextKeys(
  params: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  assertParamsObject(params, "params");
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(params)) {
    if (!isContextKey(k)) out[k] = params[k];
  }
  return out;
}

/**
 * Canonical params JSON of a node: context keys stripped, then RFC 8785.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalParamsJson } from "@qmtl/qmtl/contracts";
 * assert.equal(canonicalParamsJson({ window: 20, as_of: "2024-01-01" }), '{"window":20}');
 * ```
 */
export function canonicalParamsJson(
  params: Readonly<Record<string, unknown>>,
): string {
  assertParamsObject(params, "params");
  return serialiseObject(params, { root: "params", path: [], stack: [] }, true);
}

/**
 * Tag-match mode of a tag query.
 *
 * @example
 * ```ts
 * import type { MatchMode } from "@qmtl/qmtl/contracts";
 * const m: MatchMode = "all";
 * ```
 */
export type MatchMode = "any" | "all";

/**
 * The exact params of a `TagQuery` node.
 *
 * @example
 * ```ts
 * import type { TagQueryParams } from "@qmtl/qmtl/contracts";
 * const p: TagQueryParams = { match_mode: "any", query_tags: ["btc", "price"] };
 * ```
 */
export interface TagQueryParams {
  /** `"any"` or `"all"`. */
  match_mode: MatchMode;
  /** Sorted (UTF-16 code units), deduplicated, non-empty tags. */
  query_tags: string[];
}

/**
 * Build the params of a `TagQuery` node: tags sorted by UTF-16 code units and
 * deduplicated. Rejects an empty tag list, more than
 * `FIELD_LIMITS.queryTags` (64) tags, tags that `checkTag` refuses (empty,
 * too long, control characters, `,`) and a mode other than `"any"`/`"all"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tagQueryParams } from "@qmtl/qmtl/contracts";
 * assert.deepEqual(tagQueryParams(["price", "btc", "btc"], "any"), {
 *   match_mode: "any",
 *   query_tags: ["btc", "price"],
 * });
 * ```
 */
export function tagQueryParams(
  tags: readonly string[],
  matchMode: MatchMode,
): TagQueryParams {
  if (matchMode !== "any" && matchMode !== "all") {
    throw invalid(
      `match_mode must be "any" or "all", got ${JSON.stringify(matchMode)}`,
      "params.match_mode",
    );
  }
  if (!Array.isArray(tags) || tags.length === 0) {
    throw invalid(
      "params.query_tags: query_tags must be a non-empty array",
      "params.query_tags",
    );
  }
  checkQueryTags(tags, "params.query_tags");
  const sorted = [...new Set(tags)].sort();
  return { match_mode: matchMode, query_tags: sorted };
}

function checkTagQueryParams(params: Record<string, unknown>, field: string) {
  const keys = Object.keys(params).sort();
  if (
    keys.length !== 2 || keys[0] !== "match_mode" || keys[1] !== "query_tags"
  ) {
    throw invalid(
      `${field}: TagQuery params must be exactly {match_mode, query_tags}, got keys [${
        keys.join(",")
      }]`,
      field,
    );
  }
  const tags = params.query_tags;
  const expected = tagQueryParams(
    tags as string[],
    params.match_mode as MatchMode,
  );
  const given = tags as string[];
  if (
    expected.query_tags.length !== given.length ||
    expected.query_tags.some((t, i) => t !== given[i])
  ) {
    throw invalid(
      `${field}.query_tags must be sorted and deduplicated (use tagQueryParams)`,
      `${field}.query_tags`,
    );
  }
}

/**
 * Normalise compute source for hashing: CRLF → LF, trailing whitespace of
 * every line trimmed (ECMAScript `trimEnd`), leading and trailing empty lines
 * dropped, lines joined with `"\n"` (no final newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normaliseSource } from "@qmtl/qmtl/contracts";
 * assert.equal(normaliseSource("\r\n  x => x  \r\n\r\n"), "  x => x");
 * ```
 */
export function normaliseSource(src: string): string {
  const lines = src.replaceAll("\r\n", "\n").split("\n").map((l) =>
    l.trimEnd()
  );
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start] === "") start++;
  while (end > start && lines[end - 1] === "") end--;
  return lines.slice(start, end).join("\n");
}

/**
 * Code hash of a node's compute code.
 *
 * - A **function** is hashed by its syntax tree (`functionCodeHash` in
 *   `code_hash.ts`): layout, comments, quoting, number spelling and its own
 *   name do not count, so the same function in a `.ts` and a `.js` file, or
 *   reformatted, gets the same hash. Helpers in `uses` are hashed with it.
 * - A **string** is source text (possibly of another language) and is hashed
 *   as text: `"sha256:" + hex(sha256(utf8(normaliseSource(src))))`; text
 *   that normalises to the empty string hashes to `""` (no code).
 *
 * @param srcOrFunction the compute function, or its source text
 * @param uses helper functions the compute function calls (functions only)
 * @example
 * ```ts
 * import { codeHash } from "@qmtl/qmtl/contracts";
 * import assert from "node:assert/strict";
 * const a = (x: number) => x * 2;
 * const b = (x: number) =>
 *   // doubled
 *   x * 2.0;
 * assert.equal(codeHash(a), codeHash(b));
 * assert.notEqual(codeHash(a), codeHash((x: number) => x * 3));
 * assert.equal(codeHash("  \n"), "");
 * ```
 */
export function codeHash(
  // deno-lint-ignore no-explicit-any
  srcOrFunction: string | ((...args: any[]) => unknown),
  // deno-lint-ignore no-explicit-any
  uses: Readonly<Record<string, (...args: any[]) => unknown>> = {},
): string {
  if (typeof srcOrFunction === "function") {
    return functionCodeHash(srcOrFunction, uses);
  }
  if (typeof srcOrFunction !== "string") {
    throw invalid("code must be a string or a function", "code_hash");
  }
  if (!isWellFormed(srcOrFunction)) {
    throw invalid("source contains a lone surrogate", "code_hash");
  }
  const norm = normaliseSource(srcOrFunction);
  return norm === "" ? "" : "sha256:" + sha256Hex(norm);
}

/**
 * The identity fields of a node, input of {@link computeNodeId}. Give either
 * `params` (an object: context keys are stripped, then canonicalised) or
 * `paramsJson` (must already be canonical).
 *
 * @example
 * ```ts
 * import type { NodeIdentity } from "@qmtl/qmtl/contracts";
 * const n: NodeIdentity = { nodeType: "Processing", intervalS: 60, period: 20, params: { window: 20 } };
 * ```
 */
export interface NodeIdentity {
  /** Node kind; non-empty, no `"|"`. */
  nodeType: string;
  /** Interval in seconds; integer > 0. */
  intervalS: number;
  /** Period in bars; integer ≥ 1. */
  period: number;
  /** Params object (context keys are stripped). */
  params?: Readonly<Record<string, unknown>>;
  /** Canonical params JSON (used verbatim after a canonical-form check). */
  paramsJson?: string;
  /** Input node IDs in any order; default none. */
  inputs?: readonly string[];
  /** Output schema family; default `"v1"`. */
  schemaCompatId?: string;
  /** `""` or `"sha256:"` + hex; default `""`. */
  codeHash?: string;
}

function checkCanonicalParamsJson(json: string, field: string): unknown {
  // Bounded before parsing: size, then nesting depth (scanned, not parsed).
  checkParamsSize(json, field);
  checkParamsDepth(json, field);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw invalid(`${field}: not valid JSON`, field);
  }
  assertParamsObject(parsed, field);
  for (const k of Object.keys(parsed)) {
    if (isContextKey(k)) {
      throw invalid(
        `${field}: context key ${JSON.stringify(k)} must be removed`,
        field,
      );
    }
  }
  if (canonicalJson(parsed, field) !== json) {
    throw invalid(`${field}: not in RFC 8785 canonical form`, field);
  }
  return parsed;
}

/**
 * The exact string that is hashed into a node ID, after validating every
 * field (throws {@link ContractError} `E_INVALID` naming the field).
 *
 * @param node the identity fields
 * @param prefix field-path prefix for errors, e.g. `"nodes[3]."`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeIdCanonical } from "@qmtl/qmtl/contracts";
 * const canonical = nodeIdCanonical({ nodeType: "Processing", intervalS: 60, period: 20, params: { window: 20 } });
 * assert.equal(canonical, 'Processing|60|20|{"window":20}||v1|');
 * ```
 */
export function nodeIdCanonical(node: NodeIdentity, prefix = ""): string {
  const { nodeType, intervalS, period } = node;
  checkNodeType(nodeType, prefix + "node_type");
  if (
    !Number.isInteger(intervalS) || intervalS <= 0 || intervalS > 0xffffffff
  ) {
    throw invalid(
      `interval_s must be an integer > 0, got ${intervalS}`,
      prefix + "interval_s",
    );
  }
  if (!Number.isInteger(period) || period < 1 || period > 0xffffffff) {
    throw invalid(
      `period must be an integer ≥ 1, got ${period}`,
      prefix + "period",
    );
  }
  let paramsJson: string;
  let parsed: unknown;
  if (node.paramsJson !== undefined) {
    if (node.params !== undefined) {
      throw invalid("give params or params_json, not both", prefix + "params");
    }
    if (typeof node.paramsJson !== "string") {
      throw invalid("params_json must be a string", prefix + "params_json");
    }
    paramsJson = node.paramsJson;
    parsed = checkCanonicalParamsJson(paramsJson, prefix + "params_json");
  } else {
    const params = node.params ?? {};
    assertParamsObject(params, prefix + "params");
    paramsJson = serialiseObject(
      params,
      { root: prefix + "params", path: [], stack: [] },
      true,
    );
    checkParamsSize(paramsJson, prefix + "params");
    parsed = params;
  }
  const inputs = node.inputs ?? [];
  if (!Array.isArray(inputs)) {
    throw invalid("inputs must be an array of node IDs", prefix + "inputs");
  }
  for (let i = 0; i < inputs.length; i++) {
    if (!isNodeId(inputs[i])) {
      throw invalid(
        `inputs[${i}] is not a node ID ("sha256:" + 64 lowercase hex)`,
        `${prefix}inputs[${i}]`,
      );
    }
  }
  const schemaCompatId = node.schemaCompatId ?? DEFAULT_SCHEMA_COMPAT_ID;
  checkSchemaCompatId(schemaCompatId, prefix + "schema_compat_id");
  const hash = node.codeHash ?? "";
  if (hash !== "" && !isNodeId(hash)) {
    throw invalid(
      `code_hash must be "" or "sha256:" + 64 lowercase hex`,
      prefix + "code_hash",
    );
  }
  if (nodeType === TAG_QUERY_NODE_TYPE) {
    if (inputs.length > 0) {
      throw invalid("TagQuery nodes have no inputs", prefix + "inputs");
    }
    if (hash !== "") {
      throw invalid(
        "TagQuery nodes have an empty code_hash",
        prefix + "code_hash",
      );
    }
    checkTagQueryParams(
      node.paramsJson !== undefined
        ? parsed as Record<string, unknown>
        : stripContextKeys(parsed as Record<string, unknown>),
      prefix + (node.paramsJson !== undefined ? "params_json" : "params"),
    );
  }
  const sortedInputs = inputs.length < 2
    ? inputs.join(",")
    : [...inputs].sort().join(",");
  return nodeType + "|" + intervalS + "|" + period + "|" + paramsJson + "|" +
    sortedInputs + "|" + schemaCompatId + "|" + hash;
}

/**
 * Compute a node ID: `"sha256:" + hex(sha256(utf8(join("|", [node_type,
 * interval_s, period, params_json, join(",", sort(inputs)), schema_compat_id,
 * code_hash]))))`. Validates every field first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeNodeId } from "@qmtl/qmtl/contracts";
 * const id = computeNodeId({
 *   nodeType: "StreamInput", intervalS: 60, period: 1,
 *   params: { symbol: "BTC/USDT", field: "close" },
 * });
 * assert.match(id, /^sha256:[0-9a-f]{64}$/);
 * ```
 */
export function computeNodeId(node: NodeIdentity): string {
  const id = "sha256:" + sha256Hex(nodeIdCanonical(node));
  remember(id);
  return id;
}

/**
 * Recompute the ID of a `NodeSpec` from its identity fields (its
 * `paramsJson` must be canonical).
 *
 * @param spec the node
 * @param prefix field-path prefix for errors, e.g. `"nodes[3]."`
 * @example
 * ```ts
 * import { nodeIdOfSpec } from "@qmtl/qmtl/contracts";
 * import type { NodeSpec } from "./messages.ts";
 * function check(spec: NodeSpec): boolean {
 *   return nodeIdOfSpec(spec) === spec.nodeId;
 * }
 * ```
 */
export function nodeIdOfSpec(spec: NodeSpec, prefix = ""): string {
  return "sha256:" + sha256Hex(nodeIdCanonical({
    nodeType: spec.nodeType,
    intervalS: spec.intervalS,
    period: spec.period,
    paramsJson: spec.paramsJson,
    inputs: spec.inputs,
    schemaCompatId: spec.schemaCompatId,
    codeHash: spec.codeHash,
  }, prefix));
}

/**
 * CRC-32 (zlib / IEEE 802.3) of a byte array, unsigned (`node:zlib`'s
 * `crc32`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32 } from "@qmtl/qmtl/contracts";
 * assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  return zlibCrc32(bytes) >>> 0;
}

/**
 * Submission checksum: CRC-32 (IEEE) of `utf8(join("\n", nodeIds))`, as an
 * unsigned integer. Node IDs are in DAG order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dagChecksum } from "@qmtl/qmtl/contracts";
 * assert.equal(dagChecksum([]), 0);
 * ```
 */
export function dagChecksum(nodeIds: readonly string[]): number {
  return zlibCrc32(nodeIds.join("\n")) >>> 0;
}

/**
 * DAG hash: `"sha256:" + hex(sha256(utf8(join("\n", nodeIds))))`, node IDs in
 * DAG order. The Gateway dedups submissions by it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dagHash } from "@qmtl/qmtl/contracts";
 * assert.equal(dagHash(["sha256:" + "a".repeat(64)]).length, 71);
 * ```
 */
export function dagHash(nodeIds: readonly string[]): string {
  return "sha256:" + sha256Hex(nodeIds.join("\n"));
}

/**
 * Result of {@link verifyDag}.
 *
 * @example
 * ```ts
 * import type { VerifiedDag } from "@qmtl/qmtl/contracts";
 * function show(v: VerifiedDag): void {
 *   console.log(v.nodeIds.length, v.externalInputs, v.dagHash);
 * }
 * ```
 */
export interface VerifiedDag {
  /** Node IDs in DAG order. */
  nodeIds: string[];
  /**
   * Inputs that are not nodes of this DAG (deduplicated, in first-use
   * order): the caller must find them in the global registry or reject the
   * DAG with `E_UNKNOWN_INPUT`.
   */
  externalInputs: string[];
  /** {@link dagHash} of the node IDs. */
  dagHash: string;
}

/**
 * Verify a submitted DAG: every node's ID is recomputed from its identity
 * fields (`paramsJson` must already be canonical, it is never fixed up),
 * duplicate IDs and names are rejected, inputs must appear earlier in the DAG
 * (or are reported as external), the display fields (names, tags, metadata)
 * must keep to the limits of `checkDagFields`, and the checksum must match.
 * Throws a
 * {@link ContractError} with code `E_INVALID`, `E_NODE_ID_MISMATCH`,
 * `E_DUPLICATE` or `E_CHECKSUM_MISMATCH`, whose `field` names the node index
 * and field (e.g. `nodes[3].interval_s`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "./messages.ts";
 * import { verifyDag } from "@qmtl/qmtl/contracts";
 * const v = verifyDag(create(StrategyDagSchema, { name: "empty" }));
 * assert.deepEqual(v.externalInputs, []);
 * ```
 */
export function verifyDag(dag: StrategyDag): VerifiedDag {
  if (typeof dag !== "object" || dag === null || !Array.isArray(dag.nodes)) {
    throw invalid("dag.nodes must be an array", "nodes");
  }
  checkDagFields(dag);
  const nodes = dag.nodes;
  const allIds = new Set<string>();
  for (const n of nodes) {
    if (n && typeof n.nodeId === "string") allIds.add(n.nodeId);
  }
  const seenIds = new Map<string, number>();
  const seenNames = new Map<string, number>();
  const external = new Set<string>();
  const nodeIds: string[] = new Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const spec = nodes[i];
    const prefix = `nodes[${i}].`;
    if (typeof spec !== "object" || spec === null) {
      throw invalid(`nodes[${i}] must be a NodeSpec`, `nodes[${i}]`);
    }
    const id = spec.nodeId;
    if (!isNodeId(id)) {
      throw invalid(
        `nodes[${i}].node_id is not a node ID ("sha256:" + 64 lowercase hex)`,
        prefix + "node_id",
      );
    }
    let expected: string;
    try {
      expected = nodeIdOfSpec(spec, prefix);
    } catch (e) {
      if (e instanceof ContractError) {
        const named = e.message.startsWith(`nodes[${i}]`);
        throw new ContractError(
          named ? e.message : `nodes[${i}]: ${e.message}`,
          {
            field: e.field,
            nodeId: id,
            ...(e.details ? { details: e.details } : {}),
            cause: e,
          },
        );
      }
      throw e;
    }
    if (expected !== id) {
      throw new ContractError(
        `nodes[${i}]: node_id ${id} does not match its fields (expected ${expected})`,
        {
          code: ErrorCode.E_NODE_ID_MISMATCH,
          field: prefix + "node_id",
          nodeId: id,
          details: { expected, actual: id },
        },
      );
    }
    const dupAt = seenIds.get(id);
    if (dupAt !== undefined) {
      throw new ContractError(
        `nodes[${i}]: duplicate node_id (same as nodes[${dupAt}])`,
        {
          code: ErrorCode.E_DUPLICATE,
          field: prefix + "node_id",
          nodeId: id,
          details: { first: String(dupAt) },
        },
      );
    }
    if (spec.name !== "") {
      const nameAt = seenNames.get(spec.name);
      if (nameAt !== undefined) {
        throw new ContractError(
          `nodes[${i}]: duplicate name ${
            JSON.stringify(spec.name)
          } (same as nodes[${nameAt}])`,
          {
            code: ErrorCode.E_DUPLICATE,
            field: prefix + "name",
            nodeId: id,
            details: { first: String(nameAt) },
          },
        );
      }
      seenNames.set(spec.name, i);
    }
    const inputs = spec.inputs;
    for (let j = 0; j < inputs.length; j++) {
      const input = inputs[j];
      if (seenIds.has(input)) continue;
      if (allIds.has(input)) {
        throw invalid(
          `nodes[${i}].inputs[${j}] appears later in the DAG (nodes must be in DAG order)`,
          `${prefix}inputs[${j}]`,
        );
      }
      external.add(input);
    }
    seenIds.set(id, i);
    nodeIds[i] = id;
  }
  const checksum = dagChecksum(nodeIds);
  if (dag.checksum !== checksum) {
    throw new ContractError(
      `checksum ${dag.checksum} does not match the node IDs (expected ${checksum})`,
      {
        code: ErrorCode.E_CHECKSUM_MISMATCH,
        field: "checksum",
        details: { expected: String(checksum), actual: String(dag.checksum) },
      },
    );
  }
  return { nodeIds, externalInputs: [...external], dagHash: dagHash(nodeIds) };
}
