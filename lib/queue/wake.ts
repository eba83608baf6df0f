/**
 * Low-latency wake-ups for polling readers: writers `PUBLISH` on a channel,
 * readers wait for a message or a bounded timeout, whichever comes first
 * (internal). Pub/sub is best effort (lost during a failover), so readers
 * always poll too; the bounded timeout keeps them live.
 *
 * @module
 */

import type { Redis } from "ioredis";

/** Waits on Redis channels through one lazily created subscriber connection. */
export class WakeSubscriber {
  #base: Redis;
  #sub: Redis | null = null;
  #subscribed = new Set<string>();
  #waiters = new Map<string, Set<(msg: string) => void>>();
  #closed = false;

  /** @param base The client to `duplicate()` for the subscriber. */
  constructor(base: Redis) {
    this.#base = base;
  }

  /**
   * Resolves on a message on `channel` accepted by `filter`, after `ms`, on
   * abort, or on close.
   */
  wait(
    channel: string,
    ms: number,
    filter?: (msg: string) => boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.#closed || ms <= 0 || signal?.aborted) return Promise.resolve();
    this.#ensure(channel);
    return new Promise((resolve) => {
      const set = this.#waiters.get(channel) ?? new Set();
      this.#waiters.set(channel, set);
      const abort = () => done("");
      const done = (msg: string) => {
        if (msg !== "" && filter && !filter(msg)) return;
        clearTimeout(timer);
        set.delete(done);
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const timer = setTimeout(() => done(""), ms);
      set.add(done);
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  /** Wakes every waiter and closes the subscriber connection. */
  close(): void {
    this.#closed = true;
    for (const set of this.#waiters.values()) for (const w of [...set]) w("");
    this.#waiters.clear();
    this.#sub?.disconnect();
    this.#sub = null;
  }

  #ensure(channel: string): void {
    if (this.#subscribed.has(channel)) return;
    this.#subscribed.add(channel);
    if (this.#sub === null) {
      this.#sub = this.#base.duplicate({
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        commandTimeout: undefined,
        lazyConnect: false,
      });
      this.#sub.on("error", () => {}); // reconnects on its own
      this.#sub.on("message", (ch: string, msg: string) => {
        const set = this.#waiters.get(ch);
        if (set) { for (const w of [...set]) w(msg === "" ? "*" : msg); }
      });
    }
    this.#sub.subscribe(channel).catch(() => this.#subscribed.delete(channel));
  }
}
