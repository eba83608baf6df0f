import assert from "node:assert/strict";
import {
  BodyTimeoutError,
  type EngineName,
  type GatewayServer,
  Metrics,
  serveGateway,
  type ServeGatewayOptions,
} from "../../lib/gateway/mod.ts";
import {
  closeQuietly,
  connect,
  rawGet,
  readResponse,
  readUntilClosed,
  trickle,
} from "./raw_http.ts";

const enc = new TextEncoder();
const ENGINES: EngineName[] = ["deno-serve", "serve-http"];

/** `/slow?ms=N` waits N ms; POST echoes the body length; errors are recorded. */
function testServer(
  options: ServeGatewayOptions,
): { server: GatewayServer; port: number; errors: unknown[] } {
  const errors: unknown[] = [];
  const server = serveGateway(async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/slow") {
      await new Promise((r) =>
        setTimeout(r, Number(url.searchParams.get("ms")))
      );
      return new Response("slow done");
    }
    if (req.method === "POST") {
      try {
        const body = new Uint8Array(await req.arrayBuffer());
        return new Response(`got ${body.length}`);
      } catch (e) {
        errors.push(e);
        return new Response("handler saw an error", { status: 500 });
      }
    }
    return new Response("ok");
  }, { hostname: "127.0.0.1", port: 0, ...options });
  return { server, port: server.addr.port, errors };
}

/**
 * Runs `fn` on a test server with `options` and one connection that has sent
 * the head of a POST declaring `length` body bytes, then `body`; `t0` is when
 * that was sent. The connection and the server are closed afterwards.
 */
async function onUpload(
  options: ServeGatewayOptions,
  length: number,
  body: string,
  fn: (
    u: {
      conn: Deno.Conn;
      server: GatewayServer;
      errors: unknown[];
      t0: number;
    },
  ) => Promise<void>,
): Promise<void> {
  const { server, port, errors } = testServer(options);
  const conn = await connect(port);
  try {
    await conn.write(
      enc.encode(
        `POST /upload HTTP/1.1\r\nhost: t\r\ncontent-length: ${length}\r\n\r\n${body}`,
      ),
    );
    await fn({ conn, server, errors, t0: Date.now() });
  } finally {
    closeQuietly(conn);
    await server.shutdown();
  }
}

Deno.test("serve: the preferred engine (Deno.serve's own HTTP code) is in use on this Deno", async () => {
  const { server, port } = testServer({});
  try {
    assert.equal(server.engine, "deno-serve");
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), "ok");
    const post = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      body: "x".repeat(100_000),
    });
    assert.equal(await post.text(), "got 100000");
  } finally {
    await server.shutdown();
  }
});

Deno.test("serve: option values are checked", () => {
  assert.throws(
    () => serveGateway(() => new Response(), { port: 0, headerTimeoutMs: 0 }),
    /headerTimeoutMs must be > 0/,
  );
  assert.throws(
    () => serveGateway(() => new Response(), { port: 0, maxConnections: -1 }),
    /maxConnections must be > 0/,
  );
});

