/**
 * One input of a node: its values at bar times aligned to the node's
 * interval (strictly increasing), and the window the compute function sees.
 *
 * Plain arrays with a moving start (compacted now and then) rather than a
 * ring: `values` is then one `slice`, and the common case — one new value
 * per bar — is a push and an index bump.
 *
 * @module
 */

import type { InputWindow } from "./view.ts";

/** Outcome of {@link InputBuffer.offer}. */
export type OfferResult = "accepted" | "replaced" | "late" | "duplicate";

const COMPACT_AT = 1024;

/**
 * Values of one input, oldest first, at strictly increasing bar times.
 *
 * @example
 * ```ts
 * import { InputBuffer } from "./input_buffer.ts";
 * import assert from "node:assert/strict";
 * const b = new InputBuffer();
 * assert.equal(b.offer(60, 1, -Infinity), "accepted");
 * assert.equal(b.offer(60, 2, -Infinity), "replaced"); // bar not emitted yet: newest wins
 * assert.equal(b.offer(60, 3, 60), "duplicate"); // bar 60 already emitted
 * assert.equal(b.offer(0, 4, 60), "late");
 * assert.equal(b.countUpTo(60), 1);
 * ```
 */
export class InputBuffer {
  /** Bar times (aligned to the consuming node's interval). */
  times: number[] = [];
  /** Values, parallel to `times`. */
  values: unknown[] = [];
  /** Index of the oldest live entry. */
  start = 0;

  /** Number of live entries. */
  get size(): number {
    return this.times.length - this.start;
  }

  /** Newest bar time, or `-Infinity` when empty. */
  get lastTime(): number {
    const n = this.times.length;
    return n > this.start ? this.times[n - 1] : -Infinity;
  }

  /**
   * Offer a value at bar time `t`. A bar older than the newest is late; a
   * value for the newest bar replaces it while the consumer has not emitted
   * that bar (`emitted` is the consumer's last emitted bar) and is a
   * duplicate afterwards. Dropped values change nothing.
   */
  offer(t: number, value: unknown, emitted: number): OfferResult {
    const last = this.lastTime;
    if (t > last) {
      this.times.push(t);
      this.values.push(value);
      return "accepted";
    }
    if (t < last) return "late";
    if (t <= emitted) return "duplicate";
    this.values[this.values.length - 1] = value;
    return "replaced";
  }

  /** Number of live entries at bar times ≤ `t`. */
  countUpTo(t: number): number {
    let end = this.times.length;
    while (end > this.start && this.times[end - 1] > t) end--;
    return end - this.start;
  }

  /**
   * Forget what no future window needs: of the entries at times ≤ `t`, keep
   * the newest `keep`.
   */
  trim(t: number, keep: number): void {
    const upTo = this.start + this.countUpTo(t);
    const drop = upTo - keep - this.start;
    if (drop > 0) this.start += drop;
    if (this.start >= COMPACT_AT && this.start * 2 >= this.times.length) {
      this.times = this.times.slice(this.start);
      this.values = this.values.slice(this.start);
      this.start = 0;
    }
  }

  /** Drop every entry. */
  clear(): void {
    this.times = [];
    this.values = [];
    this.start = 0;
  }
}

/**
 * The window of one input for one evaluation: `length` entries of a buffer
 * ending at index `end` (exclusive). Arrays are built on first access only.
 *
 * @example
 * ```ts
 * import { InputBuffer, Window } from "./input_buffer.ts";
 * import assert from "node:assert/strict";
 * const b = new InputBuffer();
 * for (const [t, v] of [[0, 1], [60, 2], [120, 3]]) b.offer(t, v, -Infinity);
 * const w = new Window(2);
 * w.point(b, 3);
 * assert.deepEqual(w.values, [2, 3]);
 * assert.equal(w.last, 3);
 * assert.equal(w.at(-2), 2);
 * ```
 */
export class Window implements InputWindow {
  readonly length: number;
  #buf: InputBuffer = new InputBuffer();
  #end = 0;
  #values: unknown[] | undefined;
  #times: number[] | undefined;

  /**
   * A window of `length` entries.
   *
   * @param length the consuming node's period
   */
  constructor(length: number) {
    this.length = length;
  }

  /** Point the window at `buf`, ending before index `end`. */
  point(buf: InputBuffer, end: number): void {
    this.#buf = buf;
    this.#end = end;
    this.#values = undefined;
    this.#times = undefined;
  }

  /** The values, oldest first. */
  get values(): unknown[] {
    return this.#values ??= this.#buf.values.slice(
      this.#end - this.length,
      this.#end,
    );
  }

  /** The bar times, oldest first. */
  get times(): number[] {
    return this.#times ??= this.#buf.times.slice(
      this.#end - this.length,
      this.#end,
    );
  }

  /** The newest value. */
  get last(): unknown {
    return this.#buf.values[this.#end - 1];
  }

  /** The value at `index` (negative: from the newest). */
  at(index: number): unknown {
    const i = index < 0 ? this.length + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined;
    return this.#buf.values[this.#end - this.length + i];
  }
}
