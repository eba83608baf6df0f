/**
 * Writes the golden files once: `<Message>.bin` + `<Message>.json` for every
 * top-level message (from `samples.ts`), and `node_ids.json` (node-ID test
 * vectors with their literal expected IDs, and DAG checksum vectors).
 *
 *     deno run -A tests/golden/generate.ts
 *
 * Re-running must not change any file unless the samples or vectors were
 * edited on purpose (the tests compare against the committed files).
 *
 * @module
 */

import { toBinary, toJson } from "@bufbuild/protobuf";
import {
  codeHash,
  computeNodeId,
  dagChecksum,
  dagHash,
  nodeIdCanonical,
  type NodeIdentity,
} from "../../lib/contracts/mod.ts";
import { SAMPLES } from "./samples.ts";

const dir = new URL("./", import.meta.url);

/** proto3 JSON of the `.json` twins: every field, defaults included. */
export const JSON_OPTIONS = { alwaysEmitImplicit: true } as const;

/** A node-ID vector as written to node_ids.json. */
export interface Vector {
  name: string;
  description: string;
  node_type: string;
  interval_s: number;
  period: number;
  /** Raw JSON text of the params, parsed with JSON.parse by the test. */
  params_source: string;
  inputs: string[];
  schema_compat_id?: string;
  /** Source code hashed with codeHash(); absent = no code. */
  code?: string;
  /** Display fields that must not change the ID. */
  display?: { name: string; tags: string[]; metadata: Record<string, string> };
  expect_same_as?: string[];
  expect_differs_from?: string[];
  canonical?: string;
  code_hash?: string;
  node_id?: string;
}

const A = computeNodeId({ nodeType: "StreamInput", intervalS: 60, period: 1, params: { symbol: "BTC/USDT", field: "close" } });
const B = computeNodeId({ nodeType: "StreamInput", intervalS: 60, period: 1, params: { symbol: "ETH/USDT", field: "close" } });
const C = computeNodeId({ nodeType: "StreamInput", intervalS: 60, period: 1, params: { symbol: "SOL/USDT", field: "close" } });

const LF_CODE = "function f(x) {\n  return x * 2;\n}";
const base = { node_type: "Processing", interval_s: 60, period: 20, inputs: [A] };

