/**
 * {@link WorkQueue} on Redis (ioredis), Sentinel-aware, with atomic Lua
 * transitions and replica-confirmed writes.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import { DEFAULT_BACKOFF } from "./backoff.ts";
import { adoptClient } from "./adopt_client.ts";
import {
  closeRedis,
  isSentinelClient,
  type ParsedRedisUrl,
  type RedisClient,
} from "./connection.ts";
import {
  type DurabilityOptions,
  ReplicaWaiter,
  resolveDurability,
} from "./durability.ts";
import {
  DurabilityError,
  LeaseLostError,
  type LeaseLostReason,
  QueueError,
} from "./errors.ts";
import {
  defineScripts,
  JOB_FIELDS,
  QUEUE_SCRIPTS,
  runScript,
} from "./redis_queue_scripts.ts";
import type {
  BackoffOptions,
  EnqueueOptions,
  EnqueueResult,
  Job,
  JobState,
  LeasedJob,
  LeaseOptions,
  NackOptions,
  NackResult,
  QueueStats,
  WorkQueue,
} from "./types.ts";
import { checkBytes, checkInt, checkName, newId } from "./validate.ts";
import { WakeSubscriber } from "./wake.ts";

/**
 * Options of {@link RedisQueue}.
 *
 * @example
 * ```ts
 * import type { RedisQueueOptions } from "@qmtl/qmtl/queue";
 * const o: RedisQueueOptions = {
 *   url: "redis+sentinel://127.0.0.1:26379/qmtl/0",
 *   name: "diff",
 *   waitReplicas: 1,
 * };
 * ```
 */
export interface RedisQueueOptions extends DurabilityOptions {
  /** A client to use; the queue does not close it. */
  redis?: RedisClient;
  /** Or a URI (or its parsed form) to open a client the queue owns. */
  url?: string | ParsedRedisUrl;
  /** Queue name (default `"default"`). */
  name?: string;
  /**
   * Key prefix; default `{qmtl:q:<name>}`. Keep a `{hash tag}` so that all
   * keys of one queue live in one cluster slot.
   */
  keyPrefix?: string;
  /** `maxAttempts` of jobs enqueued without one (default 5). */
  defaultMaxAttempts?: number;
  /** Backoff of `nack` without `retryAfterMs`. */
  backoff?: BackoffOptions;
  /** How long `done` jobs (and their idempotency keys) are kept (default 1 h). */
  retainDoneMs?: number;
  /** Longest sleep between polls of a blocked `lease` (default 250 ms). */
  maxPollMs?: number;
}

type Raw = (Buffer | null)[];

interface LeaseRequest {
  count: number;
  leaseMs: number;
  resolve: (jobs: LeasedJob[]) => void;
  reject: (e: unknown) => void;
}

interface AckRequest {
  id: string;
  token: string;
  resolve: (r: string) => void;
  reject: (e: unknown) => void;
}

/**
 * A {@link WorkQueue} stored in Redis.
 *
 * Durability: with `waitReplicas` > 0 (default in Sentinel mode) every
 * state change that hands something to the caller — `enqueue`, a non-empty
 * `lease`, `ack`, `nack` — resolves only after that many replicas confirmed
 * it (`WAIT`, shared by concurrent callers). Otherwise it throws a
 * retryable {@link DurabilityError}: retry an enqueue with the same
 * idempotency key, an ack/nack with the same token; a lease that throws
 * hands out no job, so no worker processes a job whose lease a failover
 * could forget (which would let a second worker run it concurrently).
 * Failures are also counted in {@link RedisQueue.unconfirmedWrites}.
 *
 * @example
 * ```ts ignore
 * import { RedisQueue } from "@qmtl/qmtl/queue";
 * const q = new RedisQueue({ url: Deno.env.get("QMTL_REDIS_URL")!, name: "diff" });
 * await q.enqueue("diff", new Uint8Array([1]), { idempotencyKey: "st_1" });
 * const jobs = await q.lease(10, { leaseMs: 30_000, blockMs: 1_000 });
 * for (const j of jobs) await q.ack(j.id, j.leaseToken);
 * await q.close();
 * ```
 */
export class RedisQueue implements WorkQueue {
  #redis: Redis;
  #owned: boolean;
  #p: string;
  #maxAttempts: number;
  #backoff: BackoffOptions;
  #retainDoneMs: number;
  #maxPollMs: number;
  #waiter: ReplicaWaiter | null;
  #wake: WakeSubscriber;
  #unconfirmed = 0;
  #leaseQueue: LeaseRequest[] = [];
  #ackQueue: AckRequest[] = [];
  #closed = false;

