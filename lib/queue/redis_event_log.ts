/**
 * {@link EventLog} on Redis Streams: one stream per log stream (e.g. per
 * strategy), `XADD … MAXLEN ~ n` retention, consumer groups for webhook
 * delivery.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { Event } from "../contracts/messages.ts";
import { BackendConnection } from "./backend_connection.ts";
import type { ParsedRedisUrl, RedisClient } from "./connection.ts";
import type { DurabilityOptions } from "./durability.ts";
import { QueueError } from "./errors.ts";
import {
  bytes,
  checkStreamName,
  exclusiveStart,
  fieldsOf,
  type RawEntry,
  toBuffer,
} from "./redis_stream.ts";
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
 * Options of {@link RedisEventLog}.
 *
 * @example
 * ```ts
 * import type { RedisEventLogOptions } from "@qmtl/qmtl/queue";
 * const o: RedisEventLogOptions = { url: "redis://127.0.0.1:6379/0", maxLen: 10_000 };
 * ```
 */
export interface RedisEventLogOptions extends DurabilityOptions {
  /** A client to use; the log does not close it. */
  redis?: RedisClient;
  /** Or a URI to open a client the log owns. */
  url?: string | ParsedRedisUrl;
  /** Key prefix (default `qmtl:ev`); stream `s` is `<prefix>:{s}`. */
  keyPrefix?: string;
  /** Approximate entries kept per stream (`MAXLEN ~`, default 10000). */
  maxLen?: number;
  /** Longest sleep between polls of a blocked read (default 250 ms). */
  maxPollMs?: number;
}

/**
 * An {@link EventLog} on Redis Streams. Entry ids are the Redis stream ids,
 * usable as SSE ids and `Last-Event-ID`. Blocking reads poll (with a pub/sub
 * wake-up), never `XREAD BLOCK`, so a failover cannot hang them and one
 * connection serves every reader. With `waitReplicas` > 0 an `append` that
 * no replica confirms throws a retryable {@link DurabilityError} (the event
 * may be stored; consumers dedup by event id).
 *
 * @example
 * ```ts ignore
 * import { RedisEventLog } from "@qmtl/qmtl/queue";
 * const log = new RedisEventLog({ url: Deno.env.get("QMTL_REDIS_URL")! });
 * const entries = await log.read("st_1", { after: "0", blockMs: 5_000 });
 * await log.close();
 * ```
 */
export class RedisEventLog implements EventLog {
  #conn: BackendConnection;
  #p: string;
  #maxLen: number;

