/**
 * Coalescing of concurrent calls into batches (internal): requests made
 * while a batch is on its way are sent together as the next batch, so a busy
 * client sends one script call (and one `WAIT`) per round trip instead of one
 * per request, while a lone request still goes out at once.
 *
 * @module
 */

/** Limits of a {@link Coalescer}. */
export interface CoalescerOptions<T> {
  /** Most requests in one batch. */
  maxBatch: number;
  /** Most batches on their way at once (default 1). */
  maxInflight?: number;
  /** Size of a request, for `maxWeight` (default 1). */
  weight?: (item: T) => number;
  /** Most total weight in one batch (a batch always takes one request). */
  maxWeight?: number;
}

/**
 * Collects requests and runs them in batches: with nothing on its way, a
 * request leaves at once; requests made while batches are on their way wait
 * for one to complete and then leave together (group commit: no added
 * latency for a lone caller, one call per round trip for many).
 */
export class Coalescer<T extends { reject: (e: unknown) => void }> {
  #run: (batch: T[]) => Promise<void>;
  #o: Required<CoalescerOptions<T>>;
  #pending: T[] = [];
  #inflight = 0;

  /**
   * @param run Sends one batch and settles its requests; if it throws,
   *   every request of the batch not yet settled is rejected with the error.
   * @param opts Limits.
   */
  constructor(
    run: (batch: T[]) => Promise<void>,
    opts: CoalescerOptions<T>,
  ) {
    this.#run = run;
    this.#o = {
      maxInflight: 1,
      weight: () => 1,
      maxWeight: Infinity,
      ...opts,
    };
  }

  /** Requests waiting for a batch. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Adds a request. */
  push(item: T): void {
    this.#pending.push(item);
    this.#drain();
  }

  /** Adds requests that should leave together (as far as limits allow). */
  pushAll(items: readonly T[]): void {
    for (const item of items) this.#pending.push(item);
    this.#drain();
  }

  #drain(): void {
    while (this.#inflight < this.#o.maxInflight && this.#pending.length > 0) {
      let n = 0;
      let w = 0;
      while (n < this.#pending.length && n < this.#o.maxBatch) {
        const wi = this.#o.weight(this.#pending[n]);
        if (n > 0 && w + wi > this.#o.maxWeight) break;
        w += wi;
        n++;
      }
      const batch = this.#pending.splice(0, n);
      this.#inflight++;
      this.#run(batch).catch((e) => {
        for (const item of batch) item.reject(e);
      }).finally(() => {
        this.#inflight--;
        this.#drain();
      });
    }
  }
}