for (const engine of ENGINES) {
  Deno.test(`serve [${engine}]: slowloris (head trickled 1 byte / 100 ms) is cut at the header timeout; a canary is served meanwhile`, async () => {
    const metrics = new Metrics();
    const { server, port } = testServer({
      engine,
      headerTimeoutMs: 600,
      metrics,
    });
    const slow = await connect(port);
    const canary = await connect(port);
    try {
      const t0 = Date.now();
      const ac = new AbortController();
      const sending = trickle(
        slow,
        "GET / HTTP/1.1\r\nhost: t\r\nx-pad: " + "a".repeat(200) + "\r\n\r\n",
        100,
        ac.signal,
      );
      // The canary is served while the slow client trickles.
      for (let i = 0; i < 3; i++) {
        assert.equal((await rawGet(canary, "/")).status, 200);
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await readUntilClosed(slow, 3_000);
      ac.abort();
      await sending;
      assert.ok(r.closed, "the slow connection is closed");
      assert.equal(r.text, "", "nothing is answered to an incomplete head");
      const after = r.at - t0;
      assert.ok(after >= 550, `closed after ${after} ms (header timeout 600)`);
      assert.ok(
        after <= 1_500,
        `closed after ${after} ms (header timeout 600)`,
      );
      assert.equal(server.stats().headerTimeouts, 1);
      assert.match(
        await metrics.render(),
        /qmtl_http_timeouts_total\{phase="header"\} 1/,
      );
      // The canary's connection is still usable.
      assert.equal((await rawGet(canary, "/")).status, 200);
    } finally {
      closeQuietly(slow);
      closeQuietly(canary);
      await server.shutdown();
    }
  });

  Deno.test(`serve [${engine}]: a body trickled 1 byte / 100 ms is cut at the body timeout with 408, then the connection closes`, async () => {
    await onUpload(
      { engine, bodyTimeoutMs: 700, idleTimeoutMs: 5_000 },
      1000,
      "",
      async ({ conn, server, errors, t0 }) => {
        const ac = new AbortController();
        const sending = trickle(conn, "b".repeat(1000), 100, ac.signal);
        const res = await readResponse(conn, 3_000);
        const after = Date.now() - t0;
        assert.equal(res.status, 408);
        assert.equal(res.headers["connection"], "close");
        assert.match(res.body, /request body not received within 700 ms/);
        assert.ok(after >= 650 && after <= 1_800, `408 after ${after} ms`);
        assert.equal(errors.length, 1);
        assert.ok(errors[0] instanceof BodyTimeoutError);
        assert.equal((errors[0] as BodyTimeoutError).kind, "total");
        const closed = await readUntilClosed(conn, 7_000);
        ac.abort();
        await sending;
        assert.ok(closed.closed, "connection closed after the 408");
        assert.equal(server.stats().bodyTimeouts, 1);
      },
    );
  });

  Deno.test(`serve [${engine}]: a body that stops arriving is cut at the idle timeout`, async () => {
    await onUpload(
      { engine, bodyTimeoutMs: 10_000, idleTimeoutMs: 500 },
      100,
      "half",
      async ({ conn, errors, t0 }) => {
        const res = await readResponse(conn, 3_000);
        const after = Date.now() - t0;
        assert.equal(res.status, 408);
        assert.match(res.body, /no body bytes for 500 ms/);
        assert.ok(after >= 450 && after <= 1_500, `408 after ${after} ms`);
        assert.equal((errors[0] as BodyTimeoutError).kind, "idle");
      },
    );
  });

  Deno.test(`serve [${engine}]: an idle keep-alive connection is closed at the idle timeout, a busy one is not`, async () => {
    const { server, port } = testServer({ engine, idleTimeoutMs: 500 });
    const idle = await connect(port);
    const busy = await connect(port);
    try {
      assert.equal((await rawGet(idle, "/")).status, 200);
      const t0 = Date.now();
      // A request in flight for longer than the idle timeout is not cut.
      assert.equal((await rawGet(busy, "/slow?ms=900")).body, "slow done");
      const r = await readUntilClosed(idle, 3_000);
      assert.ok(r.closed);
      assert.ok(r.at - t0 <= 1_500, `closed after ${r.at - t0} ms`);
      assert.ok(server.stats().idleTimeouts >= 1);
    } finally {
      closeQuietly(idle);
      closeQuietly(busy);
      await server.shutdown();
    }
  });

  Deno.test(`serve [${engine}]: over the cap a connection gets 503 + Connection: close at once; open connections are still served`, async () => {
    const metrics = new Metrics();
    const cap = 5;
    const { server, port } = testServer({
      engine,
      maxConnections: cap,
      headerTimeoutMs: 10_000,
      metrics,
    });
    const canary = await connect(port);
    const hostile: Deno.TcpConn[] = [];
    try {
      assert.equal((await rawGet(canary, "/")).status, 200);
      for (let i = 0; i < cap - 1; i++) hostile.push(await connect(port));
      // Wait until the server has accepted the cap's worth of connections.
      const deadline = Date.now() + 3_000;
      while (server.stats().connections < cap && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(server.stats().connections, cap);

      // N+1: refused clearly, without its request being read.
      const over = await connect(port);
      const t0 = Date.now();
      await over.write(enc.encode("GET / HTTP/1.1\r\nhost: t\r\n\r\n"))
        .catch(() => {});
      const refused = await readUntilClosed(over, 3_000);
      closeQuietly(over);
      assert.match(refused.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
      assert.match(refused.text, /\r\nconnection: close\r\n/i);
      assert.match(refused.text, /\r\nretry-after: 1\r\n/i);
      assert.ok(refused.closed, "the refused connection is closed");
      assert.ok(refused.at - t0 < 1_000, `refused in ${refused.at - t0} ms`);
      assert.equal(server.stats().refused, 1);
      assert.match(
        await metrics.render(),
        /qmtl_http_connections_refused_total 1/,
      );

      // The canary keeps being served on its connection.
      for (let i = 0; i < 3; i++) {
        assert.equal((await rawGet(canary, "/")).status, 200);
      }
      // Once the hostile connections go, new connections are accepted.
      for (const h of hostile.splice(0)) closeQuietly(h);
      const until = Date.now() + 3_000;
      while (server.stats().connections > 1 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const fresh = await connect(port);
      try {
        assert.equal((await rawGet(fresh, "/")).status, 200);
      } finally {
        closeQuietly(fresh);
      }
    } finally {
      closeQuietly(canary);
      for (const h of hostile) closeQuietly(h);
      await server.shutdown();
    }
  });

  Deno.test(`serve [${engine}]: graceful shutdown lets in-flight requests finish, closes idle connections, refuses new ones`, async () => {
    const { server, port } = testServer({ engine, shutdownTimeoutMs: 5_000 });
    const idle = await connect(port);
    const busy = await connect(port);
    try {
      assert.equal((await rawGet(idle, "/")).status, 200);
      await busy.write(
        enc.encode("GET /slow?ms=600 HTTP/1.1\r\nhost: t\r\n\r\n"),
      );
      await new Promise((r) => setTimeout(r, 100)); // the request is in flight
      const t0 = Date.now();
      const stopping = server.shutdown();
      const idleClosed = await readUntilClosed(idle, 2_000);
      assert.ok(idleClosed.closed, "the idle connection is closed");
      assert.ok(idleClosed.at - t0 < 1_000);
      await assert.rejects(connect(port), Deno.errors.ConnectionRefused);
      const res = await readResponse(busy, 3_000);
      assert.equal(res.status, 200);
      assert.equal(res.body, "slow done");
      await stopping;
      const took = Date.now() - t0;
      assert.ok(took < 3_000, `shutdown took ${took} ms`);
      assert.ok((await readUntilClosed(busy, 2_000)).closed);
    } finally {
      closeQuietly(idle);
      closeQuietly(busy);
      await server.shutdown();
    }
  });

  Deno.test(`serve [${engine}]: shutdown force-closes what is still running after shutdownTimeoutMs`, async () => {
    const { server, port } = testServer({ engine, shutdownTimeoutMs: 400 });
    const busy = await connect(port);
    try {
      await busy.write(
        enc.encode("GET /slow?ms=3000 HTTP/1.1\r\nhost: t\r\n\r\n"),
      );
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await server.shutdown();
      const took = Date.now() - t0;
      assert.ok(took >= 350 && took < 2_000, `shutdown took ${took} ms`);
      assert.ok((await readUntilClosed(busy, 2_000)).closed);
    } finally {
      closeQuietly(busy);
      // Let the abandoned handler's timer run out (test sanitizers).
      await new Promise((r) => setTimeout(r, 3_000));
    }
  });
}

Deno.test("serve: an aborted signal shuts the server down", async () => {
  const ac = new AbortController();
  const { server, port } = testServer({ signal: ac.signal });
  const res = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(await res.text(), "ok");
  ac.abort();
  await server.finished;
  await assert.rejects(connect(port), Deno.errors.ConnectionRefused);
});
