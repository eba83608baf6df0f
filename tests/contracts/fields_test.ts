// Limits and character rules of client-controlled fields
// (lib/contracts/fields.ts) and their use by the node-ID code and verifyDag.
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  canonicalJson,
  canonicalParamsJson,
  checkDagFields,
  checkMetadata,
  checkName,
  checkNodeType,
  checkParamsDepth,
  checkParamsSize,
  checkQueryTags,
  checkSchemaCompatId,
  checkSubmitFields,
  checkTag,
  checkTags,
  checkVersion,
  computeNodeId,
  ContractError,
  FIELD_LIMITS,
  jsonDepth,
  type NodeSpec,
  NodeSpecSchema,
  type StrategyDag,
  tagQueryParams,
  utf8Length,
  verifyDag,
} from "../../lib/contracts/mod.ts";
import {
  fieldDag,
  fieldSpec,
  type FieldSpecInit,
} from "../support/field_specs.ts";

function refused(
  fn: () => unknown,
  field: string,
  re?: RegExp,
): ContractError {
  let caught: ContractError | undefined;
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ContractError, `expected ContractError, got ${e}`);
    assert.equal(e.code, "E_INVALID");
    assert.equal(e.field, field);
    if (re) assert.match(e.message, re);
    caught = e;
    return true;
  });
  return caught!;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [v];
  return v;
}

function spec(init: FieldSpecInit): NodeSpec {
  return fieldSpec(init, {
    nodeType: "Processing",
    params: { w: 1 },
    tags: [],
  });
}

function dagOf(
  nodes: NodeSpec[],
  init: Partial<StrategyDag> = {},
): StrategyDag {
  return fieldDag(nodes, init, "s");
}

/** computeNodeId of a Processing node of one 60 s bar. */
function processingId(
  p: { params?: Record<string, unknown>; paramsJson?: string },
): string {
  return computeNodeId({
    nodeType: "Processing",
    intervalS: 60,
    period: 1,
    ...p,
  });
}

Deno.test("fields: utf8Length counts UTF-8 bytes", () => {
  const cases: [string, number][] = [
    ["", 0],
    ["abc", 3],
    ["é", 2],
    ["€", 3],
    ["😀", 4],
    ["\ud800", 3],
    ["\udc00x", 4],
  ];
  for (const [text, bytes] of cases) {
    assert.equal(utf8Length(text), bytes, JSON.stringify(text));
  }
  assert.equal(
    utf8Length("aé€😀"),
    new TextEncoder().encode("aé€😀").length,
  );
});

Deno.test("fields: jsonDepth scans without parsing, strings do not count, stops early", () => {
  const cases: [string, number][] = [
    ["1", 0],
    ["{}", 1],
    ['{"a":[1,[2]],"b":{}}', 3],
    ['["[[[[\\"]]]"]', 1],
    ['{"a\\\\":[]}', 2],
  ];
  for (const [json, depth] of cases) assert.equal(jsonDepth(json), depth, json);
  assert.equal(jsonDepth("[".repeat(1_000_000), 64), 65);
});

Deno.test("fields: params are bounded in depth and size (text, objects, the node ID)", () => {
  const max = FIELD_LIMITS.paramsDepth;
  // Exactly at the limit is fine, one more is refused — from text and objects.
  const okJson = canonicalJson({ a: nested(max - 1) });
  assert.equal(jsonDepth(okJson), max);
  checkParamsDepth(okJson, "params_json");
  const deepJson = canonicalJson({ a: nested(max - 2) }).replace(
    "1",
    "[1]",
  ).replace("[1]", "[[1]]");
  assert.equal(jsonDepth(deepJson), max + 1);
  const e = refused(
    () => checkParamsDepth(deepJson, "nodes[0].params_json"),
    "nodes[0].params_json",
    /params nest deeper than 64 levels/,
  );
  assert.equal(e.details?.limit, "64");
  refused(
    () => canonicalJson({ a: nested(max) }),
    "params",
    /deeper than 64/,
  );
  refused(
    () => canonicalParamsJson({ a: nested(100_000) }),
    "params",
    /deeper than 64/,
  );
  // 10,000 levels in params_json: refused before parsing, no stack overflow.
  const hostile = '{"a":' + "[".repeat(10_000) + "]".repeat(10_000) + "}";
  refused(
    () => processingId({ paramsJson: hostile }),
    "params_json",
    /deeper than 64/,
  );
  refused(
    () => processingId({ params: { a: nested(10_000) } }),
    "params",
    /deeper than 64/,
  );
  // Size: from text and from objects.
  const big = { s: "x".repeat(FIELD_LIMITS.paramsJsonBytes) };
  refused(
    () => processingId({ params: big }),
    "params",
    /params JSON is 65544 bytes long; at most 65536 bytes/,
  );
  refused(
    () => processingId({ paramsJson: canonicalJson(big) }),
    "params_json",
    /at most 65536 bytes/,
  );
  checkParamsSize("é".repeat(FIELD_LIMITS.paramsJsonBytes / 2), "p");
  refused(
    () =>
      checkParamsSize("é".repeat(FIELD_LIMITS.paramsJsonBytes / 2 + 1), "p"),
    "p",
    /65538 bytes/,
  );
});

