// A request body that does not arrive in time is the client's fault: the
// gateway answers 408 (Connect `deadline_exceeded` on RPC routes) and logs
// it at info, never as an internal error — in process (the body stream
// fails with the transport's BodyTimeoutError) and through serveGateway.
import assert from "node:assert/strict";
import { schemaHeaders } from "../../lib/contracts/mod.ts";
import { BodyTimeoutError, serveGateway } from "../../lib/gateway/mod.ts";
import { closeAll, memoryGateway, token, withGateway } from "./helpers.ts";
import {
  closeQuietly,
  connect,
  readResponse,
  readUntilClosed,
  trickle,
} from "./raw_http.ts";
import {
  isRequestTimeout,
  toQmtlError,
} from "../../lib/gateway/error_mapper/mod.ts";

const enc = new TextEncoder();

function errorLines(logs: string[]): unknown[] {
  return logs.map((l) => JSON.parse(l)).filter((l) => l.level === "error");
}

/** A body that yields one byte, then fails as the transport fails it. */
function stalledBody(): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(c) {
      if (!sent) {
        sent = true;
        c.enqueue(new Uint8Array([10]));
      } else c.error(new BodyTimeoutError("idle", 500));
    },
  });
}

Deno.test("body timeout: a status-408 error maps to E_INVALID (field body), not E_INTERNAL", () => {
  const e = new BodyTimeoutError("total", 700);
  assert.ok(isRequestTimeout(e));
  const q = toQmtlError(e);
  assert.equal(q.code, "E_INVALID");
  assert.equal(q.field, "body");
  assert.match(q.message, /700 ms/);
  assert.equal(isRequestTimeout(new Error("x")), false);
});

Deno.test("body timeout: an RPC whose body stalls is answered 408 deadline_exceeded, logged at info", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const tok = await token("alice", ["submitter"]);
    const res = await gw.app.request(
      "/qmtl.v1.GatewayService/SubmitStrategy",
      {
        method: "POST",
        headers: {
          "content-type": "application/proto",
          "connect-protocol-version": "1",
          authorization: `Bearer ${tok}`,
          ...schemaHeaders(),
        },
        body: stalledBody(),
      },
    );
    assert.equal(res.status, 408);
    const body = await res.json();
    assert.equal(body.code, "deadline_exceeded");
    assert.match(body.message, /^\[E_INVALID\] no body bytes for 500 ms/);
    assert.deepEqual(errorLines(gw.logs), []);
    assert.ok(
      gw.logs.some((l) => l.includes("request body timed out")),
      gw.logs.join("\n"),
    );
  });
});

Deno.test("body timeout: through serveGateway a trickled SubmitStrategy gets the transport's 408 and no error log", async () => {
  const gw = memoryGateway({ worker: { autoStart: false } });
  const server = serveGateway(gw.app.fetch, {
    hostname: "127.0.0.1",
    port: 0,
    bodyTimeoutMs: 500,
    idleTimeoutMs: 5_000,
  });
  const conn = await connect(server.addr.port);
  try {
    const tok = await token("alice", ["submitter"]);
    const schema = Object.entries(schemaHeaders())
      .map(([k, v]) => `${k}: ${v}\r\n`).join("");
    await conn.write(enc.encode(
      "POST /qmtl.v1.GatewayService/SubmitStrategy HTTP/1.1\r\nhost: t\r\n" +
        "content-type: application/proto\r\nconnect-protocol-version: 1\r\n" +
        `authorization: Bearer ${tok}\r\n${schema}content-length: 200\r\n\r\n`,
    ));
    const ac = new AbortController();
    const sending = trickle(conn, "x".repeat(200), 100, ac.signal);
    const res = await readResponse(conn, 5_000);
    assert.equal(res.status, 408);
    assert.equal(res.headers["connection"], "close");
    await readUntilClosed(conn, 5_000);
    ac.abort();
    await sending;
    assert.deepEqual(errorLines(gw.logs), []);
    assert.ok(gw.logs.some((l) => l.includes("request body timed out")));
  } finally {
    closeQuietly(conn);
    await server.shutdown();
    await closeAll(gw);
  }
});
