/**
 * Polls the server's `/readyz` and records every change of its answer
 * (status code and reasons), so a drill can say when readiness failed, why,
 * and when it came back.
 *
 * @module
 */

import type { Timeline } from "./timeline.ts";
import { sleep } from "./wait.ts";

/** One answer of `/readyz` whose status or failing checks differ from the previous one. */
export interface ReadyChange {
  /** When, ms since the drill started. */
  atMs: number;
  /** HTTP status (200 ready, 503 not ready, 0 no answer). */
  status: number;
  /** `reasons` of the answer. */
  reasons: string[];
}

/** A running poller. */
export interface ReadinessWatch {
  /** Changes so far (the first answer included). */
  readonly changes: ReadyChange[];
  /** The first change after `atMs` whose status is `status`. */
  firstAfter(atMs: number, status: number): ReadyChange | undefined;
  /** Stop polling. */
  close(): Promise<void>;
}

/**
 * Poll `<url>/readyz` every `intervalMs` (default 250).
 *
 * @example
 * ```ts ignore
 * const ready = watchReadiness(server.url, clock);
 * // … later
 * console.log(ready.firstAfter(killAt, 503)?.reasons);
 * await ready.close();
 * ```
 */
export function watchReadiness(
  url: string,
  clock: Timeline,
  intervalMs = 250,
): ReadinessWatch {
  const changes: ReadyChange[] = [];
  const stop = new AbortController();
  // A change is a new status or a new set of failing checks (the reasons'
  // wording, e.g. an error's detail, may vary from one poll to the next).
  const key = (c: { status: number; reasons: string[] }) =>
    `${c.status} ${c.reasons.map((r) => r.split(":")[0]).join("|")}`;
  const loop = (async () => {
    while (!stop.signal.aborted) {
      const t = clock.at();
      let status = 0, reasons: string[] = ["no answer"];
      try {
        const res = await fetch(`${url}/readyz`, {
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(10_000)]),
        });
        status = res.status;
        const body = await res.json().catch(() => ({}));
        reasons = Array.isArray(body?.reasons) ? body.reasons.map(String) : [];
      } catch {
        if (stop.signal.aborted) break;
      }
      const c = { atMs: t, status, reasons };
      const last = changes.at(-1);
      if (!last || key(last) !== key(c)) changes.push(c);
      await sleep(intervalMs, stop.signal);
    }
  })();
  return {
    changes,
    firstAfter: (atMs, status) =>
      changes.find((c) => c.atMs >= atMs && c.status === status),
    async close() {
      stop.abort();
      await loop;
    },
  };
}
