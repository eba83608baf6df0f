// HTTP-level tricks over raw TCP: conflicting or negative Content-Length,
// Content-Length with Transfer-Encoding, unknown transfer codings, malformed
// chunks, huge heads (1 MB header, 5,000 headers, 1 MB URL, 200 KB token),
// NUL in headers, broken request lines, bodies that stop or end early, slow
// heads and bodies, a bounded flood of idle connections. Each is answered
// with a 4xx (or the connection is closed when the framing itself is
// broken), never a 5xx or a server error log; nothing is written; a canary
// is served throughout.
import assert from "node:assert/strict";
import { schemaHeaders } from "../../lib/contracts/mod.ts";
import {
  closeQuietly,
  connect,
  readResponse,
  readUntilClosed,
  trickle,
} from "../gateway/raw_http.ts";
import { hostile, hostileTest, type Target } from "./harness.ts";

const enc = new TextEncoder();

/** Send raw bytes on a fresh connection; the status (0: closed unanswered). */
async function raw(
  t: Target,
  bytes: string,
  ms = 4_000,
): Promise<{ status: number; text: string; closed: boolean }> {
  const c = await connect(t.port);
  try {
    await c.write(enc.encode(bytes)).catch(() => {});
    try {
      // A complete answer (kept-alive connections are not waited on).
      const r = await readResponse(c, ms);
      const head = Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`)
        .join("\r\n");
      return {
        status: r.status,
        text: `HTTP/1.1 ${r.status} \r\n${head}\r\n\r\n${r.body}`,
        closed: false,
      };
    } catch (e) {
      const closed = /closed before a complete response/.test(
        (e as Error).message,
      );
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(
        (e as Error).message.replace(/^[^"]*"/, ""),
      );
      return { status: m ? Number(m[1]) : 0, text: String(e), closed };
    }
  } finally {
    closeQuietly(c);
  }
}

hostileTest(
  "hostile: HTTP framing and header tricks get a 4xx or a closed connection; nothing written, no server error",
  async (target, tok, t) => {
    const schema = Object.entries(schemaHeaders()).map(([k, v]) =>
      `${k}: ${v}\r\n`
    ).join("");
    const rpc = (extra: string, body = "", path = "GetStrategy") =>
      `POST /qmtl.v1.GatewayService/${path} HTTP/1.1\r\nhost: t\r\ncontent-type: application/proto\r\nconnect-protocol-version: 1\r\nauthorization: Bearer ${tok}\r\n${schema}${extra}\r\n${body}`;
    // [what, request, may the server just close the connection?]
    const cases: [string, string, boolean][] = [
      [
        "conflicting Content-Length",
        rpc("content-length: 3\r\ncontent-length: 5\r\n", "abcde"),
        false,
      ],
      ["negative Content-Length", rpc("content-length: -1\r\n"), false],
      ["non-numeric Content-Length", rpc("content-length: 1e3\r\n"), false],
      [
        "Content-Length with Transfer-Encoding",
        rpc(
          "content-length: 3\r\ntransfer-encoding: chunked\r\n",
          "0\r\n\r\n",
        ),
        false,
      ],
      [
        "unknown transfer coding",
        rpc("transfer-encoding: gzip, chunked\r\n", "0\r\n\r\n"),
        false,
      ],
      [
        "malformed chunk size",
        rpc("transfer-encoding: chunked\r\n", "zz\r\nabc\r\n0\r\n\r\n"),
        true,
      ],
      [
        "1 MB header",
        `GET /healthz HTTP/1.1\r\nhost: t\r\nx-big: ${
          "a".repeat(1_000_000)
        }\r\n\r\n`,
        false,
      ],
      [
        "5,000 headers",
        "GET /healthz HTTP/1.1\r\nhost: t\r\n" +
        Array.from({ length: 5_000 }, (_, i) => `x-h${i}: v\r\n`).join("") +
        "\r\n",
        false,
      ],
      [
        "1 MB URL (500,000 tags)",
        `GET /v1/nodes/by-tags?tags=${
          "t,".repeat(500_000)
        } HTTP/1.1\r\nhost: t\r\nauthorization: Bearer ${tok}\r\n\r\n`,
        false,
      ],
      [
        "200 KB bearer token",
        `GET /v1/nodes HTTP/1.1\r\nhost: t\r\nauthorization: Bearer ${
          "a".repeat(200_000)
        }\r\n\r\n`,
        false,
      ],
      [
        "NUL in a header value",
        "GET /healthz HTTP/1.1\r\nhost: t\r\nx-a: a\u0000b\r\n\r\n",
        false,
      ],
      [
        "CR without LF in a header",
        "GET /healthz HTTP/1.1\r\nhost: t\r\nx-a: a\rb\r\n\r\n",
        false,
      ],
      ["broken request line", "GET\u0001 / HTTP/1.1\r\n\r\n", false],
      ["HTTP/0.9 request", "GET /\r\n\r\n", false],
      [
        "non-UTF-8 bytes in the path",
        "GET /v1/nodes/\u00ff\u00fe HTTP/1.1\r\nhost: t\r\n\r\n",
        false,
      ],
      [
        "duplicate Authorization",
        `GET /v1/nodes HTTP/1.1\r\nhost: t\r\nauthorization: Bearer ${tok}\r\nauthorization: Bearer x\r\n\r\n`,
        false,
      ],
      [
        "absolute-form URL to another host",
        `GET http://evil.example/v1/nodes HTTP/1.1\r\nhost: evil.example\r\n\r\n`,
        false,
      ],
    ];
    await hostile(target, async () => {
      for (const [what, bytes, mayClose] of cases) {
        await t.step(what, async () => {
          const r = await raw(target, bytes);
          if (r.status === 0) {
            assert.ok(mayClose, `${what}: closed without an answer`);
            assert.ok(r.closed, `${what}: neither answered nor closed`);
          } else {
            assert.ok(
              r.status >= 400 && r.status < 500,
              `${what}: ${r.text.slice(0, 300)}`,
            );
          }
        });
      }
      await t.step(
        "a body cut short by the client is a 400, not a 500",
        async () => {
          // The head declares 100 bytes, 3 arrive, the client half-closes.
          const c = await connect(target.port);
          try {
            await c.write(enc.encode(rpc("content-length: 100\r\n", "abc")));
            await c.closeWrite();
            const r = await readUntilClosed(c, 4_000);
            assert.match(r.text, /^HTTP\/1\.1 400 /, r.text.slice(0, 200));
            assert.match(r.text, /the request body ended early/);
          } finally {
            closeQuietly(c);
          }
          // And a client that vanishes mid-body.
          const d = await connect(target.port);
          await d.write(enc.encode(rpc("content-length: 100\r\n", "abc")));
          await new Promise((r) => setTimeout(r, 200));
          closeQuietly(d);
          await new Promise((r) => setTimeout(r, 300));
        },
      );
    });
    // Protocol-level refusals of the Connect protocol: an unsupported
    // content coding and an unknown procedure are `unimplemented`, which
    // the Connect spec answers with HTTP 501. Typed, clear, nothing
    // written (these two are the only non-4xx answers to client input).
    const before = await target.counts();
    const br = await raw(
      target,
      rpc("content-encoding: br\r\ncontent-length: 3\r\n", "abc"),
      1_000,
    );
    assert.equal(br.status, 501, br.text.slice(0, 200));
    assert.match(br.text, /"code":"unimplemented"/);
    assert.match(br.text, /accept-encoding: gzip/i);
    const nope = await raw(
      target,
      rpc("content-length: 0\r\n", "", "Nope"),
      1_000,
    );
    assert.equal(nope.status, 501);
    assert.match(nope.text, /no procedure/);
    assert.deepEqual(await target.counts(), before);
  },
);

