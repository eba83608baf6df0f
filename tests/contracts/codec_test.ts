import assert from "node:assert/strict";
import protobuf from "protobufjs";
import {
  ContractError,
  create,
  decode,
  DESCRIPTOR,
  encode,
  fromJson,
  MESSAGE_NAMES,
  messageFields,
  type MessageName,
  StrategyState,
  toJson,
  UNKNOWN_FIELDS,
  unknownFields,
} from "../../lib/contracts/mod.ts";
import { SAMPLES, SMA_NODE, STREAM_NODE } from "../golden/samples.ts";

const golden = new URL("../golden/", import.meta.url);

function throwsContract(fn: () => unknown, pattern: RegExp, field?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ContractError, `expected ContractError, got ${e}`);
    assert.equal(e.code, "E_INVALID");
    assert.match(e.message, pattern);
    if (field !== undefined) assert.equal(e.field, field);
    return true;
  });
}

for (const name of MESSAGE_NAMES) {
  Deno.test(`golden ${name}: decode .bin == .json, re-encode byte-for-byte`, () => {
    const bin = Deno.readFileSync(new URL(`${name}.bin`, golden));
    const json = JSON.parse(
      Deno.readTextFileSync(new URL(`${name}.json`, golden)),
    );
    const msg = decode(name, bin);
    assert.deepEqual(toJson(name, msg), json);
    assert.deepEqual(encode(name, msg), bin);
    assert.deepEqual(encode(name, fromJson(name, json)), bin);
    assert.deepEqual(msg, SAMPLES[name]);
  });

  Deno.test(`round-trip ${name}`, () => {
    const sample = SAMPLES[name];
    const bytes = encode(name, sample);
    const back = decode(name, bytes);
    assert.deepEqual(back, sample);
    assert.equal(unknownFields(back), undefined);
    // Defaults: empty input decodes to create(), which encodes to nothing.
    const empty = decode(name, new Uint8Array(0));
    assert.deepEqual(empty, create(name));
    assert.equal(encode(name, empty).length, 0);
    // JSON round trip.
    assert.deepEqual(fromJson(name, toJson(name, sample)), sample);
  });
}

Deno.test("types.ts field sets equal the proto field sets", () => {
  for (const name of MESSAGE_NAMES) {
    const protoNames = messageFields(name).map((f) => f.name).sort();
    assert.deepEqual(Object.keys(create(name)).sort(), protoNames, name);
    assert.deepEqual(Object.keys(SAMPLES[name]).sort(), protoNames, name);
    for (const f of messageFields(name)) {
      assert.equal(
        f.name,
        f.protoName.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()),
      );
    }
  }
  assert.deepEqual(
    messageFields("NodeSpec").map((f) => [f.id, f.protoName, f.type]),
    [
      [1, "node_id", "string"],
      [2, "node_type", "string"],
      [3, "interval_s", "uint32"],
      [4, "period", "uint32"],
      [5, "params_json", "string"],
      [6, "inputs", "string"],
      [7, "code_hash", "string"],
      [8, "schema_compat_id", "string"],
      [9, "name", "string"],
      [10, "tags", "string"],
      [11, "metadata", "map"],
    ],
  );
});

Deno.test("StrategyState enum numbering matches the proto", () => {
  const root = protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
  const e = root.lookupEnum("qmtl.v1.StrategyState");
  for (const [k, v] of Object.entries(e.values)) {
    const short = k.replace(/^STRATEGY_STATE_/, "");
    assert.equal(StrategyState[short as keyof typeof StrategyState], v, k);
  }
  assert.equal(Object.keys(e.values).length, 6);
});

// Independent cross-check with protobufjs's own (generated) codec.
function normalise(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v).map((
        [k, x],
      ) => [
        k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()),
        normalise(x),
      ]),
    );
  }
  return v;
}

Deno.test("protobufjs agrees with our codec on every sample", () => {
  const root = protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
  for (const name of MESSAGE_NAMES) {
    const T = root.lookupType(`qmtl.v1.${name}`);
    const ours = encode(name, SAMPLES[name]);
    const theirs = T.toObject(T.decode(ours), {
      longs: Number,
      enums: Number,
      defaults: true,
      arrays: true,
      objects: true,
    });
    const mine = normalise(decode(name, ours)) as Record<string, unknown>;
    const other = normalise(theirs) as Record<string, unknown>;
    if (name === "StrategyStatus") {
      // protobufjs sets the proto3-optional oneof discriminator.
      delete other._error;
    }
    assert.deepEqual(
      JSON.parse(JSON.stringify(other)),
      JSON.parse(JSON.stringify(mine)),
      name,
    );
    // And we decode what protobufjs encodes.
    const pbBytes = T.encode(T.decode(ours)).finish();
    assert.deepEqual(
      normalise(decode(name, pbBytes)),
      normalise(SAMPLES[name]),
      name,
    );
  }
});

