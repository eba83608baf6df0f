/**
 * Polling for the tests that wait on a server, a Redis group or a metric.
 *
 * @module
 */

/**
 * Calls `probe` every `everyMs` until it returns something other than
 * `undefined`, and returns that. A probe that throws counts as "not yet";
 * after `ms` the wait fails, naming `what` and the probe's last error.
 */
export async function pollUntil<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined> | T | undefined,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/**
 * `reader.read()`, or `{ done: true }` if `deadline` (a `Date.now()` time)
 * comes first: one bounded read of a stream that may stay silent.
 */
export async function readBefore<T>(
  reader: ReadableStreamDefaultReader<T>,
  deadline: number,
): Promise<ReadableStreamReadResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((res) =>
        timer = setTimeout(
          () => res({ done: true, value: undefined }),
          Math.max(1, deadline - Date.now()),
        )
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