hostileTest(
  "hostile: slow heads are cut by the header timeout, slow bodies by the body deadline (408), a bounded idle flood is shed; the canary is served",
  async (target, tok) => {
    await hostile(target, async () => {
      const t0 = Date.now();
      // Slowloris: one header byte every 100 ms (header timeout 2 s).
      const slowHead = await connect(target.port);
      const ac = new AbortController();
      const loris = trickle(
        slowHead,
        "GET /healthz HTTP/1.1\r\nhost: t\r\n" + "x-a: b\r\n".repeat(200),
        100,
        ac.signal,
      );
      // A slow body after authentication: 10 of 1,000 bytes, then silence.
      const schema = Object.entries(schemaHeaders()).map(([k, v]) =>
        `${k}: ${v}\r\n`
      ).join("");
      const slowBody = await connect(target.port);
      await slowBody.write(
        enc.encode(
          `POST /qmtl.v1.GatewayService/GetStrategy HTTP/1.1\r\nhost: t\r\ncontent-type: application/proto\r\nauthorization: Bearer ${tok}\r\n${schema}content-length: 1000\r\n\r\n0123456789`,
        ),
      );
      // A bounded flood: 200 connections that never send a byte.
      const flood: Deno.TcpConn[] = [];
      for (let i = 0; i < 200; i++) flood.push(await connect(target.port));
      try {
        const body = await readUntilClosed(slowBody, 8_000);
        assert.match(body.text, /^HTTP\/1\.1 408 /, body.text.slice(0, 200));
        const sent = await loris;
        assert.ok(sent.failedAt !== undefined, "the slow head was not cut");
        assert.ok(
          sent.failedAt! - t0 < 6_000,
          `slow head cut after ${sent.failedAt! - t0} ms`,
        );
        // The flood is closed by the header timeout too.
        const closed = await Promise.all(
          flood.map((c) => readUntilClosed(c, 6_000)),
        );
        assert.ok(
          closed.every((c) => c.closed),
          "idle connections were left open",
        );
      } finally {
        ac.abort();
        closeQuietly(slowHead);
        closeQuietly(slowBody);
        for (const c of flood) closeQuietly(c);
      }
    });
  },
);