Deno.test("unknown fields are preserved through decode → encode", () => {
  const extra = new Uint8Array([
    0xf8,
    0x01,
    0x2a, // field 31 varint 42
    0x85,
    0x02,
    1,
    2,
    3,
    4, // field 32 fixed32
    0x89,
    0x02,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8, // field 33 fixed64
    0x92,
    0x02,
    0x03,
    0x61,
    0x62,
    0x63, // field 34 bytes "abc"
  ]);
  const base = encode("NodeSpec", STREAM_NODE);
  const withExtra = new Uint8Array([...base, ...extra]);
  const msg = decode("NodeSpec", withExtra);
  assert.deepEqual(msg, STREAM_NODE); // invisible to deepEqual / JSON
  assert.deepEqual(unknownFields(msg), extra);
  assert.equal(Object.keys(msg).includes(String(UNKNOWN_FIELDS)), false);
  assert.deepEqual(encode("NodeSpec", msg), withExtra);

  // Interleaved unknown fields: kept (appended after the known ones).
  const interleaved = new Uint8Array([0xf8, 0x01, 0x07, ...base]);
  const m2 = decode("NodeSpec", interleaved);
  assert.deepEqual(
    encode("NodeSpec", m2),
    new Uint8Array([...base, 0xf8, 0x01, 0x07]),
  );

  // Nested: an unknown field inside a node of a DAG survives.
  const dagBytes = encode("StrategyDag", {
    ...SAMPLES.StrategyDag,
    nodes: [msg, SMA_NODE],
  });
  const dag = decode("StrategyDag", dagBytes);
  assert.deepEqual(unknownFields(dag.nodes[0]), extra);
  assert.equal(unknownFields(dag.nodes[1]), undefined);
  assert.deepEqual(encode("StrategyDag", dag), dagBytes);

  // Nested inside a singular message, merged across two occurrences.
  const status = encode("StrategyStatus", SAMPLES.StrategyStatus);
  const more = new Uint8Array([0x52, 0x03, 0xf8, 0x01, 0x09]); // error { field 31 = 9 }
  const s = decode("StrategyStatus", new Uint8Array([...status, ...more]));
  assert.equal(s.error?.code, "E_UNAVAILABLE");
  assert.deepEqual(unknownFields(s.error!), new Uint8Array([0xf8, 0x01, 0x09]));
  const s2 = decode(
    "StrategyStatus",
    new Uint8Array([...status, ...more, ...more]),
  );
  assert.deepEqual(
    unknownFields(s2.error!),
    new Uint8Array([0xf8, 0x01, 0x09, 0xf8, 0x01, 0x09]),
  );
});

