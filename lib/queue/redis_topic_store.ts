/**
 * {@link TopicStore} on Redis Streams: one stream of bars per topic (entry id
 * `<barTs × 1000>-1`, so bar times are strictly increasing by construction),
 * a registry hash of topic metadata, and producer leases, kept consistent by
 * Lua scripts. Appends, lease grants and releases are confirmed by replicas
 * (`WAIT`) like the work queue's writes.
 *
 * @module
 */

import { BackendConnection } from "./backend_connection.ts";
import type { ParsedRedisUrl, RedisClient } from "./connection.ts";
import type { DurabilityOptions } from "./durability.ts";
import { QueueError, TopicLeaseError, TopicNotFoundError } from "./errors.ts";
import { resolveTopicDefaults, type TopicDefaults } from "./topic_defaults.ts";
import { type CommandArg, runCommand } from "./redis_commands.ts";
import {
  bytes,
  checkStreamName,
  type RawEntry,
  toBuffer,
} from "./redis_stream.ts";
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
import { checkBars, checkInt, checkLimit, checkName } from "./validate.ts";

/**
 * Options of {@link RedisTopicStore}.
 *
 * @example
 * ```ts
 * import type { RedisTopicStoreOptions } from "@qmtl/qmtl/queue";
 * const o: RedisTopicStoreOptions = { url: "redis://127.0.0.1:6379/0", defaults: { maxLen: 10_000 } };
 * ```
 */
export interface RedisTopicStoreOptions extends DurabilityOptions {
  /** A client to use; the store does not close it. */
  redis?: RedisClient;
  /** Or a URI to open a client the store owns. */
  url?: string | ParsedRedisUrl;
  /**
   * Key prefix (default `{qmtl:topics}`): registry `<prefix>:registry`,
   * topic `t` in stream `<prefix>:t:<t>`, its lease in `<prefix>:lease:<t>`.
   * The hash tag keeps them in one cluster slot, as the scripts touch all.
   */
  keyPrefix?: string;
  /** Defaults for `create`. */
  defaults?: TopicDefaults;
  /** Longest sleep between polls of a waiting read (default 250 ms). */
  maxPollMs?: number;
}

/**
 * A {@link TopicStore} on Redis Streams. `maxLen` trims approximately
 * (`MAXLEN ~`); `retentionMs` trims exactly (`XTRIM MINID`), relative to the
 * topic's newest bar, on append. Leases expire by the Redis server's clock.
 *
 * @example
 * ```ts ignore
 * import { RedisTopicStore } from "@qmtl/qmtl/queue";
 * const s = new RedisTopicStore({ url: Deno.env.get("QMTL_REDIS_URL")! });
 * await s.create("btc_Processing_ab12cd34_v1", { retentionMs: 86_400_000 });
 * await s.append("btc_Processing_ab12cd34_v1", [{ barTs: 60, data: new Uint8Array([1]) }]);
 * await s.close();
 * ```
 */
export class RedisTopicStore implements TopicStore {
  #conn: BackendConnection;
  #p: string;
  #retentionMs: number;
  #maxLen: number;