  /**
   * Opens (or adopts) a client and defines the Lua scripts.
   *
   * @param opts `redis` or `url`, queue name, defaults, durability.
   */
  constructor(opts: RedisQueueOptions) {
    ({ redis: this.#redis, owned: this.#owned } = adoptClient(
      opts,
      "RedisQueue",
      { connectionName: "qmtl-queue", extra: { enableAutoPipelining: true } },
    ));
    const name = opts.name ?? "default";
    this.#p = opts.keyPrefix ?? `{qmtl:q:${name}}`;
    checkName("keyPrefix", this.#p);
    this.#maxAttempts = checkInt(
      "defaultMaxAttempts",
      opts.defaultMaxAttempts ?? 5,
      1,
    );
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#retainDoneMs = checkInt(
      "retainDoneMs",
      opts.retainDoneMs ?? 3_600_000,
      1,
    );
    this.#maxPollMs = checkInt("maxPollMs", opts.maxPollMs ?? 250, 1);
    const d = resolveDurability(opts, isSentinelClient(this.#redis));
    this.#waiter = d.waitReplicas > 0
      ? new ReplicaWaiter(this.#redis, d.waitReplicas, d.waitTimeoutMs)
      : null;
    this.#wake = new WakeSubscriber(this.#redis);
    defineScripts(this.#redis, QUEUE_SCRIPTS);
  }

  /** The key prefix (hash tag) of this queue. */
  get keyPrefix(): string {
    return this.#p;
  }

  /** Replicas each write waits for (0 = no `WAIT`). */
  get waitReplicas(): number {
    return this.#waiter?.replicas ?? 0;
  }

  /** Writes that threw {@link DurabilityError} since start. */
  get unconfirmedWrites(): number {
    return this.#unconfirmed;
  }

  /** Adds a job, or returns the one enqueued with the same idempotency key. */
  async enqueue(
    kind: string,
    payload: Uint8Array,
    opts: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    this.#open();
    checkName("kind", kind);
    checkBytes("payload", payload);
    const delayMs = checkInt("delayMs", opts.delayMs ?? 0, 0);
    const max = checkInt(
      "maxAttempts",
      opts.maxAttempts ?? this.#maxAttempts,
      1,
    );
    const key = opts.idempotencyKey ?? "";
    const id = newId();
    const epoch = this.#waiter?.epoch ?? 0;
    const res = await runScript(this.#redis, "qmtlQueueEnqueue", true, [
      `${this.#p}:job:${id}`,
      key === "" ? `${this.#p}:idem:` : `${this.#p}:idem:${key}`,
      `${this.#p}:ready`,
      `${this.#p}:delayed`,
      id,
      kind,
      toBuffer(payload),
      key,
      max,
      delayMs,
      this.#p,
    ]) as [number, Raw];
    const job = toJob(res[1]);
    await this.#confirm("enqueue", job.id, epoch);
    return { job, created: Number(res[0]) === 1 };
  }

  /** Leases up to `count` jobs, polling up to `blockMs` when none is ready. */
  async lease(count: number, opts: LeaseOptions): Promise<LeasedJob[]> {
    this.#open();
    checkInt("count", count, 1);
    const leaseMs = checkInt("leaseMs", opts.leaseMs, 1);
    const blockMs = checkInt("blockMs", opts.blockMs ?? 0, 0);
    const deadline = Date.now() + blockMs;
    let pause = 5;
    while (true) {
      const got = await this.#leaseCoalesced(count, leaseMs);
      if (got.length > 0 || this.#closed) return got;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.#wake.wait(`${this.#p}:wake`, Math.min(left, pause));
      pause = Math.min(pause * 2, this.#maxPollMs);
    }
  }

  /**
   * Concurrent `lease` calls of this client made in the same tick run as one
   * script call (fewer round trips and script runs), then share one `WAIT`.
   */
  #leaseCoalesced(count: number, leaseMs: number): Promise<LeasedJob[]> {
    return new Promise((resolve, reject) => {
      this.#leaseQueue.push({ count, leaseMs, resolve, reject });
      if (this.#leaseQueue.length === 1) {
        queueMicrotask(() => this.#flushLeases());
      }
    });
  }

  async #flushLeases(): Promise<void> {
    const batch = this.#leaseQueue.splice(0);
    const groups = new Map<number, LeaseRequest[]>();
    for (const r of batch) {
      const g = groups.get(r.leaseMs) ?? [];
      g.push(r);
      groups.set(r.leaseMs, g);
    }
    await Promise.all([...groups].map(async ([leaseMs, reqs]) => {
      try {
        const epoch = this.#waiter?.epoch ?? 0;
        const total = reqs.reduce((n, r) => n + r.count, 0);
        const raw = await runScript(this.#redis, "qmtlQueueLease", true, [
          `${this.#p}:ready`,
          `${this.#p}:delayed`,
          `${this.#p}:leased`,
          `${this.#p}:dead`,
          total,
          leaseMs,
          newId(),
          this.#p,
        ]) as Raw[];
        if (raw.length > 0) await this.#confirm("lease", str(raw[0][0]), epoch);
        const jobs = raw.map((r) => {
          const job = toJob(r) as LeasedJob;
          job.leaseToken = str(r[10]);
          job.leaseExpiresAtMs = Number(str(r[11]));
          return job;
        });
        let at = 0;
        for (const r of reqs) {
          r.resolve(jobs.slice(at, at + r.count));
          at += r.count;
        }
      } catch (e) {
        for (const r of reqs) r.reject(e);
      }
    }));
  }

  /**
   * Marks a leased job done; a repeat with the same token is a no-op.
   * Concurrent acks of this client coalesce into one script call and share
   * one `WAIT`.
   */
  async ack(id: string, leaseToken: string): Promise<void> {
    this.#open();
    const r = await new Promise<string>((resolve, reject) => {
      this.#ackQueue.push({ id, token: leaseToken, resolve, reject });
      if (this.#ackQueue.length === 1) queueMicrotask(() => this.#flushAcks());
    });
    if (r !== "OK") throw new LeaseLostError(id, r as LeaseLostReason);
  }

  async #flushAcks(): Promise<void> {
    const batch = this.#ackQueue.splice(0);
    const epoch = this.#waiter?.epoch ?? 0;
    let res: string[];
    try {
      res = await runScript(this.#redis, "qmtlQueueAckMany", false, [
        `${this.#p}:leased`,
        `${this.#p}:done`,
        this.#retainDoneMs,
        this.#p,
        ...batch.flatMap((a) => [a.id, a.token]),
      ]) as string[];
    } catch (e) {
      for (const a of batch) a.reject(e);
      return;
    }
    let durability: unknown = null;
    if (res.some((r) => r === "OK")) {
      try {
        await this.#confirm(
          "ack",
          batch.length === 1 ? batch[0].id : "",
          epoch,
        );
      } catch (e) {
        durability = e;
      }
    }
    batch.forEach((a, i) => {
      if (res[i] === "OK" && durability !== null) a.reject(durability);
      else a.resolve(res[i]);
    });
  }

