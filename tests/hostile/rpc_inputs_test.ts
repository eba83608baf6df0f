// Hostile bodies for EVERY RPC method of the generated service descriptor:
// random and truncated protobuf, group-nesting bombs, invalid UTF-8, deeply
// nested and malformed Connect JSON, oversize bodies (declared, streamed,
// gzip-inflated), wrong content types and schema headers, and every string /
// list / number field of the request set to a hostile value. Each answer is a
// clear error (4xx with a typed body; valid-but-harmless messages may be
// answered normally), nothing is written, and a canary is served throughout.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import {
  create,
  type DescField,
  type DescMessage,
  fromBinary,
  toBinary,
} from "@bufbuild/protobuf";
import { GatewayService } from "../../lib/contracts/mod.ts";
import { ROUTES } from "../../lib/gateway/mod.ts";
import { SAMPLES } from "../golden/samples.ts";
import { closeQuietly, connect, readResponse } from "../gateway/raw_http.ts";
import {
  expect4xx,
  hfetch,
  hostile,
  hostileTest,
  prng,
  randomBytes,
  rpcHeaders,
  type Target,
} from "./harness.ts";

const METHODS = GatewayService.methods;

function decodes(schema: DescMessage, bytes: Uint8Array): boolean {
  try {
    fromBinary(schema, bytes);
    return true;
  } catch {
    return false;
  }
}

async function call(
  t: Target,
  method: string,
  body: BodyInit,
  headers: Record<string, string>,
): Promise<Response> {
  return await hfetch(`${t.url}/qmtl.v1.GatewayService/${method}`, {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(15_000),
  });
}

/** Malformed input: 4xx, the QMTL detail says E_INVALID (or the given code). */
async function refused(
  res: Response,
  what: string,
  code = "E_INVALID",
): Promise<void> {
  const text = await expect4xx(res, what);
  const body = JSON.parse(text);
  assert.equal(body.details?.[0]?.debug?.code, code, `${what}: ${text}`);
}

/** Valid but meaningless input: anything but a server error. */
async function notServerError(res: Response, what: string): Promise<void> {
  const text = await res.text();
  assert.ok(res.status < 500, `${what}: ${res.status} ${text.slice(0, 300)}`);
  if (res.status >= 400) assert.match(text, /"code"/, what);
}

Deno.test("hostile: the route table lists every RPC method of the generated service", () => {
  const rpc = ROUTES.filter((r) => r.kind === "rpc").map((r) => r.path).sort();
  assert.deepEqual(
    rpc,
    METHODS.map((m) => `/qmtl.v1.GatewayService/${m.name}`).sort(),
  );
});

/** A hostile value for each kind of field. */
function hostileValues(f: DescField): unknown[] {
  if (f.fieldKind === "scalar") {
    switch (f.scalar) {
      case 9: // string
        return ["\u0000", "a\r\nb", "x".repeat(200_000), "\u202e\ud800"];
      case 13: // uint32
        return [0xffffffff];
      case 1: // double
        return [Number.NaN, -Infinity, 1e308];
      default:
        return [];
    }
  }
  if (f.fieldKind === "list") {
    if (f.listKind === "scalar" && f.scalar === 9) {
      return [[""], ["a\u0000"], new Array(100_000).fill("t")];
    }
    if (f.listKind === "message") {
      return [new Array(50_000).fill(0).map(() => create(f.message))];
    }
    return [];
  }
  if (f.fieldKind === "map") {
    return [
      { "": "\u0000" },
      Object.fromEntries(
        Array.from({ length: 5_000 }, (_, i) => [`k${i}`, "v"]),
      ),
    ];
  }
  return [];
}

