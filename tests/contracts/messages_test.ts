import assert from "node:assert/strict";
import {
  create,
  type DescMessage,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import {
  ContractError,
  decode,
  EdgeSchema,
  ErrorDetailSchema,
  GetStrategyRequestSchema,
  ListNodesRequestSchema,
  NodeRecordSchema,
  NodeSpecSchema,
  QueryNodesByTagsRequestSchema,
  QueueJobSchema,
  SCHEMA_FILES,
  StrategyDagSchema,
  StrategyState,
  StrategyStateSchema,
  StrategyStatusSchema,
  SubmitStrategyRequestSchema,
  SubmitStrategyResponseSchema,
} from "../../lib/contracts/mod.ts";
import { JSON_OPTIONS } from "../golden/generate.ts";
import { SAMPLES, SMA_NODE, STATUS, STREAM_NODE } from "../golden/samples.ts";

const golden = new URL("../golden/", import.meta.url);

function throwsContract(fn: () => unknown, pattern: RegExp, field?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ContractError, `expected ContractError, got ${e}`);
    assert.equal(e.code, "E_INVALID");
    assert.match(e.message, pattern);
    assert.equal(e.field, field);
    return true;
  });
}

for (const [name, { schema, message }] of Object.entries(SAMPLES)) {
  Deno.test(`golden ${name}: decode .bin == .json, re-encode byte-for-byte`, () => {
    const bin = Deno.readFileSync(new URL(`${name}.bin`, golden));
    const json = JSON.parse(
      Deno.readTextFileSync(new URL(`${name}.json`, golden)),
    );
    const msg = decode(schema, bin);
    assert.deepEqual(toJson(schema, msg, JSON_OPTIONS), json);
    assert.deepEqual(toBinary(schema, msg), bin);
    assert.deepEqual(toBinary(schema, fromJson(schema, json)), bin);
    assert.deepEqual(msg, message);
  });

  Deno.test(`round-trip ${name}`, () => {
    const back = decode(schema, toBinary(schema, message));
    assert.deepEqual(back, message);
    assert.equal(back.$unknown, undefined);
    // Empty input decodes to the defaults, which encode to nothing.
    const empty = decode(schema, new Uint8Array(0));
    assert.deepEqual(empty, create(schema));
    assert.equal(toBinary(schema, empty).length, 0);
    assert.deepEqual(fromJson(schema, toJson(schema, message)), message);
  });
}

Deno.test("every message of qmtl.v1 has a golden sample", () => {
  const all = SCHEMA_FILES.flatMap((f) => f.messages.map((m) => m.name)).sort();
  assert.deepEqual(Object.keys(SAMPLES).sort(), all);
  assert.equal(all.length, 34);
});

Deno.test("field names: lowerCamelCase of the proto names; *_ms are doubles or uint32 (never bigint)", () => {
  for (const file of SCHEMA_FILES) {
    for (const m of file.messages) {
      for (const f of m.fields) {
        assert.equal(
          f.localName,
          f.name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()),
        );
        if (f.name.endsWith("_ms")) {
          assert.equal(f.fieldKind, "scalar", `${m.name}.${f.name}`);
          // Timestamps are doubles; bounded durations may be uint32.
          assert.ok(
            f.scalar === 1 /* DOUBLE */ ||
              (f.scalar === 13 /* UINT32 */ && !f.name.endsWith("_at_ms")),
            `${m.name}.${f.name}`,
          );
        }
      }
    }
  }
  assert.deepEqual(
    NodeSpecSchema.fields.map((f) => [f.number, f.name]),
    [
      [1, "node_id"],
      [2, "node_type"],
      [3, "interval_s"],
      [4, "period"],
      [5, "params_json"],
      [6, "inputs"],
      [7, "code_hash"],
      [8, "schema_compat_id"],
      [9, "name"],
      [10, "tags"],
      [11, "metadata"],
    ],
  );
});

Deno.test("StrategyState: names drop the STRATEGY_STATE_ prefix, numbers match the proto", () => {
  const values = StrategyStateSchema.values.map((v) => [v.name, v.number]);
  assert.deepEqual(values, [
    ["STRATEGY_STATE_UNSPECIFIED", 0],
    ["STRATEGY_STATE_QUEUED", 1],
    ["STRATEGY_STATE_PROCESSING", 2],
    ["STRATEGY_STATE_COMPLETED", 3],
    ["STRATEGY_STATE_FAILED", 4],
    ["STRATEGY_STATE_RETIRED", 5],
  ]);
  for (const [name, number] of values) {
    const short = String(name).replace(/^STRATEGY_STATE_/, "");
    assert.equal(StrategyState[short as keyof typeof StrategyState], number);
  }
});

