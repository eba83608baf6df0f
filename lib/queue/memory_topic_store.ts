/**
 * In-process {@link TopicStore} with the semantics of `RedisTopicStore`.
 *
 * @module
 */

import { QueueError, TopicNotFoundError } from "./errors.ts";
import { MemStream, Waiters } from "./memory_stream.ts";
import type {
  CreateTopicResult,
  ReadOptions,
  TopicInfo,
  TopicOptions,
  TopicRecord,
  TopicStore,
} from "./types.ts";
import { checkBytes, checkInt, checkName } from "./validate.ts";

/**
 * Defaults of a topic store, used when `create` gets no value.
 *
 * @example
 * ```ts
 * import type { TopicDefaults } from "./memory_topic_store.ts";
 * const d: TopicDefaults = { retentionMs: 86_400_000, maxLen: 10_000 };
 * ```
 */
export interface TopicDefaults {
  /** Default retention (7 days). */
  retentionMs?: number;
  /** Default maximum length (100000). */
  maxLen?: number;
}

/**
 * Options of {@link MemoryTopicStore}.
 *
 * @example
 * ```ts
 * import type { MemoryTopicStoreOptions } from "./memory_topic_store.ts";
 * const o: MemoryTopicStoreOptions = { defaults: { maxLen: 1_000 } };
 * ```
 */
export interface MemoryTopicStoreOptions {
  /** Defaults for `create`. */
  defaults?: TopicDefaults;
  /** Clock, ms since epoch (default `Date.now`). */
  now?: () => number;
}

/** Default retention of a topic: 7 days. */
export const DEFAULT_TOPIC_RETENTION_MS = 7 * 86_400_000;
/** Default maximum length of a topic: 100000 records. */
export const DEFAULT_TOPIC_MAX_LEN = 100_000;

interface Topic {
  info: TopicInfo;
  stream: MemStream<Uint8Array>;
}

/**
 * A {@link TopicStore} held in memory.
 *
 * @example
 * ```ts
 * import { MemoryTopicStore } from "./memory_topic_store.ts";
 * const s = new MemoryTopicStore();
 * const { created } = await s.create("btc_Processing_ab12cd34_v1");
 * const id = await s.publish("btc_Processing_ab12cd34_v1", new Uint8Array([1]));
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
    this.#retentionMs = checkInt(
      "retentionMs",
      opts.defaults?.retentionMs ?? DEFAULT_TOPIC_RETENTION_MS,
      1,
    );
    this.#maxLen = checkInt(
      "maxLen",
      opts.defaults?.maxLen ?? DEFAULT_TOPIC_MAX_LEN,
      1,
    );
    this.#now = opts.now ?? Date.now;
  }

  /** Creates the topic if missing. */
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
      this.#topics.set(name, { info, stream: new MemStream() });
      return { info: { ...info }, created: true };
    });
  }

  /** Appends a record. */
  publish(name: string, data: Uint8Array): Promise<string> {
    return settle(() => {
      this.#open();
      checkBytes("data", data);
      const t = this.#get(name);
      const now = this.#now();
      const id = t.stream.append(data.slice(), now);
      t.stream.trim(t.info.maxLen, now - t.info.retentionMs);
      this.#waiters.wake();
      return id;
    });
  }

  /** Reads records after `opts.after`, waiting up to `blockMs` for one. */
  async read(name: string, opts: ReadOptions = {}): Promise<TopicRecord[]> {
    this.#open();
    const count = checkInt("count", opts.count ?? 100, 1);
    const deadline = Date.now() + checkInt("blockMs", opts.blockMs ?? 0, 0);
    while (true) {
      const got = this.#get(name).stream.readAfter(opts.after, count);
      if (got.length > 0 || this.#closed || Date.now() >= deadline) {
        return got.map((e) => ({ id: e.id, data: e.value.slice() }));
      }
      await this.#waiters.wait(deadline - Date.now());
    }
  }

  /** Deletes the topic. */
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

function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}
