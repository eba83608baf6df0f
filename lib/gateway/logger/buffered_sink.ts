/**
 * A buffered log sink: lines are appended to an in-memory buffer and written
 * to a stream (stdout by default) in large chunks, off the request path —
 * a write per line (what `console.log` does) costs more than the request
 * itself under load. The buffer is flushed when it reaches `flushBytes`,
 * after `flushMs`, on `flush()` (graceful shutdown), and synchronously when
 * the process unloads, so no line is lost on an orderly exit. A buffer that
 * the stream cannot drain beyond `maxBytes` drops new lines and counts them
 * rather than growing without bound.
 *
 * @module
 */

/**
 * Where the buffered bytes go.
 *
 * @example
 * ```ts
 * import type { SinkTarget } from "@qmtl/qmtl/gateway";
 * const t: SinkTarget = Deno.stdout;
 * ```
 */
export interface SinkTarget {
  /** Write some bytes; resolves with how many were written. */
  write(p: Uint8Array): Promise<number>;
  /** Write some bytes now. */
  writeSync(p: Uint8Array): number;
}

/**
 * Options of {@link bufferedSink}.
 *
 * @example
 * ```ts
 * import type { BufferedSinkOptions } from "@qmtl/qmtl/gateway";
 * const o: BufferedSinkOptions = { flushMs: 20, flushBytes: 64 * 1024 };
 * ```
 */
export interface BufferedSinkOptions {
  /** Where to write; default `Deno.stdout`. */
  target?: SinkTarget;
  /** Longest a line waits in the buffer, ms; default 25. */
  flushMs?: number;
  /** Flush as soon as this many bytes are buffered; default 64 KiB. */
  flushBytes?: number;
  /** Drop (and count) new lines beyond this many buffered bytes; default 16 MiB. */
  maxBytes?: number;
}

/**
 * A line sink with `flush()` and a count of dropped lines.
 *
 * @example
 * ```ts
 * import { bufferedSink } from "@qmtl/qmtl/gateway";
 * const sink = bufferedSink();
 * sink.write('{"msg":"hello"}');
 * await sink.flush();
 * ```
 */
export interface BufferedSink {
  /** Buffer one line (a newline is added). */
  write(line: string): void;
  /** Write everything buffered; resolves when it is out. */
  flush(): Promise<void>;
  /** Lines dropped because the target could not keep up. */
  readonly dropped: number;
  /** Stop the timer and the unload hook (after a final synchronous flush). */
  close(): void;
}

const encoder = new TextEncoder();

/**
 * Build a buffered sink.
 *
 * @param options target, flush interval and sizes
 * @returns the sink
 * @example
 * ```ts
 * import { bufferedSink } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const chunks: string[] = [];
 * const target = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 *   writeSync: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), p.length),
 * };
 * const sink = bufferedSink({ target });
 * sink.write("a");
 * sink.write("b");
 * await sink.flush();
 * assert.equal(chunks.join(""), "a\nb\n");
 * sink.close();
 * ```
 */
export function bufferedSink(options: BufferedSinkOptions = {}): BufferedSink {
  const target = options.target ?? Deno.stdout;
  const flushMs = options.flushMs ?? 25;
  const flushBytes = options.flushBytes ?? 64 * 1024;
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  let parts: string[] = [];
  let size = 0;
  let dropped = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> | null = null;

  const take = (): Uint8Array | null => {
    if (parts.length === 0) return null;
    const bytes = encoder.encode(parts.join(""));
    parts = [];
    size = 0;
    return bytes;
  };
  const writeAll = async (bytes: Uint8Array) => {
    for (let off = 0; off < bytes.length;) {
      off += await target.write(bytes.subarray(off));
    }
  };
  const drain = (): Promise<void> => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    // One writer at a time, in order; it takes what is buffered until the
    // buffer is empty. Nothing buffered and no writer: nothing to start. The
    // writer is forgotten only from a `.finally` (always asynchronous), so a
    // writer that ended at once can never stay behind as "running" (a
    // `writing ??= (async () => { … finally { writing = null } })()` would
    // keep it, and the sink would never write again).
    if (writing === null && parts.length > 0) {
      const run = (async () => {
        try {
          for (let bytes = take(); bytes; bytes = take()) {
            await writeAll(bytes);
          }
        } catch {
          // The target is gone (closed stdout): nothing better to do with
          // logs.
        }
      })().finally(() => {
        if (writing !== run) return;
        writing = null;
        // Lines that came in after the last take: start the next writer.
        if (parts.length > 0) void drain();
      });
      writing = run;
    }
    return writing ?? Promise.resolve();
  };
  const onUnload = () => {
    const bytes = take();
    if (!bytes) return;
    try {
      for (let off = 0; off < bytes.length;) {
        off += target.writeSync(bytes.subarray(off));
      }
    } catch {
      // as above
    }
  };
  globalThis.addEventListener("unload", onUnload);

  return {
    write(line: string) {
      if (size + line.length + 1 > maxBytes) {
        dropped++;
        return;
      }
      parts.push(line + "\n");
      size += line.length + 1;
      if (size >= flushBytes) void drain();
      else if (timer === undefined) {
        timer = setTimeout(() => void drain(), flushMs);
        // A pending flush must not keep a finished program alive: the
        // unload hook writes what is left.
        Deno.unrefTimer(timer as unknown as number);
      }
    },
    async flush() {
      await writing;
      await drain();
    },
    get dropped() {
      return dropped;
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      onUnload();
      globalThis.removeEventListener("unload", onUnload);
    },
  };
}
