// Hostile requests for EVERY REST and operational route of the route table:
// junk path parameters (NUL, invalid percent-encoding, CRLF, traversal, 4 KB),
// junk query parameters, oversize tag queries, every other HTTP method, SSE
// with junk cursors. Each answer is a clear 4xx (or, for a harmless value,
// a normal answer), never a 5xx; nothing is written; a canary is served.
import assert from "node:assert/strict";
import { ROUTES } from "../../lib/gateway/mod.ts";
import {
  expect4xx,
  hfetch,
  hostile,
  hostileTest,
  type Target,
} from "./harness.ts";

const JUNK_PARAMS = [
  "%00",
  "%ff%fe",
  "a%0d%0aSet-Cookie:%20x=1",
  "..%2f..%2fetc%2fpasswd",
  "x".repeat(4_000),
  "sha256:" + "g".repeat(64),
  "%E2%80%AE",
  "%",
];

const JUNK_QUERY = [
  "",
  "-1",
  "99999999999999999999",
  "abc",
  "%00",
  "x".repeat(5_000),
  "1e3",
  "%ff",
];

async function get(
  t: Target,
  path: string,
  tok: string,
  init: RequestInit = {},
): Promise<Response> {
  return await hfetch(t.url + path, {
    ...init,
    headers: { authorization: `Bearer ${tok}`, ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(10_000),
  });
}

async function notServerError(res: Response, what: string): Promise<number> {
  const text = res.headers.get("content-type")?.includes("event-stream")
    ? (await res.body?.cancel(), "")
    : await res.text();
  assert.ok(res.status < 500, `${what}: ${res.status} ${text.slice(0, 300)}`);
  if (res.status >= 400) assert.match(text, /"code"/, `${what}: ${text}`);
  return res.status;
}

for (const kind of ["memory", "real"] as const) {
  hostileTest(
    `hostile: every REST and ops route answers junk path and query parameters and foreign methods with a clear 4xx (${kind})`,
    junkParams,
    { kind },
  );
}

async function junkParams(
  target: Target,
  tok: string,
  t: Deno.TestContext,
): Promise<void> {
  await hostile(target, async () => {
    for (const route of ROUTES.filter((r) => r.kind !== "rpc")) {
      await t.step(`${route.method} ${route.path}`, async () => {
        const params = route.path.split("/").filter((s) => s.startsWith(":"));
        const fill = (v: string) =>
          route.path.split("/").map((s) => s.startsWith(":") ? v : s)
            .join("/");
        // Junk path parameters: refused (400/404), never a 5xx.
        for (const junk of params.length ? JUNK_PARAMS : []) {
          const res = await get(target, fill(junk), tok);
          await expect4xx(res, `${route.path} ← ${junk.slice(0, 40)}`);
        }
        const base = fill("st_000000000000000000000000");
        // Junk query parameters: each declared one, and an unknown one.
        for (const q of [...(route.query ?? []), { name: "zzz" }]) {
          for (const v of JUNK_QUERY) {
            await notServerError(
              await get(target, `${base}?${q.name}=${v}`, tok),
              `${route.path}?${q.name}=${v.slice(0, 20)}`,
            );
          }
          // The parameter repeated 1,000 times.
          await notServerError(
            await get(
              target,
              `${base}?${`${q.name}=1&`.repeat(1_000)}`,
              tok,
            ),
            `${route.path}?${q.name} ×1000`,
          );
        }
        // Every other method: 405 with Allow (HEAD is GET's).
        for (
          const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        ) {
          const res = await hfetch(target.url + fill("x"), {
            method,
            headers: { authorization: `Bearer ${tok}` },
            body: method === "OPTIONS" ? undefined : "{}",
          });
          const text = await expect4xx(res, `${method} ${route.path}`);
          assert.equal(res.status, 405, text);
          assert.equal(res.headers.get("allow"), "GET, HEAD");
        }
      });
    }
  });
}

hostileTest(
  "hostile: tag queries are bounded — 500,000 tags, 65 tags, long or control-character tags, limits — on REST and RPC",
  async (target, tok) => {
    await hostile(target, async () => {
      const byTags = (q: string) => get(target, `/v1/nodes/by-tags?${q}`, tok);
      const cases: [string, RegExp][] = [
        [`tags=${"t,".repeat(20_000)}`, /the list is 40000 characters long/],
        [
          `tags=${Array.from({ length: 65 }, (_, i) => `t${i}`).join(",")}`,
          /65 tags; at most 64 allowed/,
        ],
        [`tags=${"x".repeat(129)}`, /129 bytes long; at most 128/],
        ["tags=a%00b", /control character U\+0000/],
        ["tags=a%0d%0ab", /control character U\+000D/],
        ["tags=,,,", /query parameter tags is malformed/],
        ["tags=a&limit=0", /limit must be an integer 1-1000, got 0/],
        ["tags=a&limit=1001", /limit must be an integer 1-1000, got 1001/],
        ["tags=a&match=some", /match must be one of any, all/],
      ];
      for (const [q, re] of cases) {
        const text = await expect4xx(await byTags(q), q.slice(0, 40));
        assert.match(text, re, q.slice(0, 40));
      }
      assert.equal((await byTags("tags=a&limit=1000")).status, 200);
      // RPC: the same limits (a 500,000-tag request is 1 MB: under the
      // body limit, refused by count, answered at once).
      const { create, toBinary } = await import("@bufbuild/protobuf");
      const { QueryNodesByTagsRequestSchema } = await import(
        "../../lib/contracts/mod.ts"
      );
      const { rpcHeaders } = await import("./harness.ts");
      const rpc = (tags: string[]) =>
        hfetch(`${target.url}/qmtl.v1.GatewayService/QueryNodesByTags`, {
          method: "POST",
          headers: rpcHeaders(tok),
          body: toBinary(
            QueryNodesByTagsRequestSchema,
            create(QueryNodesByTagsRequestSchema, { tags, matchMode: "any" }),
          ) as BodyInit,
        });
      const t0 = performance.now();
      const big = await expect4xx(
        await rpc(new Array(500_000).fill("t")),
        "500k tags",
        400,
      );
      assert.match(big, /500000 tags; at most 64 allowed/);
      assert.ok(
        performance.now() - t0 < 2_000,
        `500k tags answered in ${performance.now() - t0} ms`,
      );
      assert.match(
        await expect4xx(await rpc(["ok", "a\u0000"]), "NUL tag", 400),
        /tags\[1\]/,
      );
    });
  },
);

hostileTest(
  "hostile: SSE with junk strategy ids and Last-Event-ID cursors is refused or ends cleanly",
  async (target, tok) => {
    await hostile(target, async () => {
      for (const s of ["%00", "x".repeat(4_000), "%ff", ""]) {
        await notServerError(
          await get(target, `/v1/events?strategy=${s}`, tok),
          `events?strategy=${s.slice(0, 10)}`,
        );
      }
      for (
        const id of ["x".repeat(10_000), "-1", "99999999999999-0", "a\tb"]
      ) {
        const res = await get(target, "/v1/events?strategy=st_none", tok, {
          headers: { "last-event-id": id },
        });
        await notServerError(res, `last-event-id ${id.slice(0, 10)}`);
      }
    });
  },
);
