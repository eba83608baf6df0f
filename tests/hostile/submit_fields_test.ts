// Hostile SubmitStrategy requests — the findings of the hostile-input pass
// and their neighbours: params nested 10,000 deep, 50,000 tags on one node,
// 64 KB tags / versions / names / node types, NUL, CRLF and empty tags,
// oversize metadata — on memory backends and on the real stack (Neo4j +
// Redis Sentinel): each is a 400 E_INVALID naming the field, nothing is
// written, a canary is served throughout.
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type NodeSpec,
  type StrategyDag,
  SubmitStrategyRequestSchema,
} from "../../lib/contracts/mod.ts";
import {
  fieldDag,
  fieldSpec,
  type FieldSpecInit,
} from "../support/field_specs.ts";
import {
  expect4xx,
  hfetch,
  hostile,
  hostileTest,
  rpcHeaders,
  strongToken,
  type Target,
} from "./harness.ts";

function spec(init: FieldSpecInit = {}): NodeSpec {
  return fieldSpec(
    init,
    {
      nodeType: "StreamInput",
      params: { symbol: "BTC", salt: crypto.randomUUID() },
      tags: ["btc"],
    },
    "sha256:" + "0".repeat(64), // the identity is what is hostile
  );
}

function dagOf(nodes: NodeSpec[], init: Partial<StrategyDag> = {}) {
  return fieldDag(nodes, init, "hostile");
}

const deep = '{"a":' + "[".repeat(10_000) + "]".repeat(10_000) + "}";
const big = "x".repeat(65_536);

/** [what, request fields, field named by the error, message pattern] */
const CASES: [
  string,
  () => {
    dag: StrategyDag;
    version?: string;
    metadata?: Record<string, string>;
    callbackUrl?: string;
  },
  string,
  RegExp,
][] = [
  [
    "params_json nested 10,000 deep",
    () => ({ dag: dagOf([spec({ paramsJson: deep })]) }),
    "nodes[0].params_json",
    /params nest deeper than 64 levels/,
  ],
  [
    "params_json of 100 KB",
    () => ({
      dag: dagOf([spec({ params: { s: "y".repeat(100_000) } })]),
    }),
    "nodes[0].params_json",
    /at most 65536 bytes/,
  ],
  [
    "50,000 tags on one node",
    () => ({
      dag: dagOf([
        spec({ tags: Array.from({ length: 50_000 }, (_, i) => `t${i}`) }),
      ]),
    }),
    "nodes[0].tags",
    /50000 tags; at most 64 allowed/,
  ],
  [
    "a 64 KB tag",
    () => ({ dag: dagOf([spec({ tags: [big] })]) }),
    "nodes[0].tags[0]",
    /65536 bytes long; at most 128/,
  ],
  [
    "a NUL in a tag",
    () => ({ dag: dagOf([spec({ tags: ["btc", "a\u0000b"] })]) }),
    "nodes[0].tags[1]",
    /control character U\+0000/,
  ],
  [
    "CRLF in a tag",
    () => ({ dag: dagOf([spec({ tags: ["a\r\nb"] })]) }),
    "nodes[0].tags[0]",
    /control character U\+000D/,
  ],
  [
    "an empty tag",
    () => ({ dag: dagOf([spec({ tags: [""] })]) }),
    "nodes[0].tags[0]",
    /must not be empty/,
  ],
  [
    "a 64 KB version",
    () => ({ dag: dagOf([spec()]), version: big }),
    "version",
    /65536 bytes long; at most 64/,
  ],
  [
    "a version with CRLF",
    () => ({ dag: dagOf([spec()]), version: "1\r\n2" }),
    "version",
    /must be 1-64 characters/,
  ],
  [
    "a 64 KB strategy name",
    () => ({ dag: dagOf([spec()], { name: big }) }),
    "name",
    /65536 bytes long; at most 256/,
  ],
  [
    "a 64 KB node name",
    () => ({ dag: dagOf([spec({ name: big })]) }),
    "nodes[0].name",
    /at most 256/,
  ],
  [
    "a 64 KB node type",
    () => ({ dag: dagOf([spec({ nodeType: "N".repeat(65_536) })]) }),
    "nodes[0].node_type",
    /node_type must be 1-64 characters/,
  ],
  [
    "a node type with NUL",
    () => ({ dag: dagOf([spec({ nodeType: "Stream\u0000Input" })]) }),
    "nodes[0].node_type",
    /node_type must be/,
  ],
  [
    "10,000 request metadata entries",
    () => ({
      dag: dagOf([spec()]),
      metadata: Object.fromEntries(
        Array.from({ length: 10_000 }, (_, i) => [`k${i}`, "v"]),
      ),
    }),
    "metadata",
    /10000 metadata entries; at most 64/,
  ],
  [
    "a 64 KB node metadata value",
    () => ({ dag: dagOf([spec({ metadata: { note: big } })]) }),
    "nodes[0].metadata.note",
    /65536 bytes long; at most 1024/,
  ],
  [
    "DAG metadata with a NUL key",
    () => ({ dag: dagOf([spec()], { metadata: { "a\u0000": "v" } }) }),
    "metadata[#0]",
    /control character/,
  ],
  [
    "a 10 KB callback URL",
    () => ({
      dag: dagOf([spec()]),
      callbackUrl: "https://example.com/" + "p".repeat(10_000),
    }),
    "callback_url",
    /at most 2048/,
  ],
];

