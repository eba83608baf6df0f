/**
 * Node topics behind the Gateway: created when a diff creates (or reuses)
 * their nodes, deleted by GC, and the topic calls of the runner — publish
 * bars, read bars (long poll), acquire / renew / release producer leases.
 *
 * A topic the registry knows but the store lacks (a GC racing a diff that
 * recreated the node, a lost Redis write) is recreated on first use.
 *
 * @module
 */

import type { NodeRegistry } from "../../dag/registry.ts";
import { TopicLeaseError, TopicNotFoundError } from "../../queue/errors.ts";
import type {
  AppendResult,
  BarBatch,
  BarCursor,
  BarEntry,
  ProducerLease,
  TopicStore,
} from "../../queue/types.ts";
import { QmtlError } from "../../contracts/errors.ts";

/** Longest long-poll wait of a read, ms. */
export const MAX_READ_WAIT_MS = 30_000;
/** Most topics (cursors or leases) in one call. */
export const MAX_TOPICS_PER_CALL = 1_000;
/** Most bars in one publish. */
export const MAX_BARS_PER_PUBLISH = 10_000;
/** Lease length bounds, ms. */
export const LEASE_TTL_MS: { min: number; max: number } = {
  min: 1_000,
  max: 600_000,
};

/**
 * Options of {@link TopicService}.
 *
 * @example
 * ```ts
 * import type { TopicServiceOptions } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryTopicStore } from "@qmtl/qmtl/queue";
 * const o: TopicServiceOptions = { store: new MemoryTopicStore(), registry: new MemoryRegistry() };
 * ```
 */
export interface TopicServiceOptions {
  /** Where topics live. */
  store: TopicStore;
  /** The global DAG (to heal topics it knows and the store lacks). */
  registry: NodeRegistry;
  /** Called when a lease grant takes over a dead producer's lease. */
  onTakeover?: (topic: string, grant: ProducerLease) => void;
}

/**
 * A lease outcome with the topic's last bar.
 *
 * @example
 * ```ts
 * import type { TopicLeaseGrant } from "@qmtl/qmtl/gateway";
 * const resumeAfter = (g: TopicLeaseGrant) => g.lastBarTs ?? -Infinity;
 * ```
 */
export interface TopicLeaseGrant extends ProducerLease {
  /** Topic name. */
  topic: string;
  /** The topic's last bar time, or `null`. */
  lastBarTs: number | null;
}

function invalid(message: string, field: string): QmtlError {
  return new QmtlError("E_INVALID", message, { field });
}

function checkCount(n: number, max: number, field: string): void {
  if (n > max) {
    throw invalid(`${field}: at most ${max} per call, got ${n}`, field);
  }
}

/**
 * Topic operations of the Gateway.
 *
 * @example
 * ```ts
 * import { TopicService } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryTopicStore } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 * const topics = new TopicService({ store: new MemoryTopicStore(), registry: new MemoryRegistry() });
 * await topics.ensure(["btc_StreamInput_ab12cd34_v1"]);
 * const r = await topics.publish("btc_StreamInput_ab12cd34_v1", [{ barTs: 60, data: new Uint8Array([1]) }], "");
 * assert.equal(r.accepted, 1);
 * ```
 */
export class TopicService {
  readonly #store: TopicStore;
  readonly #registry: NodeRegistry;
  readonly #onTakeover?: TopicServiceOptions["onTakeover"];

  /**
   * Build the service.
   *
   * @param options store, registry, takeover hook
   */
  constructor(options: TopicServiceOptions) {
    this.#store = options.store;
    this.#registry = options.registry;
    this.#onTakeover = options.onTakeover;
  }

  /** The store. */
  get store(): TopicStore {
    return this.#store;
  }