Deno.test("unknown fields are preserved through decode → encode", () => {
  const extra = new Uint8Array([
    ...[0xf8, 0x01, 0x2a], // field 31 varint 42
    ...[0x85, 0x02, 1, 2, 3, 4], // field 32 fixed32
    ...[0x89, 0x02, 1, 2, 3, 4, 5, 6, 7, 8], // field 33 fixed64
    ...[0x92, 0x02, 0x03, 0x61, 0x62, 0x63], // field 34 bytes "abc"
  ]);
  const base = toBinary(NodeSpecSchema, STREAM_NODE);
  const withExtra = new Uint8Array([...base, ...extra]);
  const msg = decode(NodeSpecSchema, withExtra);
  assert.equal(msg.nodeId, STREAM_NODE.nodeId);
  assert.equal(msg.$unknown?.length, 4);
  assert.deepEqual(msg.$unknown?.map((u) => u.no), [31, 32, 33, 34]);
  assert.deepEqual(toBinary(NodeSpecSchema, msg), withExtra);
  // Not written when asked not to.
  assert.deepEqual(
    toBinary(NodeSpecSchema, msg, { writeUnknownFields: false }),
    base,
  );

  // Interleaved unknown fields: kept (appended after the known ones).
  const interleaved = new Uint8Array([0xf8, 0x01, 0x07, ...base]);
  assert.deepEqual(
    toBinary(NodeSpecSchema, decode(NodeSpecSchema, interleaved)),
    new Uint8Array([...base, 0xf8, 0x01, 0x07]),
  );

  // Nested: an unknown field inside a node of a DAG survives.
  const dagBytes = toBinary(
    StrategyDagSchema,
    create(StrategyDagSchema, { name: "d", nodes: [msg, SMA_NODE] }),
  );
  const dag = decode(StrategyDagSchema, dagBytes);
  assert.equal(dag.nodes[0].$unknown?.length, 4);
  assert.equal(dag.nodes[1].$unknown, undefined);
  assert.deepEqual(toBinary(StrategyDagSchema, dag), dagBytes);

  // Nested inside a singular message, merged across two occurrences.
  const status = toBinary(StrategyStatusSchema, STATUS);
  const more = new Uint8Array([0x52, 0x03, 0xf8, 0x01, 0x09]); // error { field 31 = 9 }
  const s = decode(StrategyStatusSchema, new Uint8Array([...status, ...more]));
  assert.equal(s.error?.code, "E_UNAVAILABLE");
  assert.equal(s.error?.$unknown?.length, 1);
  const s2 = decode(
    StrategyStatusSchema,
    new Uint8Array([...status, ...more, ...more]),
  );
  assert.equal(s2.error?.$unknown?.length, 2);
  assert.deepEqual(
    decode(StrategyStatusSchema, toBinary(StrategyStatusSchema, s2)),
    s2,
  );
});

