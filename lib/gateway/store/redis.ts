/**
 * Redis strategy store (ioredis). One hash per strategy
 * (`{prefix}s:{id}`: `rec` JSON, `dag` bytes, `state`, `rev`), a sorted set
 * of every strategy by creation time, one per owner, one set per state, and
 * the set of strategies with pending (not yet logged) events.
 * Creation is `HSETNX`-guarded and every transition is a Lua
 * compare-and-set on the record's revision, so concurrent workers never
 * both win. With `waitReplicas`, each write waits for one replica
 * (`WAIT 1`) before it is acknowledged.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  closeRedis,
  type RedisClient as Redis,
} from "../../queue/connection.ts";
import { QmtlError } from "../../contracts/errors.ts";
import type {
  StrategyState,
  StrategyStatus,
} from "../../contracts/messages.ts";
import { UnavailableError } from "../../dag/errors.ts";
import { stateName } from "../lifecycle/mod.ts";
import {
  applyTransition,
  claimPendingEvents,
  initialRecord,
  withoutPendingEvents,
} from "../lifecycle/records.ts";
import { decodePageToken, encodePageToken, pageSizeOf } from "./page.ts";
import type {
  CreateStrategyResult,
  EventPublisherClaim,
  ListStrategiesOptions,
  PendingEventBuilder,
  StrategyPage,
  StrategyRecord,
  StrategyStore,
  TransitionRequest,
  TransitionResult,
} from "./types.ts";

/**
 * Options of {@link RedisStrategyStore}.
 *
 * @example
 * ```ts
 * import type { RedisStrategyStoreOptions } from "@qmtl/qmtl/gateway";
 * import type { RedisClient as Redis } from "@qmtl/qmtl/queue";
 * function optionsFor(redis: Redis): RedisStrategyStoreOptions {
 *   return { redis, prefix: "qmtl:gw:", waitReplicas: true };
 * }
 * ```
 */
export interface RedisStrategyStoreOptions {
  /** Connected client (the store does not close it unless `ownsClient`). */
  redis: Redis;
  /** Key prefix; default `qmtl:gw:`. */
  prefix?: string;
  /** `WAIT 1 <waitMs>` after each write; default false. */
  waitReplicas?: boolean;
  /** Timeout of `WAIT`, ms; default 1000. */
  waitMs?: number;
  /** Close the client on `close()`; default false. */
  ownsClient?: boolean;
}

// KEYS: 1 record hash, 2 all zset, 3 owner zset, 4 state set, 5 pending set
// ARGV: 1 id, 2 createdAtMs, 3 rec json, 4 dag bytes, 5 state, 6 "1" = pending events
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[3], 'dag', ARGV[4], 'state', ARGV[5], 'rev', '1')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
if ARGV[6] == '1' then redis.call('SADD', KEYS[5], ARGV[1]) end
return 1`;

// KEYS: 1 record hash, 2 prefix of state sets ("…state:"), 3 pending set
// ARGV: 1 id, 2 expected rev, 3 new rec json, 4 new state, 5 "1" = pending events
const CAS = `
local cur = redis.call('HMGET', KEYS[1], 'rev', 'state')
if not cur[1] then return -1 end
if cur[1] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[3], 'state', ARGV[4], 'rev', tostring(tonumber(cur[1]) + 1))
if cur[2] ~= ARGV[4] then
  redis.call('SREM', KEYS[2] .. cur[2], ARGV[1])
  redis.call('SADD', KEYS[2] .. ARGV[4], ARGV[1])
