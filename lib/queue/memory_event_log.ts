/**
 * In-process {@link EventLog} with the Redis Stream semantics of
 * `RedisEventLog` (ids, exclusive `after`, consumer groups, MAXLEN).
 *
 * @module
 */

import type { Event } from "../contracts/messages.ts";
import { QueueError } from "./errors.ts";
import { MemStream, Waiters } from "./memory_stream.ts";
import type {
  EventLog,
  EventLogEntry,
  GroupReadOptions,
  LinkedAppend,
  ReadOptions,
} from "./types.ts";
import { APPEND_DEDUP_WINDOW, LINKED_DEDUP_WINDOW } from "./types.ts";
import {
  checkInt,
  checkName,
  checkOptionalInt,
  checkReadCount,
} from "./validate.ts";

/**
 * Options of {@link MemoryEventLog}.
 *
 * @example
 * ```ts
 * import type { MemoryEventLogOptions } from "@qmtl/qmtl/queue";
 * const o: MemoryEventLogOptions = { maxLen: 10_000 };
 * ```
 */
export interface MemoryEventLogOptions {
  /** Entries kept per stream (default 10000); older ones are dropped. */
  maxLen?: number;
  /** Clock, ms since epoch (default `Date.now`). */
  now?: () => number;
}

/**
 * An {@link EventLog} held in memory.
 *
 * @example
 * ```ts
 * import { MemoryEventLog } from "@qmtl/qmtl/queue";
 * const log = new MemoryEventLog({ maxLen: 100 });
 * await log.ensureGroup("st_1", "webhooks");
 * const got = await log.readGroup("st_1", "webhooks", "worker-1", { blockMs: 10 });
 * await log.close();
 * ```
 */
export class MemoryEventLog implements EventLog {
  #streams = new Map<string, MemStream<Event>>();
  #waiters = new Waiters();
  #maxLen: number;
  #now: () => number;
  #closed = false;

  /**
   * Creates an empty log.
   *
   * @param opts Retention and clock.
   */
  constructor(opts: MemoryEventLogOptions = {}) {
    this.#maxLen = checkInt("maxLen", opts.maxLen ?? 10_000, 1);
    this.#now = opts.now ?? Date.now;
  }

  /** {@inheritDoc EventLog.append} */
  append(stream: string, event: Event): Promise<string> {
    return settle(() => {
      this.#open();
      const s = this.#stream(stream, true)!;
      const found = recentEntry(s, event.id, APPEND_DEDUP_WINDOW);
      if (found !== undefined) return found;
      const id = this.#add(s, event);
      this.#waiters.wake();
      return id;
    });
  }

  /** {@inheritDoc EventLog.appendLinked} */
  appendLinked(
    stream: string,
    also: string,
    event: Event,
  ): Promise<LinkedAppend> {
    return settle(() => {
      this.#open();
      checkName("stream", stream);
      checkName("also", also);
      if (also === stream) {
        throw new QueueError("E_INVALID", "also must name another stream");
      }
      const s = this.#stream(stream, true)!;
      const found = recentEntry(s, event.id, LINKED_DEDUP_WINDOW);
      if (found !== undefined) {
        return { appended: false, id: found, alsoId: "" };
      }
      const id = this.#add(s, event);
      const alsoId = this.#add(this.#stream(also, true)!, event);
      this.#waiters.wake();
      return { appended: true, id, alsoId };
    });
  }

  #add(s: MemStream<Event>, event: Event): string {
    const id = s.append(copyEvent(event), this.#now());
    s.trim(this.#maxLen);
    return id;
  }

  /** Reads entries after `opts.after`, waiting up to `blockMs` for one. */
  async read(stream: string, opts: ReadOptions = {}): Promise<EventLogEntry[]> {
    this.#open();
    const count = checkReadCount(opts.count);
    const deadline = Date.now() + checkInt("blockMs", opts.blockMs ?? 0, 0);
    while (true) {
      const s = this.#stream(stream, false);
      const got = s ? s.readAfter(opts.after, count) : [];
      if (got.length > 0 || this.#closed || Date.now() >= deadline) {
        return got.map((e) => ({ id: e.id, event: copyEvent(e.value) }));
      }
      await this.#waiters.wait(deadline - Date.now());
    }
  }

  /** Number of retained entries. */
  length(stream: string): Promise<number> {
    return settle(() => this.#stream(stream, false)?.entries.length ?? 0);
  }

  /** Creates a consumer group if missing. */
  ensureGroup(
    stream: string,
    group: string,
    opts: { startId?: string } = {},
  ): Promise<void> {
    return settle(() => {
      this.#open();
      checkName("group", group);
      this.#stream(stream, true)!.ensureGroup(group, opts.startId ?? "0");
    });
  }

  /** Reads undelivered entries (and idle pending ones with `claimIdleMs`). */
  async readGroup(
    stream: string,
    group: string,
    consumer: string,
    opts: GroupReadOptions = {},
  ): Promise<EventLogEntry[]> {
    this.#open();
    checkName("consumer", consumer);
    const count = checkReadCount(opts.count);
    const claimIdle = checkOptionalInt("claimIdleMs", opts.claimIdleMs, 0);
    const deadline = Date.now() + checkInt("blockMs", opts.blockMs ?? 0, 0);
    while (true) {
      const s = this.#stream(stream, false);
      if (!s) {
        throw new QueueError(
          "E_NOT_FOUND",
          `consumer group ${group} does not exist`,
        );
      }
      const got = s.readGroup(
        group,
        consumer,
        count,
        claimIdle,
        this.#now(),
      );
      if (got.length > 0 || this.#closed || Date.now() >= deadline) {
        return got.map((e) => ({ id: e.id, event: copyEvent(e.value) }));
      }
      await this.#waiters.wait(deadline - Date.now());
    }
  }

  /** Acknowledges delivered entries. */
  ackGroup(stream: string, group: string, ids: string[]): Promise<number> {
    return settle(() => this.#stream(stream, false)?.ack(group, ids) ?? 0);
  }

  /** Wakes blocked readers and refuses further calls. */
  close(): Promise<void> {
    this.#closed = true;
    this.#waiters.close();
    return Promise.resolve();
  }

  #open(): void {
    if (this.#closed) {
      throw new QueueError("E_UNAVAILABLE", "event log is closed");
    }
  }

  #stream(name: string, create: boolean): MemStream<Event> | undefined {
    checkName("stream", name);
    let s = this.#streams.get(name);
    if (!s && create) this.#streams.set(name, s = new MemStream());
    return s;
  }
}

/** The entry among the last `window` of `s` that carries `eventId`. */
function recentEntry(
  s: MemStream<Event>,
  eventId: string,
  window: number,
): string | undefined {
  const from = Math.max(0, s.entries.length - window);
  for (let i = s.entries.length - 1; i >= from; i--) {
    if (s.entries[i].value.id === eventId) return s.entries[i].id;
  }
  return undefined;
}

function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

function copyEvent(e: Event): Event {
  return { ...e, data: e.data.slice() };
}
