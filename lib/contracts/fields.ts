/**
 * Limits and character rules of every field a client controls: params
 * (size, nesting depth), node types, display fields (names, tags, metadata),
 * versions, callback URLs and tag queries. One implementation shared by the
 * SDK's builder and the Gateway: {@link checkDagFields} runs inside
 * `verifyDag`, {@link checkSubmitFields} on every SubmitStrategy, and tag
 * queries use {@link checkQueryTags}. A violation is a {@link ContractError}
 * (`E_INVALID`) whose `field` names the offending field (e.g.
 * `nodes[3].tags[2]`) and whose `details` carry `limit` and `actual` where a
 * limit was exceeded. The limits are listed in `docs/contracts.md`.
 *
 * Lengths are counted in UTF-8 bytes, so that every language counts them the
 * same way.
 *
 * @module
 */

import { ContractError } from "./errors.ts";
import type { StrategyDag } from "./messages.ts";

/**
 * The limits of {@link FIELD_LIMITS}.
 *
 * @example
 * ```ts
 * import type { FieldLimits } from "@qmtl/qmtl/contracts";
 * const tight: Pick<FieldLimits, "tagsPerNode"> = { tagsPerNode: 8 };
 * ```
 */
export interface FieldLimits {
  /** Longest canonical `params_json` of one node, bytes. */
  readonly paramsJsonBytes: number;
  /** Deepest nesting of arrays/objects in params (the params object is depth 1). */
  readonly paramsDepth: number;
  /** Longest node type and `schema_compat_id`, bytes. */
  readonly nodeTypeBytes: number;
  /** Longest node name and strategy name, bytes. */
  readonly nameBytes: number;
  /** Most tags on one node. */
  readonly tagsPerNode: number;
  /** Most distinct tags in one DAG (each becomes a Tag in the registry). */
  readonly tagsPerDag: number;
  /** Longest tag, bytes. */
  readonly tagBytes: number;
  /** Most metadata entries of one node, DAG or request. */
  readonly metadataEntries: number;
  /** Longest metadata key, bytes. */
  readonly metadataKeyBytes: number;
  /** Longest metadata value, bytes. */
  readonly metadataValueBytes: number;
  /** Longest strategy version, bytes. */
  readonly versionBytes: number;
  /** Longest callback URL, bytes. */
  readonly callbackUrlBytes: number;
  /** Most tags in one tag query (QueryNodesByTags, `/v1/nodes/by-tags`, TagQuery nodes). */
  readonly queryTags: number;
  /** Most nodes one tag query answers. */
  readonly queryResults: number;
}

/**
 * The limits every component enforces (see `docs/contracts.md`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIELD_LIMITS } from "@qmtl/qmtl/contracts";
 * assert.equal(FIELD_LIMITS.tagsPerNode, 64);
 * assert.equal(FIELD_LIMITS.paramsDepth, 64);
 * ```
 */
export const FIELD_LIMITS: FieldLimits = Object.freeze({
  paramsJsonBytes: 65_536,
  paramsDepth: 64,
  nodeTypeBytes: 64,
  nameBytes: 256,
  tagsPerNode: 64,
  tagsPerDag: 20_000,
  tagBytes: 128,
  metadataEntries: 64,
  metadataKeyBytes: 128,
  metadataValueBytes: 1024,
  versionBytes: 64,
  callbackUrlBytes: 2048,
  queryTags: 64,
  queryResults: 1000,
});

/**
 * Length of `s` in UTF-8 bytes (a lone surrogate counts 3, as U+FFFD).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8Length } from "@qmtl/qmtl/contracts";
 * assert.equal(utf8Length("abc"), 3);
 * assert.equal(utf8Length("é"), 2);
 * assert.equal(utf8Length("😀"), 4);
 * ```
 */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 2 UTF-16 units → 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

function invalid(
  field: string,
  message: string,
  details?: Record<string, string>,
): ContractError {
  return new ContractError(`${field}: ${message}`, {
    field,
    ...(details ? { details } : {}),
  });
}

function tooLong(field: string, what: string, max: number, actual: number) {
  return invalid(
    field,
    `${what} is ${actual} bytes long; at most ${max} bytes (UTF-8) allowed`,
    { limit: String(max), actual: String(actual) },
  );
}

function tooMany(field: string, what: string, max: number, actual: number) {
  return invalid(field, `${actual} ${what}; at most ${max} allowed`, {
    limit: String(max),
    actual: String(actual),
  });
}

