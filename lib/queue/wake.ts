/**
 * Low-latency wake-ups for polling readers: writers `PUBLISH` on a channel,
 * readers wait for a message or a bounded timeout, whichever comes first
 * (internal). Pub/sub is best effort (lost during a failover), so readers
 * always poll too; the bounded timeout keeps them live.
 *
 * @module
 */

import type { Redis } from "ioredis";

/** Options of {@link WakeSubscriber.poll}. */
export interface PollOptions {
  /** The channel writers publish on. */
  channel: string;
  /** Longest time to poll, ms (0: one read). */
  blockMs: number;
  /** Longest pause between reads, ms. */
  maxPollMs: number;
  /** Which messages wake this poll (default: every one). */
  filter?: (msg: string) => boolean;
  /** Ends the poll (after the read in progress). */
  signal?: AbortSignal;
  /** Checked after each empty read: true ends the poll (a closed store). */
  stop?: () => boolean;
}

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
   * Polls `read` until it returns something, `blockMs` has passed, `stop()`
   * says so or `signal` aborts; between reads it waits for a message on
   * `channel` accepted by `filter`, or a pause that doubles from 5 ms up to
   * `maxPollMs`. It listens from before each read, so a message published
   * while the read is under way (a write that read just missed) ends the
   * next wait at once instead of being lost.
   */
  async poll<T>(read: () => Promise<T[]>, o: PollOptions): Promise<T[]> {
    if (o.blockMs <= 0) return await read();
    const deadline = Date.now() + o.blockMs;
    let pause = 5;
    while (true) {
      const woken = this.#listen(o.channel, o.filter, o.signal);
      let got: T[];
      try {
        got = await read();
      } catch (e) {
        woken.cancel();
        throw e;
      }
      const left = deadline - Date.now();
      if (
        got.length > 0 || left <= 0 || o.stop?.() || o.signal?.aborted
      ) {
        woken.cancel();
        return got;
      }
      await woken.wait(Math.min(left, pause));
      pause = Math.min(pause * 2, o.maxPollMs);
    }
  }

  /**
   * Starts listening on `channel` now; `wait(ms)` resolves at once when an
   * accepted message came in since, else on the next one, after `ms`, on
   * abort or on close.
   */
  #listen(
    channel: string,
    filter?: (msg: string) => boolean,
    signal?: AbortSignal,
  ): { wait(ms: number): Promise<void>; cancel(): void } {
    if (this.#closed) {
      return { wait: () => Promise.resolve(), cancel: () => {} };
    }
    this.#ensure(channel);
    const set = this.#waiters.get(channel) ?? new Set();
    this.#waiters.set(channel, set);
    let fired = false;
    let wake: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = () => {
      clearTimeout(timer);
      set.delete(hit);
      signal?.removeEventListener("abort", abort);
    };
    const hit = (msg: string) => {
      if (msg !== "" && filter && !filter(msg)) return;
      fired = true;
      cleanup();
      wake?.();
    };
    const abort = () => hit("");
    set.add(hit);
    signal?.addEventListener("abort", abort, { once: true });
    return {
      wait: (ms) => {
        if (fired || ms <= 0 || signal?.aborted) {
          cleanup();
          return Promise.resolve();
        }
        return new Promise((resolve) => {
          wake = resolve;
          timer = setTimeout(hit, ms, "");
        });
      },
      cancel: cleanup,
    };
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