  /**
   * Opens (or adopts) a client and defines the Lua scripts.
   *
   * @param opts `redis` or `url`, prefix, defaults, durability.
   */
  constructor(opts: RedisTopicStoreOptions) {
    this.#conn = new BackendConnection(opts, {
      owner: "RedisTopicStore",
      connectionName: "qmtl-topics",
      what: "topic store",
    });
    this.#p = checkName("keyPrefix", opts.keyPrefix ?? "{qmtl:topics}");
    ({ retentionMs: this.#retentionMs, maxLen: this.#maxLen } =
      resolveTopicDefaults(opts.defaults));
  }

  /** Writes that threw {@link DurabilityError} since start. */
  get unconfirmedWrites(): number {
    return this.#conn.durable.unconfirmedWrites;
  }

  /** {@inheritDoc TopicStore.create} */
  async create(
    name: string,
    opts: TopicOptions = {},
  ): Promise<CreateTopicResult> {
    this.#conn.assertOpen();
    checkStreamName("topic", name);
    const retention = checkInt(
      "retentionMs",
      opts.retentionMs ?? this.#retentionMs,
      1,
    );
    const maxLen = checkInt("maxLen", opts.maxLen ?? this.#maxLen, 1);
    const r = await this.#conn.writeCommand<[number, string]>(
      "create topic",
      name,
      "createTopic",
      [
        this.#registry,
        name,
        retention,
        maxLen,
      ],
      { when: (r) => Number(r[0]) === 1 },
    );
    return { info: parseInfo(r[1]), created: Number(r[0]) === 1 };
  }

  /** {@inheritDoc TopicStore.append} */
  async append(
    name: string,
    bars: readonly BarEntry[],
    opts: AppendOptions = {},
  ): Promise<AppendResult> {
    this.#conn.assertOpen();
    checkBars(bars);
    const args: CommandArg[] = [
      this.#registry,
      this.#stream(name),
      this.#lease(name),
      name,
      opts.fence?.token ?? "",
      this.#channel,
    ];
    for (const b of bars) {
      args.push(String(Math.round(b.barTs * 1000)), toBuffer(b.data));
    }
    const r = await this.#conn.writeCommand<(number | string)[]>(
      "append",
      name,
      "appendBars",
      args,
      { when: (r) => Number(r[0]) > 0 },
    );
    const code = Number(r[0]);
    if (code === -1) throw new TopicNotFoundError(name);
    if (code === -2) throw new TopicLeaseError(name, String(r[1] ?? ""));
    const lastMs = Number(r[2]);
    return {
      accepted: code,
      dropped: Number(r[1]),
      lastBarTs: lastMs < 0 ? null : lastMs / 1000,
    };
  }

  /** {@inheritDoc TopicStore.read} */
  async read(name: string, opts: BarReadOptions = {}): Promise<BarEntry[]> {
    this.#conn.assertOpen();
    const limit = checkLimit(opts.limit);
    const start = startAfter(opts.afterBarTs);
    const key = this.#stream(name);
    const pipe = this.#conn.redis.pipeline().hexists(this.#registry, name);
    if (opts.tail !== undefined) {
      pipe.xrevrangeBuffer(
        key,
        "+",
        start,
        "COUNT",
        Math.min(checkLimit(opts.tail), limit),
      );
    } else pipe.xrangeBuffer(key, start, "+", "COUNT", limit);
    const [[e1, exists], [e2, raw]] = (await pipe.exec())!;
    if (e1 || e2) throw e1 ?? e2;
    if (!exists) throw new TopicNotFoundError(name);
    const bars = (raw as RawEntry[]).map(barOf);
    return opts.tail !== undefined ? bars.reverse() : bars;
  }

  /** {@inheritDoc TopicStore.readMany} */
  async readMany(
    cursors: readonly BarCursor[],
    opts: ReadManyOptions = {},
  ): Promise<BarBatch[]> {
    this.#conn.assertOpen();
    const limit = checkLimit(opts.limit);
    const blockMs = checkInt("waitMs", opts.waitMs ?? 0, 0);
    const names = new Set(cursors.map((c) => c.topic));
    return await this.#conn.poll(async () => {
      const pipe = this.#conn.redis.pipeline();
      for (const c of cursors) {
        pipe.hexists(this.#registry, c.topic).xrangeBuffer(
          this.#stream(c.topic),
          startAfter(c.afterBarTs),
          "+",
          "COUNT",
          limit,
        );
      }
      const res = (await pipe.exec())!;
      const out: BarBatch[] = [];
      cursors.forEach((c, i) => {
        const [[e1, exists], [e2, raw]] = [res[2 * i], res[2 * i + 1]];
        if (e1 || e2) throw e1 ?? e2;
        if (!exists) throw new TopicNotFoundError(c.topic);
        const bars = (raw as RawEntry[]).map(barOf);
        if (bars.length > 0) out.push({ topic: c.topic, bars });
      });
      return out;
    }, {
      channel: this.#channel,
      blockMs,
      filter: (topic) => names.has(topic),
      signal: opts.signal,
    });
  }

  /** {@inheritDoc TopicStore.lastBarTs} */
  async lastBarTs(name: string): Promise<number | null> {
    const last = await this.read(name, { tail: 1 });
    return last.length ? last[0].barTs : null;
  }

  /** {@inheritDoc TopicStore.acquireLease} */
  async acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    token?: string,
  ): Promise<ProducerLease> {
    this.#conn.assertOpen();
    checkName("holder", holder);
    checkInt("ttlMs", ttlMs, 1);
    const r = await this.#conn.writeCommand<(number | string)[]>(
      "acquire lease",
      name,
      "acquireLease",
      [
        this.#registry,
        this.#lease(name),
        this.#lastHolder(name),
        name,
        holder,
        ttlMs,
        token ?? "",
        crypto.randomUUID(),
      ],
      { when: (r) => Number(r[0]) === 1 },
    );
    if (Number(r[0]) === -1) throw new TopicNotFoundError(name);
    const granted = Number(r[0]) === 1;
    return {
      granted,
      holder: String(r[1]),
      token: String(r[2]),
      ttlMs: Math.max(0, Number(r[3])),
      takeover: Number(r[4]) === 1,
      previousHolder: String(r[5] ?? ""),
    };
  }

  /** {@inheritDoc TopicStore.releaseLease} */
  async releaseLease(name: string, token: string): Promise<boolean> {
    this.#conn.assertOpen();
    const r = await this.#conn.writeCommand(
      "release lease",
      name,
      "releaseLease",
      [
        this.#lease(name),
        this.#lastHolder(name),
        token,
      ],
      { when: (r) => Number(r) === 1 },
    );
    return Number(r) === 1;
  }

  /** {@inheritDoc TopicStore.delete} */
  async delete(name: string): Promise<boolean> {
    this.#conn.assertOpen();
    const r = await runCommand(this.#conn.redis, "deleteTopic", [
      this.#registry,
      this.#stream(name),
      this.#lease(name),
      this.#lastHolder(name),
      name,
      this.#channel,
    ]);
    return Number(r) === 1;
  }

  /** True when the topic exists. */
  async exists(name: string): Promise<boolean> {
    this.#conn.assertOpen();
    return (await this.#conn.redis.hexists(this.#registry, name)) === 1;
  }

  /** The topic's metadata, or `null`. */
  async info(name: string): Promise<TopicInfo | null> {
    this.#conn.assertOpen();
    const json = await this.#conn.redis.hget(this.#registry, name);
    return json === null ? null : parseInfo(json);
  }

  /** All topic names, sorted. */
  async list(): Promise<string[]> {
    this.#conn.assertOpen();
    return (await this.#conn.redis.hkeys(this.#registry)).sort();
  }

  /** Wakes waiting readers and closes the connections the store owns. */
  async close(): Promise<void> {
    await this.#conn.close();
  }

  get #registry(): string {
    return `${this.#p}:registry`;
  }

  get #channel(): string {
    return `${this.#p}:wake`;
  }

  #stream(name: string): string {
    return `${this.#p}:t:${checkStreamName("topic", name)}`;
  }

  #lease(name: string): string {
    return `${this.#p}:lease:${checkStreamName("topic", name)}`;
  }

  #lastHolder(name: string): string {
    return `${this.#p}:lease-last:${checkStreamName("topic", name)}`;
  }
}

/** The exclusive XRANGE start after a bar time. */
function startAfter(afterBarTs: number | undefined): string {
  if (afterBarTs === undefined || afterBarTs < 0) return "-";
  if (typeof afterBarTs !== "number" || !Number.isFinite(afterBarTs)) {
    throw new QueueError("E_INVALID", "afterBarTs must be a number");
  }
  return `(${Math.floor(afterBarTs * 1000 + 1e-6)}-1`;
}

function barOf(e: RawEntry): BarEntry {
  const id = e[0].toString();
  return {
    barTs: Number(id.slice(0, id.indexOf("-"))) / 1000,
    data: bytes(e[1][1]),
  };
}

function parseInfo(json: string): TopicInfo {
  const o = JSON.parse(json);
  return {
    name: String(o.name),
    retentionMs: Number(o.retentionMs),
    maxLen: Number(o.maxLen),
    createdAtMs: Number(o.createdAtMs),
  };
}