/** Printable ASCII: the common case, checked by one regex. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function hex(c: number): string {
  return "U+" + c.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * The first character of `s` that display text may not contain, as
 * `[index, description]`: a control character (U+0000–U+001F, U+007F–U+009F;
 * with `newlines`, tab and line feed are allowed), a bidirectional override
 * or isolate (U+202A–U+202E, U+2066–U+2069), a line or paragraph separator
 * (U+2028, U+2029), or a lone surrogate.
 */
function badChar(s: string, newlines: boolean): [number, string] | undefined {
  if (PRINTABLE_ASCII.test(s)) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      if (newlines && (c === 0x09 || c === 0x0a)) continue;
      return [i, `control character ${hex(c)}`];
    }
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      return [i, `bidirectional control ${hex(c)}`];
    }
    if (c === 0x2028 || c === 0x2029) return [i, `separator ${hex(c)}`];
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return [i, "a lone surrogate"];
    }
    if (c >= 0xdc00 && c <= 0xdfff) return [i, "a lone surrogate"];
  }
  return undefined;
}

/** Options of {@link checkText}. */
interface TextRule {
  /** What the field is, for messages ("tag", "name", …). */
  what: string;
  /** Longest value, UTF-8 bytes. */
  maxBytes: number;
  /** Empty allowed (default true). */
  allowEmpty?: boolean;
  /** Leading/trailing whitespace refused (default false). */
  trimmed?: boolean;
  /** Tab and line feed allowed (default false). */
  newlines?: boolean;
  /** Characters refused besides controls, with why. */
  forbid?: { chars: string; why: string };
}

function checkText(value: unknown, field: string, rule: TextRule): string {
  if (typeof value !== "string") {
    throw invalid(field, `${rule.what} must be a string`);
  }
  if (value === "") {
    if (rule.allowEmpty === false) {
      throw invalid(field, `${rule.what} must not be empty`);
    }
    return value;
  }
  // Printable ASCII up to the limit (the common case) needs no count.
  if (value.length > rule.maxBytes || !PRINTABLE_ASCII.test(value)) {
    const bytes = utf8Length(value);
    if (bytes > rule.maxBytes) {
      throw tooLong(field, rule.what, rule.maxBytes, bytes);
    }
  }
  const bad = badChar(value, rule.newlines === true);
  if (bad) {
    throw invalid(
      field,
      `${rule.what} contains ${bad[1]} at index ${
        bad[0]
      }; only printable characters are allowed`,
    );
  }
  if (rule.trimmed && value.trim() !== value) {
    throw invalid(
      field,
      `${rule.what} must not start or end with whitespace`,
    );
  }
  if (rule.forbid) {
    for (const ch of rule.forbid.chars) {
      if (value.includes(ch)) {
        throw invalid(
          field,
          `${rule.what} must not contain ${
            JSON.stringify(ch)
          } (${rule.forbid.why})`,
        );
      }
    }
  }
  return value;
}

/**
 * Check one tag: 1–{@link FieldLimits.tagBytes} bytes, printable, no
 * leading or trailing whitespace, no `,` (the REST tag query separates tags
 * with commas).
 *
 * @param tag the tag
 * @param field path for errors, e.g. `nodes[0].tags[2]`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTag } from "@qmtl/qmtl/contracts";
 * checkTag("btc", "tags[0]");
 * assert.throws(() => checkTag("a\u0000b", "tags[1]"), /tags\[1\]: tag contains control character U\+0000/);
 * assert.throws(() => checkTag("", "tags[2]"), /must not be empty/);
 * ```
 */
export function checkTag(tag: unknown, field: string): string {
  return checkText(tag, field, {
    what: "tag",
    maxBytes: FIELD_LIMITS.tagBytes,
    allowEmpty: false,
    trimmed: true,
    forbid: { chars: ",", why: "tag queries separate tags with commas" },
  });
}

/**
 * Check a list of tags: at most `max` of them, each by {@link checkTag}.
 *
 * @param tags the tags
 * @param field path of the list, e.g. `nodes[0].tags`
 * @param max most tags allowed; default {@link FieldLimits.tagsPerNode}
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTags } from "@qmtl/qmtl/contracts";
 * checkTags(["btc", "close"], "tags");
 * assert.throws(() => checkTags(new Array(65).fill("x"), "tags"), /65 tags; at most 64 allowed/);
 * ```
 */