Deno.test("fields: node types and schema families are identifiers", () => {
  for (const ok of ["Processing", "StreamInput", "my.Signal", "a:b-c_d", "X"]) {
    assert.equal(checkNodeType(ok, "node_type"), ok);
  }
  for (
    const bad of [
      "",
      "1abc",
      "a|b",
      "Tag Query",
      "a\u0000",
      "é",
      "x".repeat(65),
      3,
    ]
  ) {
    refused(
      () => checkNodeType(bad, "nodes[2].node_type"),
      "nodes[2].node_type",
    );
  }
  checkNodeType("x".repeat(64), "node_type");
  // A 64 KiB node type is refused without echoing it whole.
  const e = refused(
    () => checkNodeType("N".repeat(65_536), "node_type"),
    "node_type",
  );
  assert.ok(e.message.length < 300, e.message);
  assert.equal(checkSchemaCompatId("v1", "s"), "v1");
  assert.equal(checkSchemaCompatId("2024.1", "s"), "2024.1");
  refused(() => checkSchemaCompatId("", "s"), "s");
  refused(() => checkSchemaCompatId("v|1", "s"), "s");
  refused(() => checkSchemaCompatId("v".repeat(65), "s"), "s");
});

Deno.test("fields: tags — non-empty, bounded, printable, unpadded, no commas", () => {
  checkTag("btc", "t");
  checkTag("BTC/USDT 1m", "t");
  checkTag("é".repeat(64), "t");
  checkTag("x".repeat(128), "t");
  const cases: [unknown, RegExp][] = [
    ["", /must not be empty/],
    ["x".repeat(129), /129 bytes long; at most 128 bytes/],
    ["é".repeat(65), /130 bytes long/],
    ["a\u0000b", /control character U\+0000 at index 1/],
    ["a\r\nb", /control character U\+000D/],
    ["a\tb", /control character U\+0009/],
    ["\u0085", /control character U\+0085/],
    ["a\u202eb", /bidirectional control U\+202E/],
    ["a\u2028", /separator U\+2028/],
    ["a\ud800", /lone surrogate/],
    ["\udc00", /lone surrogate/],
    [" btc", /must not start or end with whitespace/],
    ["btc ", /must not start or end with whitespace/],
    ["a,b", /must not contain ","/],
    [7, /tag must be a string/],
  ];
  for (const [tag, re] of cases) {
    refused(() => checkTag(tag, "tags[3]"), "tags[3]", re);
  }
  checkTags(new Array(64).fill("t"), "tags");
  const e = refused(
    () => checkTags(new Array(50_000).fill("t"), "nodes[0].tags"),
    "nodes[0].tags",
    /50000 tags; at most 64 allowed/,
  );
  assert.deepEqual(e.details, { limit: "64", actual: "50000" });
  refused(() => checkTags(["a", ""], "tags"), "tags[1]");
  refused(() => checkTags("abc" as never, "tags"), "tags", /must be an array/);
});

Deno.test("fields: tag queries — 1 to 64 tags, each a valid tag", () => {
  checkQueryTags(["a"]);
  checkQueryTags(new Array(64).fill("a"));
  refused(() => checkQueryTags([]), "tags", /at least one tag/);
  refused(
    () => checkQueryTags(new Array(500_000).fill("t")),
    "tags",
    /500000 tags; at most 64 allowed/,
  );
  refused(() => checkQueryTags(["ok", "x".repeat(200)]), "tags[1]");
  // TagQuery node params follow the same rule.
  refused(
    () => tagQueryParams(new Array(65).fill(0).map((_, i) => `t${i}`), "any"),
    "params.query_tags",
    /65 tags; at most 64/,
  );
  refused(
    () => tagQueryParams(["a\nb"], "all"),
    "params.query_tags[0]",
    /control character/,
  );
});

Deno.test("fields: names and metadata", () => {
  checkName("", "name");
  checkName("sma fast (20)", "name");
  checkName("x".repeat(256), "name");
  refused(() => checkName("x".repeat(257), "name"), "name", /257 bytes/);
  refused(() => checkName("a\u0000", "nodes[1].name"), "nodes[1].name");
  checkMetadata({}, "metadata");
  checkMetadata({ team: "quant", note: "two\nlines\twith tab" }, "metadata");
  refused(
    () => checkMetadata({ k: "v\r\n" }, "metadata"),
    "metadata.k",
    /metadata value contains control character U\+000D/,
  );
  refused(
    () => checkMetadata({ "": "v" }, "metadata"),
    "metadata[#0]",
    /metadata key must not be empty/,
  );
  refused(
    () => checkMetadata({ ["k".repeat(10_000)]: "v" }, "metadata"),
    "metadata[#0]",
    /metadata key is 10000 bytes long; at most 128/,
  );
  refused(
    () => checkMetadata({ a: "1", "bad\u0000key": "v" }, "m"),
    "m[#1]",
    /control character/,
  );
  refused(
    () => checkMetadata({ k: "v".repeat(1025) }, "metadata"),
    "metadata.k",
    /1025 bytes long; at most 1024/,
  );
  const many = Object.fromEntries(
    Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]),
  );
  refused(
    () => checkMetadata(many, "metadata"),
    "metadata",
    /65 metadata entries; at most 64/,
  );
  refused(
    () => checkMetadata({ k: 1 as unknown as string }, "metadata"),
    "metadata.k",
    /must be a string/,
  );
});