Deno.test("decode semantics: merge, last-wins, open enums, map entries", () => {
  // Scalar last-one-wins, repeated appends.
  const a = encode("GetStrategyRequest", { strategyId: "a" });
  const b = encode("GetStrategyRequest", { strategyId: "b" });
  assert.equal(
    decode("GetStrategyRequest", new Uint8Array([...a, ...b])).strategyId,
    "b",
  );
  const t1 = encode("QueryNodesByTagsRequest", {
    tags: ["x"],
    matchMode: "any",
    intervalS: 0,
  });
  const t2 = encode("QueryNodesByTagsRequest", {
    tags: ["y", ""],
    matchMode: "all",
    intervalS: 5,
  });
  assert.deepEqual(
    decode("QueryNodesByTagsRequest", new Uint8Array([...t1, ...t2])),
    {
      tags: ["x", "y", ""],
      matchMode: "all",
      intervalS: 5,
    },
  );
  // Unknown enum values are kept as numbers and re-encoded.
  const r = decode("SubmitStrategyResponse", new Uint8Array([0x10, 0x63]));
  assert.equal(r.state, 99);
  assert.deepEqual(
    encode("SubmitStrategyResponse", r),
    new Uint8Array([0x10, 0x63]),
  );
  assert.equal(
    (toJson("SubmitStrategyResponse", r) as Record<string, unknown>).state,
    99,
  );
  // Negative enum (10-byte varint).
  const neg = encode("SubmitStrategyResponse", {
    ...r,
    state: -1 as StrategyState,
  });
  assert.equal(neg.length, 11);
  assert.equal(decode("SubmitStrategyResponse", neg).state, -1);
  // Map entry: missing key/value default to "", unknown entry fields skipped,
  // later entries win, "__proto__" is a plain key.
  const entry = new Uint8Array([0x2a, 0x05, 0x12, 0x01, 0x76, 0x18, 0x01]); // details { value "v", f3 }
  const protoKey = new Uint8Array([
    0x2a,
    0x0e,
    0x0a,
    0x09,
    ...new TextEncoder().encode("__proto__"),
    0x12,
    0x01,
    0x78,
  ]);
  const d = decode("ErrorDetail", new Uint8Array([...entry, ...protoKey]));
  assert.equal(d.details[""], "v");
  assert.equal(Object.getPrototypeOf(d.details), Object.prototype);
  assert.equal(Object.hasOwn(d.details, "__proto__"), true);
  assert.equal(d.details["__proto__"], "x");
  assert.deepEqual(
    decode("ErrorDetail", encode("ErrorDetail", d)).details["__proto__"],
    "x",
  );
  // Absent optional message → undefined; empty present → defaults.
  assert.equal(decode("StrategyStatus", new Uint8Array(0)).error, undefined);
  const withEmptyError = decode("StrategyStatus", new Uint8Array([0x52, 0x00]));
  assert.deepEqual(withEmptyError.error, create("ErrorDetail"));
  assert.deepEqual(
    encode("StrategyStatus", withEmptyError),
    new Uint8Array([0x52, 0x00]),
  );
  // Absent non-optional message → defaults, and not written back.
  const rec = decode("NodeRecord", new Uint8Array([0x12, 0x01, 0x74]));
  assert.deepEqual(rec.node, create("NodeSpec"));
  assert.deepEqual(
    encode("NodeRecord", rec),
    new Uint8Array([0x12, 0x01, 0x74]),
  );
  // bool from a multi-byte varint; uint32 truncates a 64-bit varint.
  assert.equal(
    decode(
      "SubmitStrategyResponse",
      new Uint8Array([0x20, 0x80, 0x80, 0x80, 0x80, 0x10]),
    ).duplicate,
    true,
  );
  assert.equal(
    decode(
      "ListNodesRequest",
      new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0x1f]),
    ).pageSize,
    0xffffffff,
  );
});

Deno.test("int64 values round-trip, unsafe values are rejected", () => {
  for (
    const ms of [
      1,
      -1,
      127,
      128,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 35 + 3,
      -(2 ** 40) - 7,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ]
  ) {
    const job = { ...SAMPLES.QueueJob, createdAtMs: ms };
    assert.equal(decode("QueueJob", encode("QueueJob", job)).createdAtMs, ms);
    assert.deepEqual(fromJson("QueueJob", toJson("QueueJob", job)), job);
  }
  // 2^53 as a varint: 0x80 x7, 0x10
  throwsContract(
    () =>
      decode(
        "QueueJob",
        new Uint8Array([0x38, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]),
      ),
    /int64 outside the safe integer range at offset 0/,
    "created_at_ms",
  );
  throwsContract(
    () => encode("QueueJob", { ...SAMPLES.QueueJob, createdAtMs: 2 ** 53 }),
    /created_at_ms: expected int64/,
    "created_at_ms",
  );
});

Deno.test("large messages: multi-byte lengths and non-ASCII strings", () => {
  const long = "é😀".repeat(500) + "x".repeat(70_000);
  const node = {
    ...STREAM_NODE,
    name: long,
    metadata: { big: long, [long]: "k" },
  };
  const dag = {
    ...SAMPLES.StrategyDag,
    nodes: Array.from({ length: 300 }, () => node),
  };
  const req = { ...SAMPLES.SubmitStrategyRequest, dag };
  const back = decode(
    "SubmitStrategyRequest",
    encode("SubmitStrategyRequest", req),
  );
  assert.equal(back.dag.nodes.length, 300);
  assert.equal(back.dag.nodes[299].name, long);
  assert.equal(back.dag.nodes[5].metadata.big, long);
  assert.equal(back.dag.nodes[5].metadata[long], "k");
  const bytesMsg = {
    ...SAMPLES.QueueJob,
    payload: new Uint8Array(100_000).fill(7),
  };
  assert.deepEqual(
    decode("QueueJob", encode("QueueJob", bytesMsg)).payload,
    bytesMsg.payload,
  );
  // String with a BOM keeps it.
  const bom = { strategyId: "\ufeffid" };
  assert.equal(
    decode("GetStrategyRequest", encode("GetStrategyRequest", bom)).strategyId,
    "\ufeffid",
  );
});