export function checkTags(
  tags: readonly unknown[],
  field: string,
  max: number = FIELD_LIMITS.tagsPerNode,
): void {
  if (!Array.isArray(tags)) throw invalid(field, "tags must be an array");
  if (tags.length > max) throw tooMany(field, "tags", max, tags.length);
  for (let i = 0; i < tags.length; i++) checkTag(tags[i], `${field}[${i}]`);
}

/**
 * Check the tags of one tag query (`QueryNodesByTags`, the REST
 * `/v1/nodes/by-tags`, a TagQuery node's `query_tags`): 1 to
 * {@link FieldLimits.queryTags} tags, each by {@link checkTag}.
 *
 * @param tags the queried tags
 * @param field path for errors (default `tags`)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkQueryTags } from "@qmtl/qmtl/contracts";
 * checkQueryTags(["btc"]);
 * assert.throws(() => checkQueryTags([]), /tags: give at least one tag/);
 * assert.throws(() => checkQueryTags(new Array(500_000).fill("t")), /500000 tags; at most 64 allowed/);
 * ```
 */
export function checkQueryTags(
  tags: readonly unknown[],
  field = "tags",
): void {
  if (!Array.isArray(tags) || tags.length === 0) {
    throw invalid(field, "give at least one tag");
  }
  checkTags(tags, field, FIELD_LIMITS.queryTags);
}

/**
 * Check a display name (node name, strategy name): at most
 * {@link FieldLimits.nameBytes} bytes, printable; empty allowed.
 *
 * @param name the name
 * @param field path for errors, e.g. `nodes[2].name`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkName } from "@qmtl/qmtl/contracts";
 * checkName("sma_fast", "name");
 * assert.throws(() => checkName("a\r\nb", "name"), /control character U\+000D/);
 * ```
 */
export function checkName(name: unknown, field: string): string {
  return checkText(name, field, {
    what: "name",
    maxBytes: FIELD_LIMITS.nameBytes,
  });
}

/**
 * Check a metadata map (of a node, a DAG or a request): at most
 * {@link FieldLimits.metadataEntries} entries; keys 1–
 * {@link FieldLimits.metadataKeyBytes} bytes, printable, not padded with
 * whitespace; values at most {@link FieldLimits.metadataValueBytes} bytes,
 * printable (tab and line feed allowed).
 *
 * @param metadata the map
 * @param field path of the map, e.g. `nodes[0].metadata`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMetadata } from "@qmtl/qmtl/contracts";
 * checkMetadata({ team: "quant", note: "line 1\nline 2" }, "metadata");
 * assert.throws(() => checkMetadata({ k: "x".repeat(2000) }, "metadata"), /metadata\.k: metadata value is 2000 bytes long/);
 * ```
 */
export function checkMetadata(
  metadata: Readonly<Record<string, unknown>>,
  field: string,
): void {
  if (typeof metadata !== "object" || metadata === null) {
    throw invalid(field, "metadata must be a map of strings");
  }
  const keys = Object.keys(metadata);
  if (keys.length > FIELD_LIMITS.metadataEntries) {
    throw tooMany(
      field,
      "metadata entries",
      FIELD_LIMITS.metadataEntries,
      keys.length,
    );
  }
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    // A key that cannot be shown as is (too long, odd characters) is named
    // by its position.
    const at = k.length > 0 && k.length <= FIELD_LIMITS.metadataKeyBytes &&
        /^[A-Za-z0-9_.:-]+$/.test(k)
      ? `${field}.${k}`
      : `${field}[#${i}]`;
    checkText(k, at, {
      what: "metadata key",
      maxBytes: FIELD_LIMITS.metadataKeyBytes,
      allowEmpty: false,
      trimmed: true,
    });
    checkText(metadata[k], at, {
      what: "metadata value",
      maxBytes: FIELD_LIMITS.metadataValueBytes,
      newlines: true,
    });
  }
}