  /**
   * Create the topics that do not exist yet (idempotent; concurrent
   * creates are pipelined by the store's connection).
   */
  async ensure(names: Iterable<string>): Promise<number> {
    const unique = [...new Set(names)];
    const made = await Promise.all(unique.map((n) => this.#store.create(n)));
    return made.filter((m) => m.created).length;
  }

  /** Delete topics (GC); returns how many existed. */
  async remove(names: Iterable<string>): Promise<number> {
    const gone = await Promise.all(
      [...new Set(names)].map((n) => this.#store.delete(n)),
    );
    return gone.filter(Boolean).length;
  }

  /** Run `fn`; on a topic the store lacks but the registry knows, recreate it once. */
  async #healing<T>(
    names: readonly string[],
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof TopicNotFoundError)) throw e;
      const known = await this.#registry.getTopic(e.topic);
      if (!known || !names.includes(e.topic)) {
        throw new QmtlError("E_NOT_FOUND", `no topic ${e.topic}`, {
          field: "topic",
          details: { topic: e.topic },
        });
      }
      await this.#store.create(e.topic, { retentionMs: known.retentionMs });
      return await fn();
    }
  }

  /** Publish bars (a lease token fences the append; `""` for stream inputs). */
  publish(
    topic: string,
    bars: readonly BarEntry[],
    leaseToken: string,
  ): Promise<AppendResult> {
    if (!topic) throw invalid("topic is required", "topic");
    checkCount(bars.length, MAX_BARS_PER_PUBLISH, "bars");
    return this.#healing([topic], async () => {
      try {
        return await this.#store.append(
          topic,
          bars,
          leaseToken ? { fence: { token: leaseToken } } : {},
        );
      } catch (e) {
        if (!(e instanceof TopicLeaseError)) throw e;
        throw new QmtlError(
          "E_LEASE_LOST",
          `the producer lease of ${topic} is ${
            e.holder ? `held by ${e.holder}` : "not held"
          }: publish refused`,
          { field: "lease_token", details: { topic, holder: e.holder } },
        );
      }
    });
  }

  /** New bars after each cursor (or the newest `tail`), waiting up to `waitMs`. */
  async read(
    cursors: readonly BarCursor[],
    options: {
      limit?: number;
      waitMs?: number;
      tail?: number;
      signal?: AbortSignal;
    },
  ): Promise<BarBatch[]> {
    if (cursors.length === 0) {
      throw invalid("cursors must not be empty", "cursors");
    }
    checkCount(cursors.length, MAX_TOPICS_PER_CALL, "cursors");
    const names = cursors.map((c) => c.topic);
    if (names.some((n) => !n)) {
      throw invalid("every cursor needs a topic", "cursors.topic");
    }
    const waitMs = Math.min(options.waitMs ?? 0, MAX_READ_WAIT_MS);
    if (options.tail) {
      return await this.#healing(names, async () => {
        const out: BarBatch[] = [];
        for (const c of cursors) {
          const bars = await this.#store.read(c.topic, {
            tail: options.tail,
            ...(c.afterBarTs !== undefined ? { afterBarTs: c.afterBarTs } : {}),
          });
          if (bars.length) out.push({ topic: c.topic, bars });
        }
        return out;
      });
    }
    return await this.#healing(names, () =>
      this.#store.readMany(cursors, {
        waitMs,
        ...(options.limit ? { limit: options.limit } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }));
  }

  /** Acquire or renew producer leases, with each topic's last bar. */
  async acquire(
    holder: string,
    ttlMs: number,
    leases: readonly { topic: string; token?: string }[],
  ): Promise<TopicLeaseGrant[]> {
    if (!holder || holder.length > 200) {
      throw invalid("holder must be 1-200 characters", "holder");
    }
    if (
      !Number.isInteger(ttlMs) || ttlMs < LEASE_TTL_MS.min ||
      ttlMs > LEASE_TTL_MS.max
    ) {
      throw invalid(
        `ttl_ms must be ${LEASE_TTL_MS.min} to ${LEASE_TTL_MS.max}`,
        "ttl_ms",
      );
    }
    checkCount(leases.length, MAX_TOPICS_PER_CALL, "leases");
    const names = leases.map((l) => l.topic);
    return await Promise.all(
      leases.map((l) =>
        this.#healing(names, async () => {
          const g = await this.#store.acquireLease(
            l.topic,
            holder,
            ttlMs,
            l.token || undefined,
          );
          if (g.takeover) this.#onTakeover?.(l.topic, g);
          return {
            ...g,
            topic: l.topic,
            lastBarTs: await this.#store.lastBarTs(l.topic),
          };
        })
      ),
    );
  }

  /** Release leases held with their tokens; returns how many were released. */
  async release(
    leases: readonly { topic: string; token: string }[],
  ): Promise<number> {
    checkCount(leases.length, MAX_TOPICS_PER_CALL, "leases");
    const r = await Promise.all(
      leases.map((l) => this.#store.releaseLease(l.topic, l.token)),
    );
    return r.filter(Boolean).length;
  }
}
