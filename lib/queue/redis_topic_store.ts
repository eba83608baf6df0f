/**
 * {@link TopicStore} on Redis Streams: one stream per topic plus a registry
 * hash of topic metadata, kept consistent by Lua scripts.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { adoptClient } from "./adopt_client.ts";
import {
  closeRedis,
  type ParsedRedisUrl,
  type RedisClient,
} from "./connection.ts";
import { QueueError, TopicNotFoundError } from "./errors.ts";
import {
  DEFAULT_TOPIC_MAX_LEN,
  DEFAULT_TOPIC_RETENTION_MS,
  type TopicDefaults,
} from "./memory_topic_store.ts";
import { defineScripts, runScript } from "./redis_queue_scripts.ts";
import {
  bytes,
  checkStreamName,
  exclusiveStart,
  type RawEntry,
  toBuffer,
} from "./redis_stream.ts";
import type {
  CreateTopicResult,
  ReadOptions,
  TopicInfo,
  TopicOptions,
  TopicRecord,
  TopicStore,
} from "./types.ts";
import { checkBytes, checkInt, checkName } from "./validate.ts";
import { WakeSubscriber } from "./wake.ts";

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** create — KEYS: registry. ARGV: name, retentionMs, maxLen. → {created, json} */
const CREATE = `${NOW}
local json = cjson.encode({name = ARGV[1], retentionMs = tonumber(ARGV[2]),
  maxLen = tonumber(ARGV[3]), createdAtMs = now})
if redis.call('HSETNX', KEYS[1], ARGV[1], json) == 1 then return {1, json} end
return {0, redis.call('HGET', KEYS[1], ARGV[1])}
`;

/** publish — KEYS: registry, stream. ARGV: name, data, channel. → id or false */
const PUBLISH = `${NOW}
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return false end
local info = cjson.decode(json)
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', info.maxLen, '*', 'd', ARGV[2])
redis.call('XTRIM', KEYS[2], 'MINID', '=', string.format('%d', now - info.retentionMs))
redis.call('PUBLISH', ARGV[3], ARGV[1])
return id
`;

/** delete — KEYS: registry, stream. ARGV: name, channel. → 1 or 0 */
const DELETE = `
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
if n == 1 then redis.call('PUBLISH', ARGV[2], ARGV[1]) end
return n
`;

const SCRIPTS: Record<string, [number, string]> = {
  qmtlTopicCreate: [1, CREATE],
  qmtlTopicPublish: [2, PUBLISH],
  qmtlTopicDelete: [2, DELETE],
};

/**
 * Options of {@link RedisTopicStore}.
 *
 * @example
 * ```ts
 * import type { RedisTopicStoreOptions } from "./redis_topic_store.ts";
 * const o: RedisTopicStoreOptions = { url: "redis://127.0.0.1:6379/0", defaults: { maxLen: 10_000 } };
 * ```
 */
export interface RedisTopicStoreOptions {
  /** A client to use; the store does not close it. */
  redis?: RedisClient;
  /** Or a URI to open a client the store owns. */
  url?: string | ParsedRedisUrl;
  /**
   * Key prefix (default `{qmtl:topics}`): registry `<prefix>:registry`,
   * topic `t` in stream `<prefix>:t:<t>`. The hash tag keeps registry and
   * streams in one cluster slot, as the scripts touch both.
   */
  keyPrefix?: string;
  /** Defaults for `create`. */
  defaults?: TopicDefaults;
  /** Longest sleep between polls of a blocked read (default 250 ms). */
  maxPollMs?: number;
}

/**
 * A {@link TopicStore} on Redis Streams. `maxLen` trims approximately
 * (`MAXLEN ~`), `retentionMs` exactly (`XTRIM MINID`), both on publish.
 *
 * @example
 * ```ts ignore
 * import { RedisTopicStore } from "./redis_topic_store.ts";
 * const s = new RedisTopicStore({ url: Deno.env.get("QMTL_REDIS_URL")! });
 * await s.create("btc_Processing_ab12cd34_v1", { retentionMs: 86_400_000 });
 * await s.publish("btc_Processing_ab12cd34_v1", new Uint8Array([1]));
 * await s.close();
 * ```
 */
export class RedisTopicStore implements TopicStore {
  #redis: Redis;
  #owned: boolean;
  #p: string;
  #retentionMs: number;
  #maxLen: number;
  #maxPollMs: number;
  #wake: WakeSubscriber;
  #closed = false;

