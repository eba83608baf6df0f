/**
 * Refusing a connection over the cap: an immediate
 * `503 Service Unavailable` with `Connection: close` and `Retry-After`,
 * written before (and without) reading the request, then the connection is
 * closed. The request bytes the client already sent are read and dropped for
 * a short, bounded time first, so that closing does not reset the connection
 * before the client has read the answer.
 *
 * @module
 */

const REFUSAL = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\n" +
    "content-type: text/plain; charset=utf-8\r\n" +
    "retry-after: 1\r\n" +
    "connection: close\r\n" +
    "content-length: 34\r\n\r\n" +
    "server busy: too many connections\n",
);

/** Longest a refusal keeps its connection open, ms. */
export const REFUSAL_LINGER_MS = 250;
/** Most request bytes a refusal reads and drops. */
export const REFUSAL_DRAIN_BYTES = 64 * 1024;

function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Answer `conn` with the 503 refusal and close it; bounded by
 * {@linkcode REFUSAL_LINGER_MS} and {@linkcode REFUSAL_DRAIN_BYTES}. Never
 * throws.
 *
 * @example
 * ```ts ignore
 * const conn = await listener.accept();
 * await refuseConnection(conn);
 * ```
 */
export async function refuseConnection(conn: Deno.Conn): Promise<void> {
  const end = Date.now() + REFUSAL_LINGER_MS;
  try {
    const w = conn.write(REFUSAL);
    w.catch(() => {});
    if (await within(w, REFUSAL_LINGER_MS) === "timeout") return;
    await conn.closeWrite();
    const buf = new Uint8Array(16 * 1024);
    let drained = 0;
    while (drained < REFUSAL_DRAIN_BYTES) {
      const left = end - Date.now();
      if (left <= 0) break;
      const r = conn.read(buf);
      r.catch(() => {});
      const n = await within(r, left);
      if (n === "timeout" || n === null) break;
      drained += n;
    }
  } catch {
    // the client went away
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}