Deno.test("decode semantics: merge, last-wins, open enums, map entries, presence", () => {
  const enc = <D extends DescMessage>(
    d: D,
    init: Parameters<typeof create<D>>[1],
  ) => toBinary(d, create(d, init));
  // Scalar last-one-wins, repeated appends.
  const a = enc(GetStrategyRequestSchema, { strategyId: "a" });
  const b = enc(GetStrategyRequestSchema, { strategyId: "b" });
  assert.equal(
    decode(GetStrategyRequestSchema, new Uint8Array([...a, ...b])).strategyId,
    "b",
  );
  const t1 = enc(QueryNodesByTagsRequestSchema, {
    tags: ["x"],
    matchMode: "any",
  });
  const t2 = enc(QueryNodesByTagsRequestSchema, {
    tags: ["y", ""],
    matchMode: "all",
    intervalS: 5,
  });
  const q = decode(
    QueryNodesByTagsRequestSchema,
    new Uint8Array([...t1, ...t2]),
  );
  assert.deepEqual([q.tags, q.matchMode, q.intervalS], [
    ["x", "y", ""],
    "all",
    5,
  ]);
  // Unknown enum values are kept as numbers and re-encoded.
  const r = decode(SubmitStrategyResponseSchema, new Uint8Array([0x10, 0x63]));
  assert.equal(r.state, 99);
  assert.deepEqual(
    toBinary(SubmitStrategyResponseSchema, r),
    new Uint8Array([0x10, 0x63]),
  );
  // Map entry: missing key defaults to "", "__proto__" is a plain key.
  const entry = new Uint8Array([0x2a, 0x03, 0x12, 0x01, 0x76]); // details { value "v" }
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
  const d = decode(ErrorDetailSchema, new Uint8Array([...entry, ...protoKey]));
  assert.equal(d.details[""], "v");
  assert.equal(Object.hasOwn(d.details, "__proto__"), true);
  assert.equal(d.details["__proto__"], "x");
  assert.equal(
    decode(ErrorDetailSchema, toBinary(ErrorDetailSchema, d)).details[
      "__proto__"
    ],
    "x",
  );
  // Message fields: absent → undefined; empty present → defaults, written back.
  assert.equal(
    decode(StrategyStatusSchema, new Uint8Array(0)).error,
    undefined,
  );
  const withEmptyError = decode(
    StrategyStatusSchema,
    new Uint8Array([0x52, 0x00]),
  );
  assert.deepEqual(withEmptyError.error, create(ErrorDetailSchema));
  assert.deepEqual(
    toBinary(StrategyStatusSchema, withEmptyError),
    new Uint8Array([0x52, 0x00]),
  );
  const rec = decode(NodeRecordSchema, new Uint8Array([0x12, 0x01, 0x74]));
  assert.equal(rec.node, undefined);
  assert.equal(rec.topic, "t");
  // uint32 from a 5-byte varint.
  assert.equal(
    decode(
      ListNodesRequestSchema,
      new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    )
      .pageSize,
    0xffffffff,
  );
});

Deno.test("*_ms times are doubles: every safe integer round-trips, in binary and JSON", () => {
  for (
    const ms of [
      0,
      1,
      -1,
      2 ** 32,
      1767225600123,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ]
  ) {
    const job = create(QueueJobSchema, { id: "j", createdAtMs: ms });
    assert.equal(
      decode(QueueJobSchema, toBinary(QueueJobSchema, job)).createdAtMs,
      ms,
    );
    assert.equal(
      fromJson(QueueJobSchema, toJson(QueueJobSchema, job)).createdAtMs,
      ms,
    );
  }
  // A double is 8 bytes on the wire (fixed64), whatever the value.
  assert.deepEqual(
    toBinary(QueueJobSchema, create(QueueJobSchema, { createdAtMs: 1 })),
    new Uint8Array([0x39, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]),
  );
});

Deno.test("large messages: multi-byte lengths and non-ASCII strings", () => {
  const long = "é😀".repeat(500) + "x".repeat(70_000);
  const node = create(NodeSpecSchema, {
    ...STREAM_NODE,
    name: long,
    metadata: { big: long, [long]: "k" },
  });
  const req = create(SubmitStrategyRequestSchema, {
    dag: { name: "big", nodes: Array.from({ length: 300 }, () => node) },
  });
  const back = decode(
    SubmitStrategyRequestSchema,
    toBinary(SubmitStrategyRequestSchema, req),
  );
  assert.equal(back.dag?.nodes.length, 300);
  assert.equal(back.dag?.nodes[299].name, long);
  assert.equal(back.dag?.nodes[5].metadata.big, long);
  assert.equal(back.dag?.nodes[5].metadata[long], "k");
  const payload = new Uint8Array(100_000).fill(7);
  assert.deepEqual(
    decode(
      QueueJobSchema,
      toBinary(QueueJobSchema, create(QueueJobSchema, { payload })),
    )
      .payload,
    payload,
  );
  assert.equal(
    decode(
      GetStrategyRequestSchema,
      toBinary(
        GetStrategyRequestSchema,
        create(GetStrategyRequestSchema, { strategyId: "\ufeffid" }),
      ),
    ).strategyId,
    "\ufeffid",
  );
});