Deno.test("fields: versions and submissions", () => {
  for (const v of ["", "1", "2.0.1", "v3", "2024-06-01", "1.0+build.5"]) {
    assert.equal(checkVersion(v), v);
  }
  refused(() => checkVersion("1 beta"), "version", /must be 1-64 characters/);
  refused(() => checkVersion(".1"), "version");
  refused(() => checkVersion("v\u0000"), "version");
  refused(() => checkVersion("x".repeat(65)), "version", /65 bytes/);
  refused(() => checkVersion(1 as never), "version", /must be a string/);
  checkSubmitFields({ version: "1", callbackUrl: "", metadata: {} });
  refused(
    () =>
      checkSubmitFields({
        version: "1",
        callbackUrl: "https://h/" + "x".repeat(2048),
        metadata: {},
      }),
    "callback_url",
    /callback URL is 2058 bytes long; at most 2048/,
  );
  refused(
    () =>
      checkSubmitFields({
        version: "1",
        callbackUrl: "",
        metadata: { a: "\u0000" },
      }),
    "metadata.a",
  );
});

Deno.test("fields: checkDagFields and verifyDag refuse bad display fields naming node and field", () => {
  const good = spec({ name: "a", tags: ["btc"], metadata: { k: "v" } });
  checkDagFields(dagOf([good]));
  verifyDag(dagOf([good]));
  const cases: [StrategyDag, string, RegExp][] = [
    [dagOf([good], { name: "s\u0000" }), "name", /control character/],
    [
      dagOf([good], { metadata: { k: "x".repeat(2000) } }),
      "metadata.k",
      /2000 bytes/,
    ],
    [
      dagOf([spec({ tags: ["ok", ""] })]),
      "nodes[0].tags[1]",
      /must not be empty/,
    ],
    [
      dagOf([
        good,
        spec({ name: "b", params: { w: 2 }, tags: ["x".repeat(65_536)] }),
      ]),
      "nodes[1].tags[0]",
      /65536 bytes long; at most 128/,
    ],
    [
      dagOf([spec({ tags: new Array(50_000).fill("t") })]),
      "nodes[0].tags",
      /50000 tags; at most 64/,
    ],
    [dagOf([spec({ name: "a\r\nb" })]), "nodes[0].name", /U\+000D/],
    [
      dagOf([spec({ metadata: { "k\u0000": "v" } })]),
      "nodes[0].metadata[#0]",
      /control character/,
    ],
  ];
  for (const [d, field, re] of cases) {
    refused(() => checkDagFields(d), field, re);
    refused(() => verifyDag(d), field, re);
  }
});

Deno.test("fields: at most 20,000 distinct tags in one DAG", () => {
  const nodes: NodeSpec[] = [];
  let k = 0;
  for (let i = 0; i < 313; i++) {
    nodes.push(
      spec({
        name: `n${i}`,
        params: { i },
        tags: Array.from({ length: 64 }, () => `t${k++}`),
      }),
    );
  }
  assert.ok(k > FIELD_LIMITS.tagsPerDag);
  refused(
    () => checkDagFields(dagOf(nodes)),
    "nodes[312].tags",
    /20032 distinct tags in the DAG; at most 20000/,
  );
  // Repeated tags count once.
  const same = Array.from(
    { length: 400 },
    (_, i) => spec({ name: `m${i}`, params: { i }, tags: ["btc", "close"] }),
  );
  checkDagFields(dagOf(same));
});

Deno.test("fields: verifyDag keeps one prefix and the details of identity-field errors", () => {
  const hostile = '{"a":' + "[".repeat(10_000) + "]".repeat(10_000) + "}";
  const n = create(NodeSpecSchema, {
    nodeId: "sha256:" + "0".repeat(64),
    nodeType: "Processing",
    intervalS: 60,
    period: 1,
    paramsJson: hostile,
    schemaCompatId: "v1",
  });
  const e = refused(
    () => verifyDag(dagOf([n])),
    "nodes[0].params_json",
    /^nodes\[0\]\.params_json: params nest deeper than 64 levels/,
  );
  assert.equal(e.details?.limit, "64");
  assert.equal(e.nodeId, n.nodeId);
});
