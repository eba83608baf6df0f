/**
 * A small Server-Sent Events parser (the WHATWG `text/event-stream` format)
 * over a fetch response body, using `TextDecoderStream`.
 *
 * @module
 */

/**
 * One dispatched SSE message.
 *
 * @example
 * ```ts
 * import type { SseMessage } from "./sse.ts";
 * const m: SseMessage = { event: "message", data: "{}", id: "42" };
 * ```
 */
export interface SseMessage {
  /** The `event:` field; `"message"` when absent. */
  event: string;
  /** The `data:` lines joined by `"\n"`. */
  data: string;
  /** The last event ID after this message (`id:`), if any was ever sent. */
  id?: string;
  /** The `retry:` reconnection time in ms, if this message set one. */
  retry?: number;
}

/**
 * Parse a `text/event-stream` body into messages. Comments (`:` lines) and
 * messages without data are skipped, except that a message with only `id:`
 * or `retry:` is still reported (with empty `data`) so the caller can track
 * the last event ID. Stops when the body ends.
 *
 * @param body the response body
 * @example
 * ```ts
 * import { parseSse } from "./sse.ts";
 * const body = new Response("id: 1\ndata: {\"a\":1}\n\n: ping\n\n").body!;
 * for await (const m of parseSse(body)) console.log(m.id, m.data); // 1 {"a":1}
 * ```
 */
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<SseMessage, void, undefined> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let first = true;
  let event = "";
  let data: string[] = [];
  let lastId: string | undefined;
  let retry: number | undefined;
  let touched = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      // Split complete lines; a trailing "\r" may be the first half of "\r\n".
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== "\n" && c !== "\r") continue;
        if (c === "\r" && i + 1 === buffer.length) break;
        const line = buffer.slice(start, i);
        if (c === "\r" && buffer[i + 1] === "\n") i++;
        start = i + 1;
        if (line === "") {
          if (data.length > 0 || touched) {
            const msg: SseMessage = {
              event: event === "" ? "message" : event,
              data: data.join("\n"),
            };
            if (lastId !== undefined) msg.id = lastId;
            if (retry !== undefined) msg.retry = retry;
            yield msg;
          }
          event = "";
          data = [];
          retry = undefined;
          touched = false;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "data") data.push(val);
        else if (field === "event") event = val;
        else if (field === "id" && !val.includes("\0")) {
          lastId = val;
          touched = true;
        } else if (field === "retry" && /^\d+$/.test(val)) {
          retry = Number(val);
          touched = true;
        }
      }
      buffer = buffer.slice(start);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
