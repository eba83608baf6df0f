/**
 * An in-memory append-only stream with Redis Stream semantics, shared by
 * the in-memory event log and topic store (internal).
 *
 * @module
 */

import { QueueError } from "./errors.ts";
import {
  compareStreamId,
  formatStreamId,
  nextStreamId,
  parseStreamId,
  type StreamId,
} from "./stream_id.ts";

/** One stored entry. */
export interface MemEntry<T> {
  /** Parsed id. */
  sid: StreamId;
  /** Formatted id. */
  id: string;
  /** The value. */
  value: T;
}

interface Pending {
  consumer: string;
  deliveredAtMs: number;
}

interface Group {
  lastDelivered: StreamId;
  pending: Map<string, Pending>;
}

/** A stream of values with ids, trimming and consumer groups. */
export class MemStream<T> {
  /** Entries, oldest first. */
  entries: MemEntry<T>[] = [];
  #last: StreamId = { ms: 0, seq: 0 };
  #groups = new Map<string, Group>();

  /** Appends a value; returns its id. */
  append(value: T, now: number): string {
    this.#last = nextStreamId(this.#last, now);
    const id = formatStreamId(this.#last);
    this.entries.push({ sid: this.#last, id, value });
    return id;
  }

  /** Keeps at most `maxLen` entries and none older than `minMs` (if > 0). */
  trim(maxLen: number, minMs = 0): void {
    let drop = Math.max(0, this.entries.length - maxLen);
    while (drop < this.entries.length && this.entries[drop].sid.ms < minMs) {
      drop++;
    }
    if (drop > 0) this.entries.splice(0, drop);
  }

  /** Entries strictly after `after`, at most `count`. */
  readAfter(after: string | undefined, count: number): MemEntry<T>[] {
    const from = parseStreamId(after ?? "0-0");
    const out: MemEntry<T>[] = [];
    for (const e of this.entries) {
      if (compareStreamId(e.sid, from) <= 0) continue;
      out.push(e);
      if (out.length >= count) break;
    }
    return out;
  }

  /** Creates a group if missing. */
  ensureGroup(name: string, startId: string): void {
    if (this.#groups.has(name)) return;
    const lastDelivered = startId === "$" ? this.#last : parseStreamId(startId);
    this.#groups.set(name, { lastDelivered, pending: new Map() });
  }

  /** Claims idle pending entries for `consumer`, then reads new ones. */
  readGroup(
    name: string,
    consumer: string,
    count: number,
    claimIdleMs: number | undefined,
    now: number,
  ): MemEntry<T>[] {
    const g = this.#groups.get(name);
    if (!g) {
      throw new QueueError(
        "E_NOT_FOUND",
        `consumer group ${name} does not exist`,
      );
    }
    const out: MemEntry<T>[] = [];
    if (claimIdleMs !== undefined) {
      for (const [id, p] of g.pending) {
        if (out.length >= count) break;
        if (now - p.deliveredAtMs < claimIdleMs) continue;
        const e = this.entries.find((x) => x.id === id);
        if (!e) {
          g.pending.delete(id); // trimmed away, as XAUTOCLAIM does
          continue;
        }
        p.consumer = consumer;
        p.deliveredAtMs = now;
        out.push(e);
      }
    }
    for (const e of this.entries) {
      if (out.length >= count) break;
      if (compareStreamId(e.sid, g.lastDelivered) <= 0) continue;
      g.lastDelivered = e.sid;
      g.pending.set(e.id, { consumer, deliveredAtMs: now });
      out.push(e);
    }
    return out;
  }

  /** Acknowledges ids; returns how many were pending. */
  ack(name: string, ids: string[]): number {
    const g = this.#groups.get(name);
    if (!g) return 0;
    let n = 0;
    for (const id of ids) if (g.pending.delete(id)) n++;
    return n;
  }
}

/** Wakes blocked readers; timers are cleared on wake and on close. */
export class Waiters {
  #set = new Set<() => void>();
  #closed = false;

  /** Resolves after `ms`, at the next `wake()`/`close()`, or on abort. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#set.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#set.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Wakes every waiter. */
  wake(): void {
    for (const w of [...this.#set]) w();
  }

  /** Wakes every waiter; later waits resolve at once. */
  close(): void {
    this.#closed = true;
    this.wake();
  }
}