  /** Returns a leased job for a retry (with backoff), or dead-letters it. */
  async nack(
    id: string,
    leaseToken: string,
    opts: NackOptions = {},
  ): Promise<NackResult> {
    this.#open();
    const retry = opts.retryAfterMs === undefined
      ? ""
      : checkInt("retryAfterMs", opts.retryAfterMs, 0);
    const epoch = this.#waiter?.epoch ?? 0;
    const r = await runScript(this.#redis, "qmtlQueueNack", false, [
      `${this.#p}:job:${id}`,
      `${this.#p}:leased`,
      `${this.#p}:delayed`,
      `${this.#p}:ready`,
      `${this.#p}:dead`,
      leaseToken,
      id,
      retry,
      this.#backoff.baseMs,
      this.#backoff.maxMs,
      Math.random(),
      opts.error ?? "",
      this.#p,
    ]) as string | [string, number, number];
    if (typeof r === "string") {
      throw new LeaseLostError(id, r as LeaseLostReason);
    }
    await this.#confirm("nack", id, epoch);
    return {
      state: r[0] as JobState,
      attempts: Number(r[1]),
      notBeforeMs: Number(r[2]),
    };
  }

  /** Pushes the lease expiry to now + `leaseMs` (server clock). */
  async extendLease(
    id: string,
    leaseToken: string,
    leaseMs: number,
  ): Promise<number> {
    this.#open();
    checkInt("leaseMs", leaseMs, 1);
    const r = await runScript(this.#redis, "qmtlQueueExtend", false, [
      `${this.#p}:job:${id}`,
      `${this.#p}:leased`,
      leaseToken,
      id,
      leaseMs,
    ]) as string | number;
    if (typeof r === "string") {
      throw new LeaseLostError(id, r as LeaseLostReason);
    }
    return Number(r);
  }

  /** The job with this id, or `null`. */
  async get(id: string): Promise<Job | null> {
    this.#open();
    const r = await this.#redis.hmgetBuffer(
      `${this.#p}:job:${id}`,
      ...JOB_FIELDS,
    );
    return r[0] === null ? null : toJob(r);
  }

  /** Counts per state (one MULTI, so a consistent snapshot). */
  async stats(): Promise<QueueStats> {
    this.#open();
    const r = await this.#redis.multi()
      .llen(`${this.#p}:ready`)
      .zcard(`${this.#p}:delayed`)
      .zcard(`${this.#p}:leased`)
      .get(`${this.#p}:done`)
      .zcard(`${this.#p}:dead`)
      .exec();
    if (!r) {
      throw new QueueError("E_UNAVAILABLE", "stats transaction aborted", {
        retryable: true,
      });
    }
    const v = r.map(([err, val]) => {
      if (err) throw err;
      return Number(val ?? 0);
    });
    return { ready: v[0], delayed: v[1], leased: v[2], done: v[3], dead: v[4] };
  }

  /** Dead-lettered jobs, oldest first. */
  async listDead(limit = 100): Promise<Job[]> {
    this.#open();
    checkInt("limit", limit, 0);
    if (limit === 0) return [];
    const ids = await this.#redis.zrange(`${this.#p}:dead`, 0, limit - 1);
    if (ids.length === 0) return [];
    const pipe = this.#redis.pipeline();
    for (const id of ids) {
      pipe.hmgetBuffer(`${this.#p}:job:${id}`, ...JOB_FIELDS);
    }
    const rows = await pipe.exec();
    const out: Job[] = [];
    for (const [err, row] of rows ?? []) {
      if (err) throw err;
      const r = row as Raw;
      if (r[0] !== null) out.push(toJob(r));
    }
    return out;
  }

  /** Moves a dead job back to ready with attempts reset. */
  async requeueDead(id: string): Promise<boolean> {
    this.#open();
    const r = await runScript(this.#redis, "qmtlQueueRequeue", false, [
      `${this.#p}:job:${id}`,
      `${this.#p}:dead`,
      `${this.#p}:ready`,
      id,
      this.#p,
    ]);
    return Number(r) === 1;
  }

  /**
   * Deletes every key of this queue (all jobs, in every state). For tests
   * and operators; not part of {@link WorkQueue}.
   *
   * @returns Number of keys deleted.
   */
  async purge(): Promise<number> {
    let cursor = "0";
    let n = 0;
    const match = `${this.#p.replace(/[*?[\]\\]/g, "\\$&")}:*`;
    do {
      const [next, keys] = await this.#redis.scan(
        cursor,
        "MATCH",
        match,
        "COUNT",
        1000,
      );
      cursor = next;
      if (keys.length > 0) n += await this.#redis.unlink(...keys);
    } while (cursor !== "0");
    return n;
  }

  /** Wakes blocked `lease` calls, and closes the connections the queue owns. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake.close();
    this.#waiter?.close();
    if (this.#owned) await closeRedis(this.#redis);
  }

  #open(): void {
    if (this.#closed) throw new QueueError("E_UNAVAILABLE", "queue is closed");
  }

  async #confirm(
    operation: string,
    jobId: string,
    epoch: number,
  ): Promise<void> {
    if (!this.#waiter) return;
    const acked = await this.#waiter.confirm(epoch);
    if (acked < this.#waiter.replicas) {
      this.#unconfirmed++;
      throw new DurabilityError(operation, jobId, acked, this.#waiter.replicas);
    }
  }
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function str(b: Buffer | null | undefined): string {
  return b == null ? "" : b.toString("utf8");
}

function toJob(r: Raw): Job {
  const payload = r[2] ?? Buffer.alloc(0);
  return {
    $typeName: "qmtl.v1.QueueJob",
    id: str(r[0]),
    kind: str(r[1]),
    payload: new Uint8Array(
      payload.buffer.slice(
        payload.byteOffset,
        payload.byteOffset + payload.byteLength,
      ),
    ),
    idempotencyKey: str(r[3]),
    attempts: Number(str(r[4])),
    maxAttempts: Number(str(r[5])),
    createdAtMs: Number(str(r[6])),
    notBeforeMs: Number(str(r[7])),
    lastError: str(r[8]),
    state: str(r[9]) as JobState,
  };
}