Deno.test("encode validates types and names the field", () => {
  const bad = (name: MessageName, msg: unknown, re: RegExp, field?: string) =>
    throwsContract(() => encode(name, msg as never), re, field);
  bad(
    "NodeSpec",
    { ...STREAM_NODE, intervalS: "60" },
    /NodeSpec\.interval_s: expected uint32/,
    "interval_s",
  );
  bad("NodeSpec", { ...STREAM_NODE, period: -1 }, /expected uint32/, "period");
  bad("NodeSpec", { ...STREAM_NODE, period: 1.5 }, /expected uint32/, "period");
  bad(
    "NodeSpec",
    { ...STREAM_NODE, nodeId: 5 },
    /expected string, got number 5/,
    "node_id",
  );
  bad("NodeSpec", { ...STREAM_NODE, inputs: "x" }, /expected array/, "inputs");
  bad(
    "NodeSpec",
    { ...STREAM_NODE, inputs: ["a", 3] },
    /expected string/,
    "inputs[1]",
  );
  bad(
    "NodeSpec",
    { ...STREAM_NODE, tags: ["\ud800"] },
    /lone surrogate/,
    "tags[0]",
  );
  bad(
    "NodeSpec",
    { ...STREAM_NODE, metadata: { a: 1 } },
    /string map value/,
    'metadata["a"]',
  );
  bad(
    "NodeSpec",
    { ...STREAM_NODE, metadata: [] },
    /expected object map/,
    "metadata",
  );
  bad(
    "StrategyDag",
    {
      ...SAMPLES.StrategyDag,
      nodes: [STREAM_NODE, { ...SMA_NODE, period: "x" }],
    },
    /StrategyDag\.nodes\[1\]\.period/,
    "nodes[1].period",
  );
  bad(
    "StrategyDag",
    { ...SAMPLES.StrategyDag, nodes: [null] },
    /expected NodeSpec object, got null/,
    "nodes[0]",
  );
  bad(
    "StrategyStatus",
    { ...SAMPLES.StrategyStatus, state: "QUEUED" },
    /expected enum/,
    "state",
  );
  bad(
    "StrategyStatus",
    {
      ...SAMPLES.StrategyStatus,
      error: { ...SAMPLES.ErrorDetail, details: { x: null } },
    },
    /error\.details\["x"\]/,
    'error.details["x"]',
  );
  bad(
    "SubmitStrategyResponse",
    { ...SAMPLES.SubmitStrategyResponse, duplicate: 1 },
    /expected boolean/,
    "duplicate",
  );
  bad(
    "QueueJob",
    { ...SAMPLES.QueueJob, payload: [1, 2] },
    /expected Uint8Array, got array/,
    "payload",
  );
  bad(
    "SubmitStrategyRequest",
    { ...SAMPLES.SubmitStrategyRequest, dag: "x" },
    /expected StrategyDag object/,
    "dag",
  );
  throwsContract(
    () => encode("Edge", null as never),
    /expected an object, got null/,
  );
  throwsContract(
    () => encode("Nope" as MessageName, {} as never),
    /unknown message type "Nope"/,
  );
  // undefined and null message fields are simply absent.
  assert.deepEqual(
    encode("Edge", { from: undefined, to: "b" } as never),
    new Uint8Array([0x12, 0x01, 0x62]),
  );
  assert.deepEqual(
    encode(
      "StrategyStatus",
      { ...create("StrategyStatus"), error: null } as never,
    ),
    new Uint8Array(0),
  );
});