const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * Check a strategy version: empty (the default, `"1"`) or 1–
 * {@link FieldLimits.versionBytes} characters of `A-Z a-z 0-9 . _ + -`,
 * starting with a letter or digit (`1`, `2.0.1`, `v3`, `2024-06-01`).
 *
 * @param version the version
 * @param field path for errors (default `version`)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkVersion } from "@qmtl/qmtl/contracts";
 * checkVersion("2.0.1");
 * assert.throws(() => checkVersion("1 beta"), /version: must be 1-64 characters/);
 * ```
 */
export function checkVersion(version: unknown, field = "version"): string {
  if (typeof version !== "string") {
    throw invalid(field, "version must be a string");
  }
  if (version === "") return version;
  if (version.length > FIELD_LIMITS.versionBytes) {
    throw tooLong(
      field,
      "version",
      FIELD_LIMITS.versionBytes,
      utf8Length(version),
    );
  }
  if (!VERSION_RE.test(version)) {
    throw invalid(
      field,
      `must be 1-${FIELD_LIMITS.versionBytes} characters of A-Z a-z 0-9 . _ + -, starting with a letter or digit; got ${
        JSON.stringify(version)
      }`,
    );
  }
  return version;
}

const NODE_TYPE_RE = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const SCHEMA_COMPAT_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/**
 * Check a node type: 1–{@link FieldLimits.nodeTypeBytes} characters of
 * `A-Z a-z 0-9 _ . : -`, starting with a letter (`StreamInput`,
 * `Processing`, `my.Signal`). Node types are part of node identity and are
 * indexed by the registry.
 *
 * @param nodeType the node type
 * @param field path for errors, e.g. `nodes[0].node_type`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNodeType } from "@qmtl/qmtl/contracts";
 * checkNodeType("Processing", "node_type");
 * assert.throws(() => checkNodeType("a|b", "node_type"), /node_type: node_type must be/);
 * ```
 */
export function checkNodeType(nodeType: unknown, field: string): string {
  return checkIdentifier(nodeType, field, "node_type", NODE_TYPE_RE, "letter");
}

/**
 * Check a `schema_compat_id`: 1–{@link FieldLimits.nodeTypeBytes}
 * characters of `A-Z a-z 0-9 _ . : -`, starting with a letter or digit.
 *
 * @param id the schema family
 * @param field path for errors, e.g. `nodes[0].schema_compat_id`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSchemaCompatId } from "@qmtl/qmtl/contracts";
 * checkSchemaCompatId("v1", "schema_compat_id");
 * assert.throws(() => checkSchemaCompatId("", "schema_compat_id"), /must be 1-64 characters/);
 * ```
 */
export function checkSchemaCompatId(id: unknown, field: string): string {
  return checkIdentifier(
    id,
    field,
    "schema_compat_id",
    SCHEMA_COMPAT_RE,
    "letter or digit",
  );
}

function checkIdentifier(
  value: unknown,
  field: string,
  what: string,
  re: RegExp,
  start: string,
): string {
  const max = FIELD_LIMITS.nodeTypeBytes;
  if (
    typeof value !== "string" || value.length > max || !re.test(value)
  ) {
    const shown = typeof value === "string"
      ? JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value)
      : typeof value;
    throw invalid(
      field,
      `${what} must be 1-${max} characters of A-Z a-z 0-9 _ . : -, starting with a ${start}; got ${shown}`,
      { limit: String(max) },
    );
  }
  return value;
}

/**
 * Check the size of a params JSON text: at most
 * {@link FieldLimits.paramsJsonBytes} bytes.
 *
 * @param json the JSON text
 * @param field path for errors, e.g. `nodes[0].params_json`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkParamsSize } from "@qmtl/qmtl/contracts";
 * checkParamsSize('{"window":20}', "params_json");
 * assert.throws(() => checkParamsSize("x".repeat(70_000), "params_json"), /at most 65536 bytes/);
 * ```
 */
export function checkParamsSize(json: string, field: string): void {
  const max = FIELD_LIMITS.paramsJsonBytes;
  if (json.length * 3 > max) {
    const bytes = utf8Length(json);
    if (bytes > max) throw tooLong(field, "params JSON", max, bytes);
  }
}

/**
 * The nesting depth of a JSON text (arrays and objects; `{}` is 1,
 * `{"a":[1]}` is 2), scanned without parsing; the scan stops as soon as the
 * depth passes `stopAbove`. Brackets inside strings do not count.
 *
 * @param json the JSON text (need not be valid)
 * @param stopAbove stop (and return) once the depth exceeds this
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonDepth } from "@qmtl/qmtl/contracts";
 * assert.equal(jsonDepth('{"a":[1,{"b":"[[["}]}'), 3);
 * assert.equal(jsonDepth("[".repeat(100_000), 64), 65);
 * ```
 */