export const VECTORS: Vector[] = [
  { name: "stream_base", description: "StreamInput, params with two keys", node_type: "StreamInput", interval_s: 60, period: 1, params_source: '{"symbol":"BTC/USDT","field":"close"}', inputs: [] },
  { name: "stream_key_order", description: "param key order does not matter", node_type: "StreamInput", interval_s: 60, period: 1, params_source: '{"field":"close","symbol":"BTC/USDT"}', inputs: [], expect_same_as: ["stream_base"] },
  { name: "stream_whitespace", description: "whitespace in the params source does not matter", node_type: "StreamInput", interval_s: 60, period: 1, params_source: '{ "symbol" : "BTC/USDT" ,\n  "field" : "close" }', inputs: [], expect_same_as: ["stream_base"] },
  { name: "stream_context_keys", description: "top-level context keys are stripped", node_type: "StreamInput", interval_s: 60, period: 1, params_source: '{"symbol":"BTC/USDT","field":"close","world":"w1","world_id":"w1","world_ids":["a"],"execution_world":"x","execution_domain":"live","domain":"d","domains":["d"],"as_of":"2026-01-01","partition":3,"dataset_fingerprint":"fp","timestamp":1,"seed":42,"random_state":7}', inputs: [], expect_same_as: ["stream_base"] },
  { name: "stream_env_keys", description: "env and env_* keys are stripped", node_type: "StreamInput", interval_s: 60, period: 1, params_source: '{"symbol":"BTC/USDT","field":"close","env":"prod","env_region":"eu","env_":1}', inputs: [], expect_same_as: ["stream_base"] },
  { name: "stream_environment_key", description: "'environment' is not a context key", node_type: "StreamInput", interval_s: 60, period: 1, params_source: '{"symbol":"BTC/USDT","field":"close","environment":"prod"}', inputs: [], expect_differs_from: ["stream_base"] },
  { name: "stream_nested_context_key", description: "context keys are stripped at the top level only", node_type: "StreamInput", interval_s: 60, period: 1, params_source: '{"symbol":"BTC/USDT","field":"close","opts":{"seed":1}}', inputs: [], expect_differs_from: ["stream_base"] },
  { name: "stream_interval", description: "interval enters the ID", node_type: "StreamInput", interval_s: 300, period: 1, params_source: '{"symbol":"BTC/USDT","field":"close"}', inputs: [], expect_differs_from: ["stream_base"] },
  { name: "stream_display", description: "display fields (name, tags, metadata) never enter", node_type: "StreamInput", interval_s: 60, period: 1, params_source: '{"symbol":"BTC/USDT","field":"close"}', inputs: [], display: { name: "other", tags: ["x", "y"], metadata: { a: "b" } }, expect_same_as: ["stream_base"] },
  { ...base, name: "sma", description: "Processing with one input and code", params_source: '{"window":20}', code: LF_CODE },
  { ...base, name: "sma_float_form", description: "20.0 and 2e1 are the number 20", params_source: '{"window":20.0}', code: LF_CODE, expect_same_as: ["sma"] },
  { ...base, name: "sma_exp_form", description: "exponent form of 20", params_source: '{"window":2e1}', code: LF_CODE, expect_same_as: ["sma", "sma_float_form"] },
  { ...base, name: "sma_string_number", description: "the string \"20\" is not the number 20", params_source: '{"window":"20"}', code: LF_CODE, expect_differs_from: ["sma"] },
  { ...base, name: "sma_period", description: "period enters the ID", period: 50, params_source: '{"window":20}', code: LF_CODE, expect_differs_from: ["sma"] },
  { ...base, name: "sma_node_type", description: "node_type enters the ID", node_type: "Indicator", params_source: '{"window":20}', code: LF_CODE, expect_differs_from: ["sma"] },
  { ...base, name: "sma_schema_v2", description: "schema_compat_id enters the ID", schema_compat_id: "v2", params_source: '{"window":20}', code: LF_CODE, expect_differs_from: ["sma"] },
  { ...base, name: "sma_schema_v1_explicit", description: "explicit v1 equals the default", schema_compat_id: "v1", params_source: '{"window":20}', code: LF_CODE, expect_same_as: ["sma"] },
  { ...base, name: "sma_code_crlf", description: "CRLF line endings normalise to LF", params_source: '{"window":20}', code: "function f(x) {\r\n  return x * 2;\r\n}\r\n", expect_same_as: ["sma"] },
  { ...base, name: "sma_code_trailing", description: "trailing spaces/tabs and blank leading/trailing lines are dropped", params_source: '{"window":20}', code: "\n\n  \nfunction f(x) {   \n  return x * 2;\t\n}\n\n\n", expect_same_as: ["sma", "sma_code_crlf"] },
  { ...base, name: "sma_code_indent", description: "leading indentation is kept", params_source: '{"window":20}', code: "function f(x) {\n    return x * 2;\n}", expect_differs_from: ["sma"] },
  { ...base, name: "sma_no_code", description: "no code: empty code_hash", params_source: '{"window":20}', expect_differs_from: ["sma"] },
  { ...base, name: "sma_blank_code", description: "whitespace-only code counts as no code", params_source: '{"window":20}', code: " \r\n\t\n", expect_same_as: ["sma_no_code"] },
  { ...base, name: "pair_ab", description: "two inputs", params_source: '{"lag":1}', inputs: [A, B] },
  { ...base, name: "pair_ba", description: "input order does not matter (inputs are sorted)", params_source: '{"lag":1}', inputs: [B, A], expect_same_as: ["pair_ab"] },
  { ...base, name: "pair_ac", description: "a different input changes the ID", params_source: '{"lag":1}', inputs: [A, C], expect_differs_from: ["pair_ab"] },
  { ...base, name: "pair_a", description: "fewer inputs change the ID", params_source: '{"lag":1}', inputs: [A], expect_differs_from: ["pair_ab"] },
  { ...base, name: "nested", description: "nested objects are canonicalised recursively", params_source: '{"b":{"d":1,"c":[3,{"f":1.50,"e":-0}]},"a":null}', inputs: [] },
  { ...base, name: "nested_reordered", description: "same nested params, other key order and number forms", params_source: '{"a":null,"b":{"c":[3,{"e":0,"f":1.5}],"d":1E0}}', inputs: [], expect_same_as: ["nested"] },
  { ...base, name: "array_order", description: "array order matters", params_source: '{"xs":[2,1]}', inputs: [], expect_differs_from: ["array_order_sorted"] },
  { ...base, name: "array_order_sorted", description: "array order matters (other order)", params_source: '{"xs":[1,2]}', inputs: [] },
  { ...base, name: "numbers", description: "ECMAScript number forms: 1e21, 1e-7, 0.1, large integers", params_source: '{"big":1000000000000000000000,"small":0.0000001,"tenth":0.1,"int":9007199254740991,"neg":-12.50}', inputs: [] },
  { ...base, name: "unicode_nfc", description: "precomposed é", params_source: '{"s":"caf\u00e9"}', inputs: [] },
  { ...base, name: "unicode_escape", description: "a \\u escape equals the literal character", params_source: '{"s":"caf\\u00e9"}', inputs: [], expect_same_as: ["unicode_nfc"] },
  { ...base, name: "unicode_nfd", description: "decomposed e + U+0301 is NOT normalised", params_source: '{"s":"cafe\u0301"}', inputs: [], expect_differs_from: ["unicode_nfc"] },
  { ...base, name: "unicode_key_sort", description: "keys sorted by UTF-16 code units: U+1F600 (D83D DE00) sorts before U+FB01, U+00E9 before both", params_source: '{"\ufb01":1,"\ud83d\ude00":2,"\u00e9":3,"z":4}', inputs: [] },
  { ...base, name: "unicode_key_sort_reordered", description: "same keys, other order", params_source: '{"z":4,"\ud83d\ude00":2,"\u00e9":3,"\ufb01":1}', inputs: [], expect_same_as: ["unicode_key_sort"] },
  { ...base, name: "control_chars", description: "control characters escaped as \\u00xx (lowercase), \\n and \\t short forms, / not escaped", params_source: '{"s":"a\\u0001b\\n\\t/\\"\\\\"}', inputs: [] },
  { ...base, name: "bool_vs_string", description: "true and \"true\" differ", params_source: '{"flag":"true"}', inputs: [], expect_differs_from: ["bool_true"] },
  { ...base, name: "bool_true", description: "boolean param", params_source: '{"flag":true}', inputs: [] },
  { ...base, name: "empty_params", description: "empty params object", params_source: "{}", inputs: [] },
  { name: "tag_any", description: "TagQuery any", node_type: "TagQuery", interval_s: 60, period: 1, params_source: '{"match_mode":"any","query_tags":["btc","price"]}', inputs: [] },
  { name: "tag_any_reordered_keys", description: "TagQuery with keys in another order", node_type: "TagQuery", interval_s: 60, period: 1, params_source: '{"query_tags":["btc","price"],"match_mode":"any"}', inputs: [], expect_same_as: ["tag_any"] },
  { name: "tag_all", description: "TagQuery all differs from any", node_type: "TagQuery", interval_s: 60, period: 1, params_source: '{"match_mode":"all","query_tags":["btc","price"]}', inputs: [], expect_differs_from: ["tag_any"] },
  { name: "tag_single", description: "TagQuery with fewer tags differs", node_type: "TagQuery", interval_s: 60, period: 1, params_source: '{"match_mode":"any","query_tags":["btc"]}', inputs: [], expect_differs_from: ["tag_any"] },
];

