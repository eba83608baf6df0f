/**
 * Raw HTTP/1.1 over a TCP connection, for tests that need to control the
 * bytes (trickled heads and bodies, a canary on one keep-alive connection).
 *
 * @module
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A parsed response. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Connect to 127.0.0.1:port. */
export function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Close, ignoring "already closed". */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/**
 * Read until `conn` is closed by the peer or `ms` pass. Returns what was
 * read, whether the peer closed (EOF or reset), and when.
 */
export async function readUntilClosed(
  conn: Deno.Conn,
  ms: number,
): Promise<{ text: string; closed: boolean; at: number }> {
  const buf = new Uint8Array(4096);
  let text = "";
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = conn.read(buf);
    r.catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      r.then((n) => n, () => null),
      new Promise<"timeout">((res) => {
        timer = setTimeout(() => res("timeout"), Math.max(1, end - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (n === "timeout") break;
    if (n === null) return { text, closed: true, at: Date.now() };
    text += dec.decode(buf.subarray(0, n));
  }
  return { text, closed: false, at: Date.now() };
}

/**
 * Send one GET on `conn` (keep-alive) and read its response (content-length
 * bodies only). Rejects after `ms`.
 */
export async function rawGet(
  conn: Deno.Conn,
  path: string,
  ms = 5_000,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  await conn.write(
    enc.encode(`GET ${path} HTTP/1.1\r\nhost: t\r\n${extra}\r\n`),
  );
  return await readResponse(conn, ms);
}

/** Read one content-length response from `conn`. */
export async function readResponse(
  conn: Deno.Conn,
  ms = 5_000,
): Promise<RawResponse> {
  const buf = new Uint8Array(65536);
  let data = new Uint8Array(0);
  const end = Date.now() + ms;
  const append = (chunk: Uint8Array) => {
    const next = new Uint8Array(data.length + chunk.length);
    next.set(data);
    next.set(chunk, data.length);
    data = next;
  };
  while (true) {
    const text = dec.decode(data);
    const headEnd = text.indexOf("\r\n\r\n");
    if (headEnd >= 0) {
      const [statusLine, ...lines] = text.slice(0, headEnd).split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(":");
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const len = Number(headers["content-length"] ?? "0");
      const body = text.slice(headEnd + 4);
      if (enc.encode(body).length >= len) {
        return {
          status: Number(statusLine.split(" ")[1]),
          headers,
          body,
        };
      }
    }
    if (Date.now() >= end) throw new Error(`no complete response in ${ms} ms`);
    const r = conn.read(buf);
    r.catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      r,
      new Promise<"timeout">((res) => {
        timer = setTimeout(() => res("timeout"), Math.max(1, end - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (n === "timeout") throw new Error(`no complete response in ${ms} ms`);
    if (n === null) {
      throw new Error(
        `connection closed before a complete response: ${
          JSON.stringify(dec.decode(data))
        }`,
      );
    }
    append(buf.subarray(0, n));
  }
}

/** Write `bytes` one byte every `everyMs` until done or the peer closes. */
export async function trickle(
  conn: Deno.Conn,
  bytes: string,
  everyMs: number,
  signal?: AbortSignal,
): Promise<{ sent: number; failedAt?: number }> {
  const b = enc.encode(bytes);
  for (let i = 0; i < b.length; i++) {
    if (signal?.aborted) return { sent: i };
    try {
      await conn.write(b.subarray(i, i + 1));
    } catch {
      return { sent: i, failedAt: Date.now() };
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return { sent: b.length };
}
