/**
 * How a live run reaches topics and producer leases: through the Gateway
 * (the client's topic calls) or, in one process, straight on a
 * `TopicStore` (embedded use and tests).
 *
 * @module
 */

import type { ProducerLease, TopicStore } from "../../lib/queue/types.ts";
import { TopicLeaseError } from "../../lib/queue/errors.ts";
import { type Bar, decodeBar, encodeBar } from "./records.ts";

/**
 * Bars of one topic.
 *
 * @example
 * ```ts
 * import type { TopicBatch } from "@qmtl/qmtl/sdk";
 * const n = (b: TopicBatch) => b.bars.length;
 * ```
 */
export interface TopicBatch {
  /** Topic name. */
  topic: string;
  /** Bars, oldest first. */
  bars: Bar[];
}

/**
 * The outcome of a lease request: the store's {@link ProducerLease}, its
 * topic and the topic's last bar time.
 *
 * @example
 * ```ts
 * import type { LeaseOutcome } from "@qmtl/qmtl/sdk";
 * const mine = (l: LeaseOutcome) => l.granted && l.token !== "";
 * ```
 */
export interface LeaseOutcome extends ProducerLease {
  /** Topic name. */
  topic: string;
  /** The topic's last bar time, or `null`. */
  lastBarTs: number | null;
}

/** A stored bar: the store's bar time (authoritative) and the record's value. */
function barOf(entry: { barTs: number; data: Uint8Array }): Bar {
  return { barTs: entry.barTs, value: decodeBar(entry.data).value };
}

/** A publish refused because the caller's lease is not current. */
export class LeaseLostError extends Error {
  /** The topic. */
  readonly topic: string;
  /** The current holder, or `""`. */
  readonly holder: string;

  /**
   * A lost lease.
   *
   * @param topic the topic
   * @param holder the current holder
   */
  constructor(topic: string, holder: string) {
    super(
      `producer lease of ${topic} lost${holder ? ` to ${holder}` : ""}`,
    );
    this.name = "LeaseLostError";
    this.topic = topic;
    this.holder = holder;
  }
}

/**
 * Topic and lease operations a live run needs.
 *
 * @example
 * ```ts
 * import { storeTopicIO, type TopicIO } from "@qmtl/qmtl/sdk";
 * import { MemoryTopicStore } from "@qmtl/qmtl/queue";
 * const io: TopicIO = storeTopicIO(new MemoryTopicStore());
 * ```
 */
export interface TopicIO {
  /**
   * Publish bars (increasing bar times) to a topic with a lease token (`""`
   * for stream inputs). Throws {@link LeaseLostError} when fenced.
   */
  publish(
    topic: string,
    bars: readonly Bar[],
    leaseToken: string,
  ): Promise<{ accepted: number; dropped: number; lastBarTs: number | null }>;
  /** New bars after each cursor; waits up to `waitMs` when there are none. */
  read(
    cursors: readonly { topic: string; afterBarTs?: number }[],
    options: { waitMs: number; limit?: number; signal?: AbortSignal },
  ): Promise<TopicBatch[]>;
  /** The newest `n` bars of each topic. */
  tail(topics: readonly string[], n: number): Promise<TopicBatch[]>;
  /** Acquire or renew leases (a request with a token renews). */
  acquire(
    holder: string,
    ttlMs: number,
    leases: readonly { topic: string; token?: string }[],
  ): Promise<LeaseOutcome[]>;
  /** Release leases; returns how many were released. */
  release(leases: readonly { topic: string; token: string }[]): Promise<number>;
}

/**
 * {@link TopicIO} straight on a `TopicStore` (no Gateway): for running
 * strategies inside the process that owns the store, and for tests.
 *
 * @param store the topic store
 * @returns the topic I/O
 * @example
 * ```ts
 * import { storeTopicIO } from "@qmtl/qmtl/sdk";
 * import { MemoryTopicStore } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 * const store = new MemoryTopicStore();
 * await store.create("t");
 * const io = storeTopicIO(store);
 * await io.publish("t", [{ barTs: 60, value: 1.5 }], "");
 * assert.deepEqual((await io.tail(["t"], 1))[0].bars, [{ barTs: 60, value: 1.5 }]);
 * ```
 */
export function storeTopicIO(store: TopicStore): TopicIO {
  return {
    async publish(topic, bars, leaseToken) {
      try {
        return await store.append(
          topic,
          bars.map((b) => ({ barTs: b.barTs, data: encodeBar(b) })),
          leaseToken ? { fence: { token: leaseToken } } : {},
        );
      } catch (e) {
        if (e instanceof TopicLeaseError) {
          throw new LeaseLostError(topic, e.holder);
        }
        throw e;
      }
    },
    async read(cursors, options) {
      const got = await store.readMany(cursors, {
        waitMs: options.waitMs,
        ...(options.limit ? { limit: options.limit } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return got.map((t) => ({ topic: t.topic, bars: t.bars.map(barOf) }));
    },
    async tail(topics, n) {
      return await Promise.all(topics.map(async (topic) => ({
        topic,
        bars: (await store.read(topic, { tail: n })).map(barOf),
      })));
    },
    async acquire(holder, ttlMs, leases) {
      return await Promise.all(leases.map(async ({ topic, token }) => {
        const g = await store.acquireLease(topic, holder, ttlMs, token);
        return {
          topic,
          ...g,
          lastBarTs: await store.lastBarTs(topic),
        };
      }));
    },
    async release(leases) {
      const r = await Promise.all(
        leases.map((l) => store.releaseLease(l.topic, l.token)),
      );
      return r.filter(Boolean).length;
    },
  };
}