hostileTest(
  "hostile: every RPC method refuses random, truncated, nested, invalid-UTF-8, JSON-bomb, mistyped and oversize bodies; hostile field values write nothing",
  async (target, tok, t) => {
    const h = rpcHeaders(tok);
    const rand = prng(0x9e3779b9);
    await hostile(target, async () => {
      for (const m of METHODS) {
        await t.step(m.name, async () => {
          const input = m.input;
          const sample = SAMPLES[input.name];
          assert.ok(sample, `no sample of ${input.name}`);
          const valid = toBinary(input, sample.message);
          // 1. Random bytes (seeded), 24 bodies of 1-512 bytes.
          for (let i = 0; i < 24; i++) {
            const b = randomBytes(rand, 1 + Math.floor(rand() * 512));
            const res = await call(target, m.name, b as BodyInit, h);
            if (decodes(input, b)) await notServerError(res, "random");
            else await refused(res, `${m.name} random #${i}`);
          }
          // 2. Truncations of a valid request that no longer decode.
          const cuts = new Set<number>();
          for (let i = 1; i < valid.length && cuts.size < 24; i += 7) {
            cuts.add(i);
          }
          cuts.add(valid.length - 1);
          for (const n of cuts) {
            const b = valid.subarray(0, n);
            if (decodes(input, b)) continue; // a shorter valid message
            const res = await call(target, m.name, b.slice() as BodyInit, h);
            await refused(res, `${m.name} truncated at ${n}`);
          }
          // 3. A bomb of 200,000 nested groups (unknown field 15).
          await refused(
            await call(
              target,
              m.name,
              new Uint8Array(200_000).fill(0x7b) as BodyInit,
              h,
            ),
            `${m.name} nested groups`,
          );
          // 4. Invalid UTF-8 in the first string field.
          const str = input.fields.find((f) =>
            f.fieldKind === "scalar" && f.scalar === 9
          ) ?? input.fields.find((f) =>
            f.fieldKind === "list" && f.listKind === "scalar" &&
            f.scalar === 9
          );
          if (str) {
            const bad = new Uint8Array([
              (str.number << 3) | 2,
              3,
              0xc3,
              0x28,
              0xff,
            ]);
            await refused(
              await call(target, m.name, bad as BodyInit, h),
              `${m.name} invalid UTF-8`,
            );
          }
          // 5. Connect JSON: 100,000-deep nesting (in a known field: a
          // type error; under an unknown key: ignored, as proto3 JSON
          // readers do), not JSON, wrong types.
          const jh = { ...h, "content-type": "application/json" };
          const nest = "[".repeat(100_000) + "]".repeat(100_000);
          const field = input.fields[0].jsonName;
          await notServerError(
            await call(target, m.name, `{"unknownKey":${nest}}`, jh),
            `${m.name} deep JSON under an unknown key`,
          );
          for (
            const [what, body] of [
              ["deep JSON in a field", `{"${field}":${nest}}`],
              ["not JSON", "{\u0000"],
              ["JSON array", "[1,2]"],
              ["wrong field type", `{"${str?.jsonName ?? field}":{"a":1}}`],
            ]
          ) {
            await refused(
              await call(target, m.name, body, jh),
              `${m.name} ${what}`,
            );
          }
          // 6. Wrong content type; missing / foreign schema headers.
          const typed = await call(target, m.name, valid as BodyInit, {
            ...h,
            "content-type": "text/plain",
          });
          assert.equal(typed.status, 415, `${m.name} text/plain`);
          await typed.body?.cancel();
          const noSchema = { ...h };
          delete noSchema["qmtl-schema-version"];
          delete noSchema["qmtl-schema-hash"];
          await refused(
            await call(target, m.name, valid as BodyInit, noSchema),
            `${m.name} no schema headers`,
            "E_SCHEMA_INCOMPATIBLE",
          );
          await refused(
            await call(target, m.name, valid as BodyInit, {
              ...h,
              "qmtl-schema-version": "99.0.0",
            }),
            `${m.name} schema major 99`,
            "E_SCHEMA_INCOMPATIBLE",
          );
          // 7. A gzip body inflating past the limit (64 MiB of zeros).
          const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024));
          await refused(
            await call(target, m.name, bomb as BodyInit, {
              ...h,
              "content-encoding": "gzip",
            }),
            `${m.name} gzip bomb`,
            "E_PAYLOAD_TOO_LARGE",
          );
          // 8. Hostile values in every field of the request.
          for (const f of input.fields) {
            for (const v of hostileValues(f)) {
              const msg = create(input, {
                [f.localName]: v,
              } as Record<string, unknown>);
              const res = await call(
                target,
                m.name,
                toBinary(input, msg) as BodyInit,
                h,
              );
              await notServerError(res, `${m.name}.${f.name} hostile value`);
            }
          }
        });
      }
    });
  },
);

hostileTest(
  "hostile: oversize bodies — declared (refused unread), streamed (cut at the limit) — on every RPC method",
  async (target, tok) => {
    await hostile(target, async () => {
      for (const m of METHODS) {
        // Declared: the head says 9 MiB; nothing more is sent. The answer
        // comes at once, without waiting for the body.
        const conn = await connect(target.port);
        try {
          const head = Object.entries(rpcHeaders(tok)).map(([k, v]) =>
            `${k}: ${v}\r\n`
          ).join("");
          await conn.write(
            new TextEncoder().encode(
              `POST /qmtl.v1.GatewayService/${m.name} HTTP/1.1\r\nhost: t\r\n${head}content-length: ${
                9 * 1024 * 1024
              }\r\n\r\n`,
            ),
          );
          const r = await readResponse(conn, 2_000);
          assert.equal(r.status, 429, `${m.name} declared oversize`);
          assert.match(r.body, /E_PAYLOAD_TOO_LARGE/);
        } finally {
          closeQuietly(conn);
        }
        // Streamed without a length: cut once past the limit.
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(c) {
            if (sent >= 2 * 1024 * 1024) return c.close();
            sent += 64 * 1024;
            c.enqueue(new Uint8Array(64 * 1024).fill(0x0a));
          },
        });
        const res = await hfetch(
          `${target.url}/qmtl.v1.GatewayService/${m.name}`,
          {
            method: "POST",
            headers: rpcHeaders(tok),
            body: stream,
            signal: AbortSignal.timeout(15_000),
          },
        ).catch((e) => e as Error);
        if (res instanceof Response) {
          const text = await expect4xx(res, `${m.name} streamed oversize`);
          assert.match(text, /E_PAYLOAD_TOO_LARGE/);
        } // else the server closed the connection mid-upload: also refused
      }
    });
  },
  { env: { QMTL_MAX_BODY_BYTES: String(1024 * 1024) } },
);