export function jsonDepth(json: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Check the nesting depth of a params JSON text before it is parsed: at
 * most {@link FieldLimits.paramsDepth}.
 *
 * @param json the JSON text
 * @param field path for errors, e.g. `nodes[0].params_json`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkParamsDepth } from "@qmtl/qmtl/contracts";
 * checkParamsDepth('{"a":{"b":[1]}}', "params_json");
 * assert.throws(
 *   () => checkParamsDepth('{"a":' + "[".repeat(10_000) + "]".repeat(10_000) + "}", "params_json"),
 *   /params_json: params nest deeper than 64 levels/,
 * );
 * ```
 */
export function checkParamsDepth(json: string, field: string): void {
  const max = FIELD_LIMITS.paramsDepth;
  if (jsonDepth(json, max) > max) throw tooDeep(field);
}

/**
 * The error of params nested deeper than {@link FieldLimits.paramsDepth}
 * (shared by the text scan and the canonicaliser).
 *
 * @param field path for errors
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { paramsTooDeep } from "@qmtl/qmtl/contracts";
 * assert.equal(paramsTooDeep("params").details?.limit, "64");
 * ```
 */
export function paramsTooDeep(field: string): ContractError {
  return tooDeep(field);
}

function tooDeep(field: string): ContractError {
  const max = FIELD_LIMITS.paramsDepth;
  return invalid(
    field,
    `params nest deeper than ${max} levels of arrays and objects (limit ${max})`,
    { limit: String(max) },
  );
}

/**
 * Check the display fields of a DAG — its name and metadata, and every
 * node's name, tags and metadata — and the number of distinct tags
 * ({@link FieldLimits.tagsPerDag}). Identity fields (node type, params, …)
 * are checked by `nodeIdCanonical`; `verifyDag` runs both.
 *
 * @param dag the DAG
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { NodeSpecSchema, StrategyDagSchema } from "./messages.ts";
 * import { checkDagFields } from "@qmtl/qmtl/contracts";
 * const dag = create(StrategyDagSchema, {
 *   name: "demo",
 *   nodes: [create(NodeSpecSchema, { name: "p", tags: ["btc", "bad\ntag"] })],
 * });
 * assert.throws(() => checkDagFields(dag), (e: Error & { field?: string }) => e.field === "nodes[0].tags[1]");
 * ```
 */
export function checkDagFields(dag: StrategyDag): void {
  checkName(dag.name, "name");
  checkMetadata(dag.metadata ?? {}, "metadata");
  const nodes = dag.nodes;
  const distinct = new Set<string>();
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (typeof n !== "object" || n === null) continue; // verifyDag says so
    const prefix = `nodes[${i}].`;
    checkName(n.name, prefix + "name");
    const tags = n.tags ?? [];
    checkTags(tags, prefix + "tags");
    for (const t of tags) distinct.add(t);
    if (distinct.size > FIELD_LIMITS.tagsPerDag) {
      throw tooMany(
        prefix + "tags",
        "distinct tags in the DAG",
        FIELD_LIMITS.tagsPerDag,
        distinct.size,
      );
    }
    checkMetadata(n.metadata ?? {}, prefix + "metadata");
  }
}

/**
 * The fields of a submission besides its DAG.
 *
 * @example
 * ```ts
 * import type { SubmitFields } from "@qmtl/qmtl/contracts";
 * const f: SubmitFields = { version: "2", callbackUrl: "", metadata: {} };
 * ```
 */
export interface SubmitFields {
  /** Strategy version ({@link checkVersion}). */
  version: string;
  /** Webhook URL; its address is checked by the Gateway. */
  callbackUrl: string;
  /** Request metadata ({@link checkMetadata}). */
  metadata: Readonly<Record<string, string>>;
}

/**
 * Check a submission's version, callback URL length and metadata (the DAG
 * itself is checked by `verifyDag`).
 *
 * @param req the request fields
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSubmitFields } from "@qmtl/qmtl/contracts";
 * checkSubmitFields({ version: "1", callbackUrl: "https://example.com/hook", metadata: {} });
 * assert.throws(
 *   () => checkSubmitFields({ version: "x".repeat(65_536), callbackUrl: "", metadata: {} }),
 *   /version: version is 65536 bytes long; at most 64 bytes/,
 * );
 * ```
 */
export function checkSubmitFields(req: SubmitFields): void {
  checkVersion(req.version, "version");
  checkText(req.callbackUrl, "callback_url", {
    what: "callback URL",
    maxBytes: FIELD_LIMITS.callbackUrlBytes,
  });
  checkMetadata(req.metadata ?? {}, "metadata");
}
