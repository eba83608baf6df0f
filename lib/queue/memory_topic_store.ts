/**
 * In-process {@link TopicStore} with the semantics of `RedisTopicStore`
 * (leases expire by this process's clock).
 *
 * @module
 */

import { QueueError, TopicLeaseError, TopicNotFoundError } from "./errors.ts";
import { Waiters } from "./memory_stream.ts";
import type {
  AppendOptions,
  AppendResult,
  BarBatch,
  BarCursor,
  BarEntry,
  BarReadOptions,
  CreateTopicResult,
  ProducerLease,
  ReadManyOptions,
  TopicInfo,
  TopicOptions,
  TopicStore,
} from "./types.ts";
import { resolveTopicDefaults, type TopicDefaults } from "./topic_defaults.ts";
import { checkBars, checkInt, checkLimit, checkName } from "./validate.ts";

export {
  DEFAULT_TOPIC_MAX_LEN,
  DEFAULT_TOPIC_RETENTION_MS,
  type TopicDefaults,
} from "./topic_defaults.ts";

/**
 * Options of {@link MemoryTopicStore}.
 *
 * @example
 * ```ts
 * import type { MemoryTopicStoreOptions } from "@qmtl/qmtl/queue";
 * const o: MemoryTopicStoreOptions = { defaults: { maxLen: 1_000 } };
 * ```
 */
export interface MemoryTopicStoreOptions {
  /** Defaults for `create`. */
  defaults?: TopicDefaults;
  /** Clock, ms since epoch (default `Date.now`). */
  now?: () => number;
}

interface Lease {
  holder: string;
  token: string;
  expiresAt: number;
}

interface Topic {
  info: TopicInfo;
  /** Bars, oldest first, strictly increasing bar times. */
  bars: BarEntry[];
  lease: Lease | null;
  /** Holder of the last grant not released (takeover detection). */
  lastHolder: string;
}

/**
 * A {@link TopicStore} held in memory.
 *
 * @example
 * ```ts
 * import { MemoryTopicStore } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 * const s = new MemoryTopicStore();
 * const { created } = await s.create("btc_Processing_ab12cd34_v1");
 * const r = await s.append("btc_Processing_ab12cd34_v1", [{ barTs: 60, data: new Uint8Array([1]) }]);
 * assert.ok(created);
 * assert.equal(r.lastBarTs, 60);
 * await s.close();
 * ```
 */
export class MemoryTopicStore implements TopicStore {
  #topics = new Map<string, Topic>();
  #waiters = new Waiters();
  #retentionMs: number;
  #maxLen: number;
  #now: () => number;
  #closed = false;