/** Extra TagQuery checks: tagQueryParams(tags, mode) must equal the vector's params. */
export const TAG_QUERY_CASES: { tags: string[]; match_mode: "any" | "all"; same_as: string }[] = [
  { tags: ["price", "btc"], match_mode: "any", same_as: "tag_any" },
  { tags: ["btc", "price", "btc", "price"], match_mode: "any", same_as: "tag_any" },
  { tags: ["price", "btc", "price"], match_mode: "all", same_as: "tag_all" },
];

/** The node identity a vector describes (its code hashed when it has code). */
export function identity(v: Vector): NodeIdentity {
  return {
    nodeType: v.node_type,
    intervalS: v.interval_s,
    period: v.period,
    params: JSON.parse(v.params_source),
    inputs: v.inputs,
    schemaCompatId: v.schema_compat_id,
    codeHash: v.code === undefined ? "" : codeHash(v.code),
  };
}

if (import.meta.main) {
  for (const [name, { schema, message }] of Object.entries(SAMPLES)) {
    Deno.writeFileSync(new URL(`${name}.bin`, dir), toBinary(schema, message));
    Deno.writeTextFileSync(
      new URL(`${name}.json`, dir),
      JSON.stringify(toJson(schema, message, JSON_OPTIONS), null, 2) + "\n",
    );
  }
  const vectors = VECTORS.map((v) => {
    const id = identity(v);
    return {
      ...v,
      code_hash: id.codeHash,
      canonical: nodeIdCanonical(id),
      node_id: computeNodeId(id),
    };
  });
  const dagIds = [A, B, C];
  const out = {
    description:
      "QMTL node-ID test vectors. node_id = 'sha256:' + hex(sha256(utf8(canonical))); see docs/contracts.md. params_source is raw JSON text (parse it, strip context keys, RFC 8785).",
    inputs: { A, B, C },
    vectors,
    tag_query_cases: TAG_QUERY_CASES,
    dags: [
      { node_ids: [], checksum: dagChecksum([]), dag_hash: dagHash([]) },
      { node_ids: [A], checksum: dagChecksum([A]), dag_hash: dagHash([A]) },
      { node_ids: dagIds, checksum: dagChecksum(dagIds), dag_hash: dagHash(dagIds) },
      { node_ids: [C, B, A], checksum: dagChecksum([C, B, A]), dag_hash: dagHash([C, B, A]) },
    ],
  };
  Deno.writeTextFileSync(new URL("node_ids.json", dir), JSON.stringify(out, null, 2) + "\n");
  console.log(`wrote ${Object.keys(SAMPLES).length * 2} message goldens and ${vectors.length} node-ID vectors`);
}
