/**
 * One HTTP transport variant serving the gateway (memory backends), for
 * `bench/transport_wrk.ts`. Prints one JSON line `{port, strategyId}` once
 * listening, then serves until killed.
 *
 * `deno run -A bench/transport_server.ts --variant=<name> [--header-timeout-ms=N]`
 *
 * - `bare`: `Deno.serve` answering every path with the gateway's own
 *   response for it, precomputed (identical status, body and headers).
 * - `deno-serve`: `Deno.serve(gateway.app.fetch)` (the server before
 *   `serveGateway`: no read timeouts, no cap).
 * - `serve-gateway`: `serveGateway(gateway.app.fetch)` on the `deno-serve`
 *   engine (what `deploy/server.ts` runs).
 * - `engine-only`: own accept loop + `serveHttpOnConnection` per connection,
 *   without serveGateway's deadlines and cap (isolates the engine's cost).
 * - `serve-http`: `serveGateway` on the `serve-http` engine: own accept loop
 *   + `Deno.serveHttp(conn)` per connection (option a).
 * - `node-http`: `node:http` `createServer` with `headersTimeout` /
 *   `requestTimeout` and a Request/Response adapter (option b).
 * - `proxy`: a front accept loop that reads the request head under a
 *   deadline, then pipes the connection to an internal `Deno.serve` on a
 *   Unix socket (option c).
 *
 * @module
 */

import { createServer, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { createLogger, serveGateway } from "../lib/gateway/mod.ts";
import {
  chain,
  client,
  dag,
  memoryGateway,
  token,
} from "../tests/gateway/helpers.ts";

const args = Object.fromEntries(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string]),
);
const variant = args.variant ?? "serve-gateway";
const headerTimeoutMs = Number(args["header-timeout-ms"] ?? 10_000);

const gw = memoryGateway({ logger: createLogger({ sink: () => {} }) });
const tok = await token("bench", ["reader", "submitter"]);
const ack = await client(gw, tok).submitStrategy({
  dag: dag("transport-bench", chain("tb", 3)),
  version: "1",
});
await new Promise((r) => setTimeout(r, 300));
const strategyPath = `/v1/strategies/${ack.strategyId}`;
const handler = gw.app.fetch;

let port: number;
switch (variant) {
  case "bare": {
    const canned = new Map<
      string,
      { body: string; headers: [string, string][]; status: number }
    >();
    for (const path of ["/healthz", strategyPath]) {
      const r = await gw.app.request(path, {
        headers: { authorization: `Bearer ${tok}` },
      });
      canned.set(path, {
        status: r.status,
        body: await r.text(),
        headers: [...r.headers].filter(([k]) => k !== "content-length"),
      });
    }
    const s = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => {
        const c = canned.get(new URL(req.url).pathname)!;
        return new Response(c.body, {
          status: c.status,
          headers: c.headers.map(([k, v]) =>
            k === "x-request-id" ? [k, crypto.randomUUID()] : [k, v]
          ),
        });
      },
    );
    port = s.addr.port;
    break;
  }
  case "deno-serve": {
    const s = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      handler,
    );
    port = s.addr.port;
    break;
  }
  case "engine-only": {
    // The per-connection engine with none of serveGateway's bookkeeping:
    // separates the engine's cost from the deadlines' cost.
    const internals = (Deno as unknown as Record<PropertyKey, unknown>)[
      (Deno as unknown as { internal: symbol }).internal
    ] as {
      serveHttpOnConnection: (
        c: Deno.Conn,
        s: undefined,
        h: typeof handler,
        e: () => Response,
        l: () => void,
      ) => { finished: Promise<void> };
    };
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = l.addr.port;
    (async () => {
      for await (const c of l) {
        internals.serveHttpOnConnection(
          c,
          undefined,
          handler,
          () => new Response("error", { status: 500 }),
          () => {},
        ).finished.catch(() => {});
      }
    })();
    break;
  }
  case "serve-gateway":
  case "serve-http": {
    const s = serveGateway(handler, {
      port: 0,
      headerTimeoutMs,
      engine: variant === "serve-http" ? "serve-http" : "deno-serve",
    });
    port = s.addr.port;
    break;
  }
  case "node-http": {
    const toRequest = (req: IncomingMessage): Request => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) {
          headers.set(k, Array.isArray(v) ? v.join(", ") : v);
        }
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const init: RequestInit & { duplex: "half" } = {
        method: req.method,
        headers,
        body: hasBody
          ? Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>
          : undefined,
        duplex: "half",
      };
      return new Request(`http://${req.headers.host}${req.url}`, init);
    };
    const s = createServer({
      headersTimeout: headerTimeoutMs,
      requestTimeout: 60_000,
      keepAliveTimeout: 15_000,
      connectionsCheckingInterval: 500,
    }, async (req, res) => {
      const r = await handler(toRequest(req));
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(new Uint8Array(await r.arrayBuffer()));
    });
    s.maxConnections = 1024;
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    port = (s.address() as { port: number }).port;
    break;
  }
  case "proxy": {
    const path = await Deno.makeTempFile({
      prefix: "qmtl-proxy-",
      suffix: ".sock",
    });
    await Deno.remove(path);
    Deno.serve({ path, onListen: () => {} }, handler);
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = l.addr.port;
    const endOfHead = (b: Uint8Array, n: number) => {
      for (let i = 3; i < n; i++) {
        if (
          b[i - 3] === 13 && b[i - 2] === 10 && b[i - 1] === 13 && b[i] === 10
        ) return true;
      }
      return false;
    };
    const serveConn = async (c: Deno.Conn) => {
      const buf = new Uint8Array(16 * 1024);
      let n = 0;
      const timer = setTimeout(() => c.close(), headerTimeoutMs);
      try {
        while (!endOfHead(buf, n)) {
          const r = await c.read(buf.subarray(n));
          if (r === null || n + r >= buf.length) throw new Error("no head");
          n += r;
        }
      } catch {
        clearTimeout(timer);
        try {
          c.close();
        } catch { /* closed */ }
        return;
      }
      clearTimeout(timer);
      const up = await Deno.connect({ transport: "unix", path });
      await up.write(buf.subarray(0, n));
      await Promise.allSettled([
        c.readable.pipeTo(up.writable),
        up.readable.pipeTo(c.writable),
      ]);
    };
    (async () => {
      for await (const c of l) serveConn(c).catch(() => {});
    })();
    break;
  }
  default:
    throw new Error(`unknown variant ${variant}`);
}
console.log(JSON.stringify({ port, strategyId: ack.strategyId }));