  /**
   * Creates an empty store.
   *
   * @param opts Defaults and clock.
   */
  constructor(opts: MemoryTopicStoreOptions = {}) {
    ({ retentionMs: this.#retentionMs, maxLen: this.#maxLen } =
      resolveTopicDefaults(opts.defaults));
    this.#now = opts.now ?? Date.now;
  }

  /** {@inheritDoc TopicStore.create} */
  create(name: string, opts: TopicOptions = {}): Promise<CreateTopicResult> {
    return settle(() => {
      this.#open();
      checkName("topic", name);
      const existing = this.#topics.get(name);
      if (existing) return { info: { ...existing.info }, created: false };
      const info: TopicInfo = {
        name,
        retentionMs: checkInt(
          "retentionMs",
          opts.retentionMs ?? this.#retentionMs,
          1,
        ),
        maxLen: checkInt("maxLen", opts.maxLen ?? this.#maxLen, 1),
        createdAtMs: this.#now(),
      };
      this.#topics.set(name, { info, bars: [], lease: null, lastHolder: "" });
      return { info: { ...info }, created: true };
    });
  }

  /** {@inheritDoc TopicStore.append} */
  append(
    name: string,
    bars: readonly BarEntry[],
    opts: AppendOptions = {},
  ): Promise<AppendResult> {
    return settle(() => {
      this.#open();
      checkBars(bars);
      const t = this.#get(name);
      if (opts.fence) {
        const l = this.#live(t);
        if (!l || l.token !== opts.fence.token) {
          throw new TopicLeaseError(name, l?.holder ?? "");
        }
      }
      let last = t.bars.length ? t.bars[t.bars.length - 1].barTs : -Infinity;
      let accepted = 0;
      for (const b of bars) {
        if (b.barTs <= last) continue;
        t.bars.push({ barTs: b.barTs, data: b.data.slice() });
        last = b.barTs;
        accepted++;
      }
      if (accepted > 0) {
        const minTs = last - t.info.retentionMs / 1000;
        let drop = Math.max(0, t.bars.length - t.info.maxLen);
        while (drop < t.bars.length - 1 && t.bars[drop].barTs < minTs) drop++;
        if (drop > 0) t.bars.splice(0, drop);
        this.#waiters.wake();
      }
      return {
        accepted,
        dropped: bars.length - accepted,
        lastBarTs: t.bars.length ? last : null,
      };
    });
  }

  /** {@inheritDoc TopicStore.read} */
  read(name: string, opts: BarReadOptions = {}): Promise<BarEntry[]> {
    return settle(() => {
      this.#open();
      const limit = checkLimit(opts.limit);
      return slice(this.#get(name).bars, opts.afterBarTs, limit, opts.tail);
    });
  }

  /** {@inheritDoc TopicStore.readMany} */
  async readMany(
    cursors: readonly BarCursor[],
    opts: ReadManyOptions = {},
  ): Promise<BarBatch[]> {
    this.#open();
    const limit = checkLimit(opts.limit);
    const deadline = Date.now() + checkInt("waitMs", opts.waitMs ?? 0, 0);
    while (true) {
      const out: BarBatch[] = [];
      for (const c of cursors) {
        const bars = slice(this.#get(c.topic).bars, c.afterBarTs, limit);
        if (bars.length > 0) out.push({ topic: c.topic, bars });
      }
      const left = deadline - Date.now();
      if (
        out.length > 0 || this.#closed || left <= 0 || opts.signal?.aborted
      ) {
        return out;
      }
      await this.#waiters.wait(left, opts.signal);
    }
  }

  /** {@inheritDoc TopicStore.lastBarTs} */
  lastBarTs(name: string): Promise<number | null> {
    return settle(() => {
      const bars = this.#get(name).bars;
      return bars.length ? bars[bars.length - 1].barTs : null;
    });
  }

  /** {@inheritDoc TopicStore.acquireLease} */
  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    token?: string,
  ): Promise<ProducerLease> {
    return settle(() => {
      this.#open();
      checkName("holder", holder);
      checkInt("ttlMs", ttlMs, 1);
      const t = this.#get(name);
      const now = this.#now();
      const l = this.#live(t);
      if (l) {
        if (token !== undefined && token !== "" && l.token === token) {
          l.expiresAt = now + ttlMs;
          return grant(true, l.holder, l.token, ttlMs, false, "");
        }
        return grant(false, l.holder, "", l.expiresAt - now, false, "");
      }
      const previous = t.lastHolder;
      const fresh = crypto.randomUUID();
      t.lease = { holder, token: fresh, expiresAt: now + ttlMs };
      t.lastHolder = holder;
      const takeover = previous !== "" && previous !== holder;
      return grant(
        true,
        holder,
        fresh,
        ttlMs,
        takeover,
        takeover ? previous : "",
      );
    });
  }

  /** {@inheritDoc TopicStore.releaseLease} */
  releaseLease(name: string, token: string): Promise<boolean> {
    return settle(() => {
      this.#open();
      const t = this.#topics.get(name);
      const l = t ? this.#live(t) : null;
      if (!t || !l || l.token !== token) return false;
      t.lease = null;
      t.lastHolder = "";
      return true;
    });
  }

  /** {@inheritDoc TopicStore.delete} */
  delete(name: string): Promise<boolean> {
    return settle(() => {
      this.#open();
      const had = this.#topics.delete(name);
      this.#waiters.wake();
      return had;
    });
  }

  /** True when the topic exists. */
  exists(name: string): Promise<boolean> {
    return settle(() => this.#topics.has(name));
  }

  /** The topic's metadata, or `null`. */
  info(name: string): Promise<TopicInfo | null> {
    return settle(() => {
      const t = this.#topics.get(name);
      return t ? { ...t.info } : null;
    });
  }

  /** All topic names, sorted. */
  list(): Promise<string[]> {
    return settle(() => [...this.#topics.keys()].sort());
  }

  /** Wakes blocked readers and refuses further calls. */
  close(): Promise<void> {
    this.#closed = true;
    this.#waiters.close();
    return Promise.resolve();
  }

  #live(t: Topic): Lease | null {
    if (t.lease && t.lease.expiresAt <= this.#now()) t.lease = null;
    return t.lease;
  }

  #open(): void {
    if (this.#closed) {
      throw new QueueError("E_UNAVAILABLE", "topic store is closed");
    }
  }

  #get(name: string): Topic {
    const t = this.#topics.get(name);
    if (!t) throw new TopicNotFoundError(name);
    return t;
  }
}

function grant(
  granted: boolean,
  holder: string,
  token: string,
  ttlMs: number,
  takeover: boolean,
  previousHolder: string,
): ProducerLease {
  return {
    granted,
    holder,
    token,
    ttlMs: Math.max(0, ttlMs),
    takeover,
    previousHolder,
  };
}

/** Newest-first aware slice of a bar list (copies the data). */
function slice(
  bars: readonly BarEntry[],
  after: number | undefined,
  limit: number,
  tail?: number,
): BarEntry[] {
  let lo = 0;
  if (after !== undefined) {
    let hi = bars.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bars[mid].barTs <= after) lo = mid + 1;
      else hi = mid;
    }
  }
  const end = tail !== undefined
    ? bars.length
    : Math.min(bars.length, lo + limit);
  const start = tail !== undefined
    ? Math.max(lo, bars.length - Math.min(checkLimit(tail), limit))
    : lo;
  return bars.slice(start, end).map((b) => ({
    barTs: b.barTs,
    data: b.data.slice(),
  }));
}

function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}