end
if ARGV[5] == '1' then
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('SREM', KEYS[3], ARGV[1])
end
return 1`;

function hasPending(r: StrategyRecord): "1" | "0" {
  return r.pendingEvents?.length ? "1" : "0";
}

function unavailable(e: unknown): never {
  if (e instanceof QmtlError) throw e;
  throw new UnavailableError(`redis: ${(e as Error)?.message ?? e}`, {
    cause: e,
  });
}

/**
 * A {@link StrategyStore} on Redis.
 *
 * @example
 * ```ts ignore
 * import { RedisStrategyStore } from "@qmtl/qmtl/gateway";
 * import { Redis } from "ioredis";
 * const store = new RedisStrategyStore({ redis: new Redis() });
 * ```
 */
export class RedisStrategyStore implements StrategyStore {
  #r: Redis;
  #p: string;
  #wait: boolean;
  #waitMs: number;
  #owns: boolean;
  #unconfirmed = 0;
  /** Bumped when the connection closes (a reconnect may reach a new master). */
  #epoch = 0;
  #onClose = () => {
    this.#epoch++;
  };

  /**
   * Build the store.
   *
   * @param options client, prefix, replica wait
   */
  constructor(options: RedisStrategyStoreOptions) {
    this.#r = options.redis;
    this.#p = options.prefix ?? "qmtl:gw:";
    this.#wait = options.waitReplicas ?? false;
    this.#waitMs = options.waitMs ?? 1000;
    this.#owns = options.ownsClient ?? false;
    if (this.#wait) this.#r.on("close", this.#onClose);
  }

  /** Writes no replica confirmed in time (answered `E_UNAVAILABLE`) since start. */
  get unconfirmedWrites(): number {
    return this.#unconfirmed;
  }

  #key(id: string): string {
    return `${this.#p}s:${id}`;
  }

  /**
   * `WAIT 1` after a write read `epoch` before it: a `WAIT` sent after a
   * reconnect (a failover) says nothing about a write made on the old
   * master, so the write then counts as unconfirmed.
   */
  async #replicate(epoch: number): Promise<void> {
    if (!this.#wait) return;
    const n = await this.#r.wait(1, this.#waitMs);
    if (n < 1 || this.#epoch !== epoch) {
      this.#unconfirmed++;
      throw new UnavailableError(
        `redis: no replica acknowledged the write within ${this.#waitMs} ms`,
      );
    }
  }

  /** Insert if absent. */
  async create(
    status: StrategyStatus,
    dag: Uint8Array,
    event?: PendingEventBuilder,
    claim?: EventPublisherClaim,
  ): Promise<CreateStrategyResult> {
    const id = status.strategyId;
    const rec = initialRecord(status, event, claim);
    const epoch = this.#epoch;
    try {
      const created = await this.#r.eval(
        CREATE,
        5,
        this.#key(id),
        `${this.#p}all`,
        `${this.#p}owner:${status.owner}`,
        `${this.#p}state:${status.state}`,
        `${this.#p}pending`,
        id,
        String(status.createdAtMs),
        JSON.stringify(rec),
        Buffer.from(dag),
        String(status.state),
        hasPending(rec),
      ) as number;
      if (created === 1) {
        await this.#replicate(epoch);
        return { created: true, record: rec };
      }
      const existing = await this.get(id);
      if (!existing) {
        throw new QmtlError(
          "E_CONFLICT",
          `strategy ${id} vanished while creating`,
        );
      }
      return { created: false, record: existing };
    } catch (e) {
      unavailable(e);
    }
  }

  async #read(
    id: string,
  ): Promise<{ rec: StrategyRecord; rev: string } | null> {
    const [json, rev] = await this.#r.hmget(this.#key(id), "rec", "rev");
    if (json === null || rev === null) return null;
    return { rec: JSON.parse(json) as StrategyRecord, rev };
  }

  /** A record, or `null`. */
  async get(id: string): Promise<StrategyRecord | null> {
    try {
      return (await this.#read(id))?.rec ?? null;
    } catch (e) {
      unavailable(e);
    }
  }

  /** The encoded DAG. */
  async getDag(id: string): Promise<Uint8Array | null> {
    try {
      const b = await this.#r.hgetBuffer(this.#key(id), "dag");
      return b
        ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice()
        : null;
    } catch (e) {
      unavailable(e);
    }
  }

  /** Compare-and-set on the record revision (retried a few times on a race). */
  async transition(
    id: string,
    req: TransitionRequest,
  ): Promise<TransitionResult> {
    try {
      for (let i = 0; i < 8; i++) {
        const cur = await this.#read(id);
        if (!cur) throw new QmtlError("E_NOT_FOUND", `no strategy ${id}`);
        const next = applyTransition(id, cur.rec, req, Date.now());
        const epoch = this.#epoch;
        const ok = await this.#cas(id, cur.rev, next);
        if (ok === -1) throw new QmtlError("E_NOT_FOUND", `no strategy ${id}`);
        if (ok === 1) {
          await this.#replicate(epoch);
          return { from: cur.rec.status.state, record: next };
        }
      }
      throw new QmtlError(
        "E_CONFLICT",
        `strategy ${id}: too many concurrent updates`,
      );
    } catch (e) {
      unavailable(e);
    }
  }

  async #cas(id: string, rev: string, next: StrategyRecord): Promise<number> {
    return await this.#r.eval(
      CAS,
      3,
      this.#key(id),
      `${this.#p}state:`,
      `${this.#p}pending`,
      id,
      rev,
      JSON.stringify(next),
      String(next.status.state),
      hasPending(next),
    ) as number;
  }

  /** Drop delivered pending events (compare-and-set on the revision). */
  async clearPendingEvents(
    id: string,
    eventIds: readonly string[],
    claim?: EventPublisherClaim,
  ): Promise<StrategyRecord | null> {
    return await this.#update(
      id,
      (rec) =>
        rec.pendingEvents?.length || rec.publisher
          ? withoutPendingEvents(rec, eventIds, claim)
          : rec,
    );
  }

  /** Take or renew the claim on the pending events (compare-and-set). */
  async claimEvents(
    id: string,
    claim: EventPublisherClaim,
  ): Promise<StrategyRecord | null> {
    let refused = false;
    const out = await this.#update(id, (rec) => {
      const next = claimPendingEvents(rec, claim, Date.now());
      refused = next === null;
      return next ?? rec;
    });
    return refused ? null : out;
  }

  /**
   * Compare-and-set `change(record)` on the revision (a few tries on a
   * race); `change` returning its argument writes nothing.
   */
  async #update(
    id: string,
    change: (rec: StrategyRecord) => StrategyRecord,
  ): Promise<StrategyRecord | null> {
    try {
      for (let i = 0; i < 8; i++) {
        const cur = await this.#read(id);
        if (!cur) return null;
        const next = change(cur.rec);
        if (next === cur.rec) return cur.rec;
        const epoch = this.#epoch;
        const ok = await this.#cas(id, cur.rev, next);
        if (ok === -1) return null;
        if (ok === 1) {
          await this.#replicate(epoch);
          return next;
        }
      }
      throw new QmtlError(
        "E_CONFLICT",
        `strategy ${id}: too many concurrent updates`,
      );
    } catch (e) {
      unavailable(e);
    }
  }

  /** Ids of strategies with pending events. */
  async idsWithPendingEvents(limit = 1000): Promise<string[]> {
    try {
      const out: string[] = [];
      await this.#scanSet(`${this.#p}pending`, out, limit);
      return out.slice(0, limit);
    } catch (e) {
      unavailable(e);
    }
  }

  /** Newest first. */
  async list(options: ListStrategiesOptions = {}): Promise<StrategyPage> {
    const size = pageSizeOf(options.pageSize);
    const after = decodePageToken(options.pageToken);
    const zkey = options.owner !== undefined
      ? `${this.#p}owner:${options.owner}`
      : `${this.#p}all`;
    try {
      const out: StrategyStatus[] = [];
      let max = after ? String(after.createdAtMs) : "+inf";
      let skipUntil = after?.id;
      let more = false;
      // Scan in bounded batches (at most 50 round trips per page).
      for (let round = 0; round < 50 && out.length <= size; round++) {
        const batch = await this.#r.zrevrangebyscore(
          zkey,
          max,
          "-inf",
          "WITHSCORES",
          "LIMIT",
          0,
          200,
        );
        if (batch.length === 0) break;
        const items: { id: string; score: number }[] = [];
        for (let i = 0; i < batch.length; i += 2) {
          items.push({ id: batch[i], score: Number(batch[i + 1]) });
        }
        // Same-score items come in reverse lexical order; make ties ascending by id.
        items.sort((a, b) =>
          b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
        );
        const recs = await Promise.all(items.map((x) => this.#read(x.id)));
        for (let i = 0; i < items.length; i++) {
          const it = items[i];
          if (
            after && it.score === after.createdAtMs &&
            skipUntil !== undefined && it.id <= skipUntil
          ) continue;
          const s = recs[i]?.rec.status;
          if (!s) continue;
          if (options.state !== undefined && s.state !== options.state) {
            continue;
          }
          if (out.length === size) {
            more = true;
            break;
          }
          out.push(s);
        }
        if (more || batch.length < 400) break;
        const lastScore = items[items.length - 1].score;
        // Continue strictly below the last score, after finishing its ties.
        max = `(${lastScore}`;
        skipUntil = undefined;
      }
      const last = out.at(-1);
      return {
        strategies: out,
        nextPageToken: more && last
          ? encodePageToken({
            createdAtMs: last.createdAtMs,
            id: last.strategyId,
          })
          : "",
      };
    } catch (e) {
      unavailable(e);
    }
  }

  /** Ids by state. */
  async idsInStates(
    states: readonly StrategyState[],
    limit = 1000,
  ): Promise<string[]> {
    try {
      const out: string[] = [];
      for (const s of states) {
        await this.#scanSet(`${this.#p}state:${s}`, out, limit);
      }
      return out.slice(0, limit);
    } catch (e) {
      unavailable(e);
    }
  }

  /** Appends members of the set `key` to `out` (SSCAN, ≤ 100 pages) until `limit`. */
  async #scanSet(key: string, out: string[], limit: number): Promise<void> {
    let cursor = "0";
    for (let i = 0; i < 100; i++) {
      const [next, ids] = await this.#r.sscan(key, cursor, "COUNT", 500);
      out.push(...ids);
      cursor = next;
      if (cursor === "0" || out.length >= limit) break;
    }
  }

  /** Counts per state name. */
  async counts(): Promise<Record<string, number>> {
    try {
      const states = [1, 2, 3, 4, 5] as StrategyState[];
      const p = this.#r.pipeline();
      for (const s of states) p.scard(`${this.#p}state:${s}`);
      const res = await p.exec();
      const out: Record<string, number> = {};
      states.forEach((s, i) => out[stateName(s)] = Number(res?.[i]?.[1] ?? 0));
      return out;
    } catch (e) {
      unavailable(e);
    }
  }

  /** PING. */
  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      const pong = await this.#r.ping();
      return { ok: pong === "PONG", detail: "redis" };
    } catch (e) {
      return { ok: false, detail: `redis: ${(e as Error).message}` };
    }
  }

  /** Closes the client when owned (`closeRedis`: Sentinel connections too). */
  async close(): Promise<void> {
    this.#r.off("close", this.#onClose);
    if (this.#owns) await closeRedis(this.#r);
  }
}