  /**
   * Opens (or adopts) a client and defines the Lua scripts.
   *
   * @param opts `redis` or `url`, prefix, defaults.
   */
  constructor(opts: RedisTopicStoreOptions) {
    ({ redis: this.#redis, owned: this.#owned } = adoptClient(
      opts,
      "RedisTopicStore",
      { connectionName: "qmtl-topics" },
    ));
    this.#p = checkName("keyPrefix", opts.keyPrefix ?? "{qmtl:topics}");
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
    this.#maxPollMs = checkInt("maxPollMs", opts.maxPollMs ?? 250, 1);
    this.#wake = new WakeSubscriber(this.#redis);
    defineScripts(this.#redis, SCRIPTS);
  }

  /** Creates the topic if missing. */
  async create(
    name: string,
    opts: TopicOptions = {},
  ): Promise<CreateTopicResult> {
    this.#open();
    checkStreamName("topic", name);
    const retention = checkInt(
      "retentionMs",
      opts.retentionMs ?? this.#retentionMs,
      1,
    );
    const maxLen = checkInt("maxLen", opts.maxLen ?? this.#maxLen, 1);
    const r = await runScript(this.#redis, "qmtlTopicCreate", false, [
      this.#registry,
      name,
      retention,
      maxLen,
    ]) as [number, string];
    return { info: parseInfo(r[1]), created: Number(r[0]) === 1 };
  }

  /** Appends a record. */
  async publish(name: string, data: Uint8Array): Promise<string> {
    this.#open();
    checkBytes("data", data);
    const r = await runScript(this.#redis, "qmtlTopicPublish", false, [
      this.#registry,
      this.#stream(name),
      name,
      toBuffer(data),
      this.#channel,
    ]) as string | null;
    if (r === null) throw new TopicNotFoundError(name);
    return r;
  }

  /** Reads records after `opts.after`, polling up to `blockMs` for one. */
  async read(name: string, opts: ReadOptions = {}): Promise<TopicRecord[]> {
    this.#open();
    const key = this.#stream(name);
    const count = checkInt("count", opts.count ?? 100, 1);
    const start = exclusiveStart(opts.after);
    const deadline = Date.now() + checkInt("blockMs", opts.blockMs ?? 0, 0);
    let pause = 5;
    while (true) {
      const [[e1, exists], [e2, raw]] = (await this.#redis.pipeline()
        .hexists(this.#registry, name)
        .xrangeBuffer(key, start, "+", "COUNT", count)
        .exec())!;
      if (e1 || e2) throw e1 ?? e2;
      if (!exists) throw new TopicNotFoundError(name);
      const got = (raw as RawEntry[]).map((e) => ({
        id: e[0].toString(),
        data: bytes(e[1][1]),
      }));
      const left = deadline - Date.now();
      if (got.length > 0 || this.#closed || left <= 0) return got;
      await this.#wake.wait(
        this.#channel,
        Math.min(left, pause),
        (s) => s === name,
      );
      pause = Math.min(pause * 2, this.#maxPollMs);
    }
  }

  /** Deletes the topic and its records. */
  async delete(name: string): Promise<boolean> {
    this.#open();
    const r = await runScript(this.#redis, "qmtlTopicDelete", false, [
      this.#registry,
      this.#stream(name),
      name,
      this.#channel,
    ]);
    return Number(r) === 1;
  }

  /** True when the topic exists. */
  async exists(name: string): Promise<boolean> {
    this.#open();
    return (await this.#redis.hexists(this.#registry, name)) === 1;
  }

  /** The topic's metadata, or `null`. */
  async info(name: string): Promise<TopicInfo | null> {
    this.#open();
    const json = await this.#redis.hget(this.#registry, name);
    return json === null ? null : parseInfo(json);
  }

  /** All topic names, sorted. */
  async list(): Promise<string[]> {
    this.#open();
    return (await this.#redis.hkeys(this.#registry)).sort();
  }

  /** Wakes blocked readers and closes the connections the store owns. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake.close();
    if (this.#owned) await closeRedis(this.#redis);
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

  #open(): void {
    if (this.#closed) {
      throw new QueueError("E_UNAVAILABLE", "topic store is closed");
    }
  }
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