  /**
   * Opens (or adopts) a client.
   *
   * @param opts `redis` or `url`, prefix, retention, durability.
   */
  constructor(opts: RedisEventLogOptions) {
    this.#conn = new BackendConnection(opts, {
      owner: "RedisEventLog",
      connectionName: "qmtl-events",
      what: "event log",
    });
    this.#p = checkName("keyPrefix", opts.keyPrefix ?? "qmtl:ev");
    this.#maxLen = checkInt("maxLen", opts.maxLen ?? 10_000, 1);
  }

  /** Appends that threw {@link DurabilityError} since start. */
  get unconfirmedWrites(): number {
    return this.#conn.durable.unconfirmedWrites;
  }

  /** The Redis key of a stream. */
  keyOf(stream: string): string {
    return `${this.#p}:{${checkStreamName("stream", stream)}}`;
  }

  /** {@inheritDoc EventLog.append} */
  async append(stream: string, event: Event): Promise<string> {
    this.#conn.assertOpen();
    const key = this.keyOf(stream);
    const id = await this.#conn.writeCommand(
      "append",
      "",
      "appendEvent",
      [
        key,
        this.#maxLen,
        `${this.#p}:wake`,
        stream,
        event.id,
        APPEND_DEDUP_WINDOW,
        ...eventFields(event),
      ],
    );
    return String(id);
  }

  /** {@inheritDoc EventLog.appendLinked} */
  async appendLinked(
    stream: string,
    also: string,
    event: Event,
  ): Promise<LinkedAppend> {
    this.#conn.assertOpen();
    const key = this.keyOf(stream);
    const alsoKey = this.keyOf(also);
    if (alsoKey === key) {
      throw new QueueError("E_INVALID", "also must name another stream");
    }
    const [appended, id, alsoId] = await this.#conn.writeCommand<
      [number, string, string]
    >(
      "append",
      "",
      "appendLinked",
      [
        key,
        alsoKey,
        this.#maxLen,
        `${this.#p}:wake`,
        stream,
        also,
        event.id,
        LINKED_DEDUP_WINDOW,
        ...eventFields(event),
      ],
    );
    return { appended: appended === 1, id: String(id), alsoId: String(alsoId) };
  }

  /** Reads entries after `opts.after`, polling up to `blockMs` for one. */
  async read(stream: string, opts: ReadOptions = {}): Promise<EventLogEntry[]> {
    this.#conn.assertOpen();
    const key = this.keyOf(stream);
    const count = checkReadCount(opts.count);
    const start = exclusiveStart(opts.after);
    return await this.#poll(stream, opts.blockMs, async () => {
      const raw = await this.#conn.redis.xrangeBuffer(
        key,
        start,
        "+",
        "COUNT",
        count,
      ) as RawEntry[];
      return raw.map(toEntry);
    });
  }

  /** Number of retained entries. */
  async length(stream: string): Promise<number> {
    this.#conn.assertOpen();
    return await this.#conn.redis.xlen(this.keyOf(stream));
  }

  /** Creates a consumer group if missing (`XGROUP CREATE … MKSTREAM`). */
  async ensureGroup(
    stream: string,
    group: string,
    opts: { startId?: string } = {},
  ): Promise<void> {
    this.#conn.assertOpen();
    checkName("group", group);
    try {
      await this.#conn.redis.xgroup(
        "CREATE",
        this.keyOf(stream),
        group,
        opts.startId ?? "0",
        "MKSTREAM",
      );
    } catch (e) {
      if (!String((e as Error).message).startsWith("BUSYGROUP")) throw e;
    }
  }

  /** Reads undelivered entries (and idle pending ones with `claimIdleMs`). */
  async readGroup(
    stream: string,
    group: string,
    consumer: string,
    opts: GroupReadOptions = {},
  ): Promise<EventLogEntry[]> {
    this.#conn.assertOpen();
    const key = this.keyOf(stream);
    checkName("consumer", consumer);
    const count = checkReadCount(opts.count);
    const claimIdle = checkOptionalInt("claimIdleMs", opts.claimIdleMs, 0);
    return await this.#poll(stream, opts.blockMs, async () => {
      try {
        const out: EventLogEntry[] = [];
        if (claimIdle !== undefined) {
          const r = await this.#conn.redis.callBuffer(
            "XAUTOCLAIM",
            key,
            group,
            consumer,
            claimIdle,
            "0-0",
            "COUNT",
            count,
          ) as unknown as [Buffer, RawEntry[]];
          for (const e of r[1]) if (e && e[1]) out.push(toEntry(e));
        }
        if (out.length < count) {
          const r = await this.#conn.redis.callBuffer(
            "XREADGROUP",
            "GROUP",
            group,
            consumer,
            "COUNT",
            count - out.length,
            "STREAMS",
            key,
            ">",
          ) as [Buffer, RawEntry[]][] | null;
          for (const e of r?.[0]?.[1] ?? []) out.push(toEntry(e));
        }
        return out;
      } catch (e) {
        if (String((e as Error).message).startsWith("NOGROUP")) {
          throw new QueueError(
            "E_NOT_FOUND",
            `consumer group ${group} does not exist on ${stream}`,
          );
        }
        throw e;
      }
    });
  }

  /** Acknowledges delivered entries (`XACK`). */
  async ackGroup(
    stream: string,
    group: string,
    ids: string[],
  ): Promise<number> {
    this.#conn.assertOpen();
    if (ids.length === 0) return 0;
    return await this.#conn.redis.xack(this.keyOf(stream), group, ...ids);
  }

  /** Wakes blocked readers and closes the connections the log owns. */
  async close(): Promise<void> {
    await this.#conn.close();
  }

  async #poll<T>(
    stream: string,
    blockMs: number | undefined,
    once: () => Promise<T[]>,
  ): Promise<T[]> {
    return await this.#conn.poll(once, {
      channel: `${this.#p}:wake`,
      blockMs: checkInt("blockMs", blockMs ?? 0, 0),
      filter: (s) => s === stream,
    });
  }
}

/** An event as stream fields (the first pair is its id). */
function eventFields(event: Event): (string | Buffer)[] {
  return [
    "id",
    event.id,
    "source",
    event.source,
    "specversion",
    event.specVersion,
    "type",
    event.type,
    "subject",
    event.subject,
    "time",
    event.time,
    "datacontenttype",
    event.dataContentType,
    "data",
    toBuffer(event.data),
  ];
}

function toEntry(raw: RawEntry): EventLogEntry {
  const f = fieldsOf(raw[1]);
  const s = (k: string) => f.get(k)?.toString("utf8") ?? "";
  return {
    id: raw[0].toString(),
    event: {
      $typeName: "qmtl.v1.Event",
      id: s("id"),
      source: s("source"),
      specVersion: s("specversion"),
      type: s("type"),
      subject: s("subject"),
      time: s("time"),
      dataContentType: s("datacontenttype"),
      data: bytes(f.get("data")),
    },
  };
}