async function run(target: Target): Promise<void> {
  const tok = await strongToken(`hostile-${crypto.randomUUID()}`);
  await hostile(target, async () => {
    for (const [what, make, field, re] of CASES) {
      const r = make();
      const body = toBinary(
        SubmitStrategyRequestSchema,
        create(SubmitStrategyRequestSchema, {
          dag: r.dag,
          version: r.version ?? "1",
          metadata: r.metadata ?? {},
          callbackUrl: r.callbackUrl ?? "",
        }),
      );
      const res = await hfetch(
        `${target.url}/qmtl.v1.GatewayService/SubmitStrategy`,
        {
          method: "POST",
          headers: rpcHeaders(tok),
          body: body as BodyInit,
          signal: AbortSignal.timeout(20_000),
        },
      );
      const text = await expect4xx(res, `${target.name}: ${what}`, 400);
      const detail = JSON.parse(text).details[0].debug;
      assert.equal(detail.code, "E_INVALID", `${what}: ${text}`);
      assert.equal(detail.field, field, `${what}: ${detail.message}`);
      assert.match(detail.message, re, what);
      assert.ok(text.length < 4_000, `${what}: the error echoes the input`);
    }
  });
  // And a valid submission still goes through (the server was not harmed).
  const ok = await hfetch(
    `${target.url}/qmtl.v1.GatewayService/SubmitStrategy`,
    {
      method: "POST",
      headers: rpcHeaders(tok),
      body: toBinary(
        SubmitStrategyRequestSchema,
        create(SubmitStrategyRequestSchema, {
          dag: dagOf([spec({ tags: ["btc", "close"] })]),
          version: "1",
        }),
      ) as BodyInit,
    },
  );
  assert.equal(ok.status, 200, await ok.text());
}

hostileTest(
  "hostile: SubmitStrategy with deep params, 50k tags, 64 KB fields, NUL/CRLF/empty tags → 400 naming the field, nothing written (memory)",
  (target) => run(target),
);

hostileTest(
  "hostile: the same on Neo4j + Redis Sentinel — nothing reaches the store (no raw Neo4j error), nothing written",
  async (target) => {
    await run(target);
    assert.ok(
      !target.logs.some((l) => /too large to index/i.test(l)),
      "Neo4j saw an oversize value",
    );
  },
  { kind: "real" },
);
