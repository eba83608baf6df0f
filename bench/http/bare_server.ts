/**
 * The HTTP benchmark's peer: a bare `Deno.serve` that answers each path with
 * a recorded response (status, headers, body) of the reference server, so
 * that wrk sees byte-for-byte the same response shape without any gateway
 * work. Only `x-request-id` differs: a fresh UUID per response, as the
 * gateway sends (Deno adds `date` and `content-length` to both).
 *
 *     deno run --allow-net --allow-read bench/http/bare_server.ts <port> <responses.json>
 *
 * `responses.json`: `{ "<path>": { "status": 200, "headers": [[k, v], …], "body": "…" } }`.
 * Any other path: 404 with an empty body.
 *
 * @module
 */

/** One recorded response. */
export interface RecordedResponse {
  /** HTTP status. */
  status: number;
  /** Headers in order, without `date` and `content-length`. */
  headers: [string, string][];
  /** Body text. */
  body: string;
}

if (import.meta.main) {
  const [portArg, file] = Deno.args;
  const port = Number(portArg);
  if (!Number.isInteger(port) || !file) {
    console.error("usage: bare_server.ts <port> <responses.json>");
    Deno.exit(2);
  }
  const routes = new Map<string, RecordedResponse>(
    Object.entries(JSON.parse(await Deno.readTextFile(file))),
  );
  const bodies = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const [path, r] of routes) {
    bodies.set(path, new TextEncoder().encode(r.body));
  }
  Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    const url = req.url;
    const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const r = routes.get(path);
    if (!r) return new Response(null, { status: 404 });
    return new Response(bodies.get(path), {
      status: r.status,
      headers: r.headers.map(([k, v]) =>
        k === "x-request-id" ? [k, crypto.randomUUID()] : [k, v]
      ),
    });
  });
}