Deno.test("decode: malformed bytes become a ContractError naming message, field and offset", () => {
  const d = (
    schema: DescMessage,
    bytes: number[],
    re: RegExp,
    field?: string,
  ) => throwsContract(() => decode(schema, new Uint8Array(bytes)), re, field);
  d(
    EdgeSchema,
    [0x0a, 0x05, 0x61],
    /^decode Edge\.from: length 5 exceeds the 1 remaining bytes at offset 0$/,
    "from",
  );
  d(EdgeSchema, [0x0a], /^decode Edge\.from: .* at offset 0$/, "from");
  d(
    EdgeSchema,
    [0x0a, 0x02, 0xc3, 0x28],
    /^decode Edge\.from: invalid UTF-8 at offset 0$/,
    "from",
  );
  d(
    EdgeSchema,
    [0x00, 0x01],
    /^decode Edge: illegal tag: field no 0 .* at offset 0$/,
  );
  d(EdgeSchema, [0x1e], /^decode Edge: .*wire type 6.* at offset 0$/);
  d(EdgeSchema, [0x19, 1, 2], /^decode Edge: premature EOF at offset 0$/);
  d(
    EdgeSchema,
    [0x18, 0xff, 0xff, 0xff, 0xff, 0xff],
    /^decode Edge: .* at offset 0$/,
  );
  d(
    StrategyDagSchema,
    [0x12, 0x03, 0x18, 0x3c, 0x20],
    /^decode StrategyDag\.nodes\[0\]\.period: .* at offset 4$/,
    "nodes[0].period",
  );
  d(
    StrategyDagSchema,
    [0x12, 0x00, 0x12, 0x02, 0x3a, 0x01],
    /^decode StrategyDag\.nodes\[1\]\.code_hash: length 1 exceeds the 0 remaining bytes at offset 4$/,
    "nodes[1].code_hash",
  );
  d(
    ErrorDetailSchema,
    [0x2a, 0x03, 0x0a, 0x05, 0x61],
    /^decode ErrorDetail\.details: .* at offset/,
    "details",
  );
  // The cause is protobuf-es's own error.
  try {
    decode(EdgeSchema, new Uint8Array([0x0a, 0x05]));
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof ContractError);
    assert.ok(e.cause instanceof Error);
    assert.throws(() => fromBinary(EdgeSchema, new Uint8Array([0x0a, 0x05])));
  }
});

Deno.test("proto3 JSON (Connect JSON): camelCase names, enum names, base64 bytes", () => {
  const json = toJson(
    SubmitStrategyResponseSchema,
    create(SubmitStrategyResponseSchema, {
      strategyId: "st_1",
      state: StrategyState.QUEUED,
    }),
  );
  assert.deepEqual(json, {
    strategyId: "st_1",
    state: "STRATEGY_STATE_QUEUED",
  });
  const job = fromJson(QueueJobSchema, {
    idempotency_key: "k",
    payload: "AAEC_v8",
    createdAtMs: 5,
  });
  assert.equal(job.idempotencyKey, "k");
  assert.deepEqual(job.payload, new Uint8Array([0, 1, 2, 0xfe, 0xff]));
  assert.equal(job.createdAtMs, 5);
  assert.throws(() => fromJson(EdgeSchema, { form: "a" }), /form/);
});

Deno.test("UTF-8: the ASCII fast path decodes exactly as TextDecoder does", async () => {
  const { decodeUtf8 } = await import("../../lib/contracts/utf8.ts");
  const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const loose = new TextDecoder("utf-8", { ignoreBOM: true });
  let seed = 7;
  const rand = (n: number) =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let i = 0; i < 3000; i++) {
    const len = rand(300);
    const ascii = i % 2 === 0;
    const bytes = Uint8Array.from(
      { length: len },
      () => rand(ascii ? 128 : 256),
    );
    let want: string | undefined;
    try {
      want = fatal.decode(bytes);
    } catch {
      want = undefined;
    }
    let got: string | undefined;
    try {
      got = decodeUtf8(bytes, true);
    } catch {
      got = undefined;
    }
    assert.equal(got, want, `strict ${[...bytes]}`);
    assert.equal(decodeUtf8(bytes, false), loose.decode(bytes));
  }
  // A leading BOM is text, in both paths.
  assert.equal(
    decodeUtf8(new TextEncoder().encode("\ufeffa"), true),
    "\ufeffa",
  );
  // protobuf-es uses it for every string field.
  const id = "sha256:" + "ab".repeat(32);
  assert.equal(
    decode(EdgeSchema, toBinary(EdgeSchema, create(EdgeSchema, { from: id })))
      .from,
    id,
  );
});