Deno.test("decode rejects malformed bytes with ContractError naming type, field and offset", () => {
  const d = (name: MessageName, bytes: number[], re: RegExp, field?: string) =>
    throwsContract(() => decode(name, new Uint8Array(bytes)), re, field);
  d(
    "Edge",
    [0x0a, 0x05, 0x61],
    /decode Edge\.from: truncated: length 5 exceeds the 1 remaining bytes at offset 1/,
    "from",
  );
  d("Edge", [0x0a], /truncated varint at offset 1/, "from");
  d(
    "Edge",
    [0x08, 0x01],
    /Edge\.from: wire type 0 does not match string/,
    "from",
  );
  d("Edge", [0x0a, 0x02, 0xc3, 0x28], /invalid UTF-8/, "from");
  d(
    "Edge",
    [0x0a, 0x80, 0x01, ...new Array(128).fill(0xff)],
    /invalid UTF-8/,
    "from",
  );
  d("Edge", [0x00, 0x01], /invalid field number 0 at offset 0/);
  d("Edge", [0x80, 0x00], /invalid field number 0/);
  d("Edge", [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /tag larger than 32 bits/);
  d("Edge", [0x1b], /groups/);
  d("Edge", [0x1c], /groups/);
  d("Edge", [0x1e], /invalid wire type 6/);
  d("Edge", [0x1f], /invalid wire type 7/);
  d("Edge", [0x19, 1, 2], /truncated fixed64/);
  d("Edge", [0x1d, 1], /truncated fixed32/);
  d("Edge", [
    0x18,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x01,
  ], /varint longer than 10 bytes/);
  d("Edge", [0x18, 0xff, 0xff, 0xff, 0xff, 0xff], /truncated varint/);
  d("Edge", [0x18, 0xff, 0xff, 0xff, 0xff], /truncated varint/);
  d("Edge", [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /length > 2\^32/);
  d(
    "StrategyDag",
    [0x12, 0x03, 0x18, 0x3c, 0x20],
    /StrategyDag\.nodes\[0\]\.period: truncated varint at offset 5/,
    "nodes[0].period",
  );
  d(
    "StrategyDag",
    [0x12, 0x00, 0x12, 0x02, 0x3a, 0x01],
    /nodes\[1\]\.code_hash: truncated/,
    "nodes[1].code_hash",
  );
  d(
    "ErrorDetail",
    [0x2a, 0x02, 0x08, 0x01],
    /details: wire type 0 for map key/,
    "details",
  );
  d("ErrorDetail", [0x2a, 0x02, 0x10, 0x01], /map value/, "details");
  d(
    "ErrorDetail",
    [0x2a, 0x03, 0x0a, 0x05, 0x61],
    /details: truncated/,
    "details",
  );
  throwsContract(() => decode("Edge", "abc" as never), /expected a Uint8Array/);
  throwsContract(
    () => decode("Edge", [1, 2] as never),
    /expected a Uint8Array/,
  );
});

Deno.test("JSON helpers: names, int64 strings, base64, enums, errors", () => {
  const job = fromJson("QueueJob", {
    id: "j",
    idempotency_key: "k",
    payload: "AAEC_v8", // URL-safe, unpadded
    createdAtMs: 5,
    notBeforeMs: "-7",
    attempts: "3",
    lastError: null,
  });
  assert.deepEqual(job.payload, new Uint8Array([0, 1, 2, 0xfe, 0xff]));
  assert.equal(job.idempotencyKey, "k");
  assert.equal(job.createdAtMs, 5);
  assert.equal(job.notBeforeMs, -7);
  assert.equal(job.attempts, 3);
  assert.equal(job.lastError, "");
  assert.equal(
    (toJson("QueueJob", job) as Record<string, unknown>).payload,
    "AAEC/v8=",
  );
  const st = fromJson("StrategyStatus", {
    state: "STRATEGY_STATE_COMPLETED",
    error: { code: "E_X" },
  });
  assert.equal(st.state, StrategyState.COMPLETED);
  assert.equal(st.error?.code, "E_X");
  assert.equal(
    fromJson("StrategyStatus", { state: 4 }).state,
    StrategyState.FAILED,
  );
  const json = toJson("StrategyStatus", create("StrategyStatus")) as Record<
    string,
    unknown
  >;
  assert.equal("error" in json, false);
  const bad = (name: MessageName, v: unknown, re: RegExp, field?: string) =>
    throwsContract(() => fromJson(name, v), re, field);
  bad("Edge", { form: "a" }, /unknown field "form"/);
  bad("Edge", [], /expected Edge object, got array/);
  bad("Edge", { from: 1 }, /expected string/, "from");
  bad("QueueJob", { payload: "***" }, /invalid base64/, "payload");
  bad("QueueJob", { payload: 5 }, /base64 string/, "payload");
  bad("QueueJob", { createdAtMs: "1.5" }, /expected int64/, "created_at_ms");
  bad("QueueJob", { attempts: -1 }, /expected uint32/, "attempts");
  bad(
    "SubmitStrategyResponse",
    { duplicate: "yes" },
    /expected boolean/,
    "duplicate",
  );
  bad(
    "SubmitStrategyResponse",
    { state: "DONE" },
    /expected enum name/,
    "state",
  );
  bad("SubmitStrategyResponse", { state: 1.5 }, /expected enum/, "state");
  bad(
    "StrategyDag",
    { nodes: [{}, { period: "x" }] },
    /nodes\[1\]\.period/,
    "nodes[1].period",
  );
  bad("StrategyDag", { nodes: {} }, /expected array/, "nodes");
  bad("StrategyDag", { metadata: [] }, /expected object/, "metadata");
  bad("StrategyDag", { metadata: { a: 1 } }, /string map value/, "metadata");
  throwsContract(() => toJson("Edge", { from: 1 } as never), /Edge\.from/);
});
