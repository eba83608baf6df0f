/**
 * The drill's clock: every time in a report is milliseconds since the drill
 * started (wall clock, so that the server's event times compare), and
 * progress lines go to stderr with that offset.
 *
 * @module
 */

/**
 * Milliseconds since a start time, plus named marks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Timeline } from "./timeline.ts";
 * const t = new Timeline(1_000);
 * assert.equal(t.at(1_250), 250);
 * t.mark("kill", 1_500);
 * assert.equal(t.since("kill", 1_700), 200);
 * assert.equal(t.since("heal"), undefined);
 * ```
 */
export class Timeline {
  /** Wall-clock start (ms since the epoch). */
  readonly start: number;
  readonly #marks = new Map<string, number>();
  #quiet = false;

  /**
   * Start the clock.
   *
   * @param start wall-clock start, ms since the epoch; default now
   */
  constructor(start: number = Date.now()) {
    this.start = start;
  }

  /**
   * Offset of a wall-clock time (default now) from the start, ms.
   *
   * @param wall ms since the epoch
   */
  at(wall: number = Date.now()): number {
    return wall - this.start;
  }

  /**
   * Remember a named moment (default now) and return its offset.
   *
   * @param name e.g. `"kill"`
   * @param wall ms since the epoch
   */
  mark(name: string, wall: number = Date.now()): number {
    const t = this.at(wall);
    this.#marks.set(name, t);
    return t;
  }

  /** Offset of a mark, or undefined. */
  get(name: string): number | undefined {
    return this.#marks.get(name);
  }

  /**
   * Milliseconds from a mark to a wall-clock time (default now); undefined
   * when the mark was never set.
   */
  since(name: string, wall: number = Date.now()): number | undefined {
    const m = this.#marks.get(name);
    return m === undefined ? undefined : this.at(wall) - m;
  }

  /** Every mark, in the order they were set. */
  marks(): Record<string, number> {
    return Object.fromEntries(this.#marks);
  }

  /** Silence {@linkcode Timeline.log} (tests). */
  set quiet(q: boolean) {
    this.#quiet = q;
  }

  /**
   * One progress line on stderr: `[drill +12.3s] what`.
   *
   * @param what the line
   */
  log(what: string): void {
    if (this.#quiet) return;
    const s = (this.at() / 1000).toFixed(1);
    console.error(`[drill +${s}s] ${what}`);
  }
}
