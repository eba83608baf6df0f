/**
 * Child-process plumbing shared by the tests that run the server as a
 * subprocess: reading its output line by line, and stopping it (SIGTERM,
 * then SIGKILL if it does not exit in time).
 *
 * @module
 */

/**
 * Reads `stream` as text and calls `onLine` with every complete line (without
 * its newline), then `afterChunk` (if given) after each chunk read.
 */
export async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  afterChunk?: () => void,
): Promise<void> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    afterChunk?.();
  }
}

/** Sends `signal` to `child`; a child that is already gone is not an error. */
export function signalChild(child: Deno.ChildProcess, signal: Deno.Signal) {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/**
 * Stops `child`: SIGTERM, SIGKILL if it has not exited after `killAfterMs`;
 * resolves when it has exited.
 */
export async function terminate(
  child: Deno.ChildProcess,
  killAfterMs: number,
): Promise<void> {
  signalChild(child, "SIGTERM");
  const timer = setTimeout(() => signalChild(child, "SIGKILL"), killAfterMs);
  try {
    await child.status;
  } finally {
    clearTimeout(timer);
  }
}
