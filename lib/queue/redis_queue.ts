/**
 * {@link WorkQueue} on Redis (ioredis), Sentinel-aware, with atomic Lua
 * transitions and replica-confirmed writes.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { backoffSchedule } from "./backoff.ts";
import { BackendConnection } from "./backend_connection.ts";
import type { ParsedRedisUrl, RedisClient } from "./connection.ts";
import type { DurabilityOptions } from "./durability.ts";
import {
  DurabilityError,
  LeaseLostError,
  type LeaseLostReason,
  QueueError,
} from "./errors.ts";
import { Coalescer } from "./coalesce.ts";
import { type CommandArg, runCommand } from "./redis_commands.ts";
import { unlinkByPrefix } from "./redis_keys.ts";
import type {
  BackoffOptions,
  EnqueueOptions,
  EnqueueRequest,
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
import {
  type CheckedEnqueue,
  checkEnqueue,
  checkEnqueueMany,
  checkInt,
  checkName,
  checkOptionalInt,
  checkQueueDefaults,
  newId,
} from "./validate.ts";

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

/**
 * Fields of a job hash a reader decodes, in this order (the same list as
 * `commands/includes/jobFields.lua`; a test checks it). `b` is the body
 * packed by {@link packBody}.
 */
export const JOB_FIELDS: readonly string[] = [
  "b",
  "created",
  "attempts",
  "nb",
  "err",
  "state",
];

/** Most jobs in one enqueue script call. */
const MAX_ENQUEUE_BATCH = 500;
/** Most payload bytes in one enqueue script call (a call takes one job at least). */
const MAX_ENQUEUE_BYTES = 4 * 1024 * 1024;
/** Most jobs leased or acknowledged by one script call. */
const MAX_LEASE_BATCH = 1000;
const MAX_ACK_BATCH = 1000;

interface EnqueueItem {
  id: string;
  job: CheckedEnqueue;
  resolve: (r: EnqueueResult) => void;
  reject: (e: unknown) => void;
}

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
  #conn: BackendConnection;
  #p: string;
  #maxAttempts: number;
  #backoff: BackoffOptions;
  #retainDoneMs: number;
  #enqueues: Coalescer<EnqueueItem>;
  #leases: Coalescer<LeaseRequest>;
  #acks: Coalescer<AckRequest>;
  #leasedLast = false;

  /**
   * Opens (or adopts) a client and defines the Lua scripts.
   *
   * @param opts `redis` or `url`, queue name, defaults, durability.
   */
  constructor(opts: RedisQueueOptions) {
    this.#conn = new BackendConnection(opts, {
      owner: "RedisQueue",
      connectionName: "qmtl-queue",
      what: "queue",
    });
    const name = opts.name ?? "default";
    this.#p = opts.keyPrefix ?? `{qmtl:q:${name}}`;
    checkName("keyPrefix", this.#p);
    ({
      maxAttempts: this.#maxAttempts,
      backoff: this.#backoff,
      retainDoneMs: this.#retainDoneMs,
    } = checkQueueDefaults(opts, 1));
    this.#enqueues = new Coalescer((b) => this.#flushEnqueues(b), {
      maxBatch: MAX_ENQUEUE_BATCH,
      weight: (e) => e.job.payload.byteLength,
      maxWeight: MAX_ENQUEUE_BYTES,
    });
    this.#leases = new Coalescer((b) => this.#flushLeases(b), {
      maxBatch: MAX_LEASE_BATCH,
      weight: (r) => r.count,
      maxWeight: MAX_LEASE_BATCH,
    });
    this.#acks = new Coalescer((b) => this.#flushAcks(b), {
      maxBatch: MAX_ACK_BATCH,
    });
  }

  /** The key prefix (hash tag) of this queue. */
  get keyPrefix(): string {
    return this.#p;
  }

  /** Replicas each write waits for (0 = no `WAIT`). */
  get waitReplicas(): number {
    return this.#conn.durable.replicas;
  }

  /** Writes that threw {@link DurabilityError} since start. */
  get unconfirmedWrites(): number {
    return this.#conn.durable.unconfirmedWrites;
  }

  /**
   * Adds a job, or returns the one enqueued with the same idempotency key.
   * Concurrent enqueues of this client go out together in one script call
   * (and share one `WAIT`).
   */
  enqueue(
    kind: string,
    payload: Uint8Array,
    opts: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    try {
      this.#conn.assertOpen();
      const job = checkEnqueue("", kind, payload, opts, this.#maxAttempts);
      return new Promise((resolve, reject) => {
        this.#enqueues.push({ id: newId(), job, resolve, reject });
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Adds jobs in order, as {@link RedisQueue.enqueue} one by one, in as few
   * script calls as their sizes allow (500 jobs or 4 MiB of payload per
   * call; each call is atomic). With `WAIT`, a {@link DurabilityError}
   * rejects the whole call: retry it with the same idempotency keys.
   */
  async enqueueMany(
    jobs: readonly EnqueueRequest[],
  ): Promise<EnqueueResult[]> {
    this.#conn.assertOpen();
    const checked = checkEnqueueMany(jobs, this.#maxAttempts);
    const items: EnqueueItem[] = [];
    const results = checked.map((job) =>
      new Promise<EnqueueResult>((resolve, reject) => {
        items.push({ id: newId(), job, resolve, reject });
      })
    );
    this.#enqueues.pushAll(items);
    return await Promise.all(results);
  }

  async #flushEnqueues(batch: EnqueueItem[]): Promise<void> {
    const args: CommandArg[] = [
      `${this.#p}:ready`,
      `${this.#p}:delayed`,
      this.#p,
    ];
    for (const { id, job } of batch) {
      args.push(id, packBody(job), job.key, job.maxAttempts, job.delayMs);
    }
    let res: [Buffer, ...(number | [number, Buffer, Raw])[]];
    try {
      res = await this.#conn.writeCommand<typeof res>(
        "enqueue",
        batch.length === 1 ? batch[0].id : "",
        "enqueueMany",
        args,
        { buffer: true },
      );
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    const now = Number(res[0]);
    batch.forEach((b, i) => {
      const r = res[i + 1] as number | [number, Buffer, Raw];
      if (typeof r === "number") {
        b.resolve({
          created: true,
          job: {
            $typeName: "qmtl.v1.QueueJob",
            id: b.id,
            kind: b.job.kind,
            payload: b.job.payload.slice(),
            idempotencyKey: b.job.key,
            attempts: 0,
            maxAttempts: b.job.maxAttempts,
            createdAtMs: now,
            notBeforeMs: now + b.job.delayMs,
            lastError: "",
            state: b.job.delayMs > 0 ? "delayed" : "ready",
          },
        });
      } else {
        b.resolve({
          created: Number(r[0]) === 1,
          job: toJob(str(r[1]), r[2] as Raw),
        });
      }
    });
  }

  /** Leases up to `count` jobs, polling up to `blockMs` when none is ready. */
  async lease(count: number, opts: LeaseOptions): Promise<LeasedJob[]> {
    this.#conn.assertOpen();
    checkInt("count", count, 1);
    const leaseMs = checkInt("leaseMs", opts.leaseMs, 1);
    const blockMs = checkInt("blockMs", opts.blockMs ?? 0, 0);
    return await this.#conn.poll(() => this.#leaseCoalesced(count, leaseMs), {
      channel: `${this.#p}:wake`,
      blockMs,
    });
  }

  /**
   * Concurrent `lease` calls of this client go out together as one script
   * call (per lease length), then share one `WAIT`.
   */
  #leaseCoalesced(count: number, leaseMs: number): Promise<LeasedJob[]> {
    return new Promise((resolve, reject) => {
      this.#leases.push({ count, leaseMs, resolve, reject });
    });
  }

  async #flushLeases(batch: LeaseRequest[]): Promise<void> {
    const groups = new Map<number, LeaseRequest[]>();
    for (const r of batch) {
      const g = groups.get(r.leaseMs) ?? [];
      g.push(r);
      groups.set(r.leaseMs, g);
    }
    await Promise.all([...groups].map(async ([leaseMs, reqs]) => {
      try {
        const total = reqs.reduce((n, r) => n + r.count, 0);
        const base = newId().slice(0, 16);
        const raw = await this.#conn.writeCommand<(Buffer | number | null)[]>(
          "lease",
          "",
          "lease",
          [
            `${this.#p}:ready`,
            `${this.#p}:delayed`,
            `${this.#p}:leased`,
            `${this.#p}:dead`,
            total,
            leaseMs,
            base,
            this.#p,
          ],
          {
            when: (r) => r.length > 1,
            // WAIT right behind the call only while leases find jobs: an
            // empty poll needs no confirmation.
            pipelined: this.#leasedLast,
            subject: (r) => str(r[1]),
            buffer: true,
          },
        );
        this.#leasedLast = raw.length > 1;
        const exp = Number(raw[0]);
        const jobs: LeasedJob[] = [];
        for (let i = 1, n = 1; i + 5 < raw.length; i += 6, n++) {
          const job = toJob(str(raw[i]), [
            raw[i + 1],
            raw[i + 2],
            raw[i + 3],
            raw[i + 4],
            raw[i + 5],
            null,
          ]) as LeasedJob;
          job.state = "leased";
          job.leaseToken = `${base}.${n}`;
          job.leaseExpiresAtMs = exp;
          jobs.push(job);
        }
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
    this.#conn.assertOpen();
    const r = await new Promise<string>((resolve, reject) => {
      this.#acks.push({ id, token: leaseToken, resolve, reject });
    });
    if (r !== "OK") throw new LeaseLostError(id, r as LeaseLostReason);
  }

  async #flushAcks(batch: AckRequest[]): Promise<void> {
    let res: string[] = [];
    let durability: unknown = null;
    try {
      await this.#conn.durable.write(
        "ack",
        batch.length === 1 ? batch[0].id : "",
        () =>
          (runCommand(this.#conn.redis, "ackMany", [
            `${this.#p}:leased`,
            `${this.#p}:done`,
            this.#retainDoneMs,
            this.#p,
            ...batch.flatMap((a) => [a.id, a.token]),
          ]) as Promise<string[]>).then((r) => res = r),
        { when: (r) => r.some((x) => x === "OK") },
      );
    } catch (e) {
      if (!(e instanceof DurabilityError)) {
        for (const a of batch) a.reject(e);
        return;
      }
      durability = e;
    }
    batch.forEach((a, i) => {
      if (res[i] === "OK" && durability !== null) a.reject(durability);
      else a.resolve(res[i]);
    });
  }

  /**
   * Gives back a leased job that was not worked on: ready at the head of
   * the queue, its attempt returned.
   */
  async release(id: string, leaseToken: string): Promise<void> {
    this.#conn.assertOpen();
    const r = await this.#conn.writeCommand<string>(
      "release",
      id,
      "release",
      [
        `${this.#p}:job:${id}`,
        `${this.#p}:leased`,
        `${this.#p}:ready`,
        leaseToken,
        id,
        this.#p,
      ],
      { when: (r) => r === "OK" },
    );
    if (r !== "OK") throw new LeaseLostError(id, r as LeaseLostReason);
  }

  /** Returns a leased job for a retry (with backoff), or dead-letters it. */
  async nack(
    id: string,
    leaseToken: string,
    opts: NackOptions = {},
  ): Promise<NackResult> {
    this.#conn.assertOpen();
    const retry = checkOptionalInt("retryAfterMs", opts.retryAfterMs, 0) ?? "";
    const r = await this.#conn.writeCommand<string | [string, number, number]>(
      "nack",
      id,
      "nack",
      [
        `${this.#p}:job:${id}`,
        `${this.#p}:leased`,
        `${this.#p}:delayed`,
        `${this.#p}:ready`,
        `${this.#p}:dead`,
        leaseToken,
        id,
        retry,
        opts.error ?? "",
        this.#p,
        ...(retry === "" ? backoffSchedule(this.#backoff) : [0]),
      ],
      { when: (r) => typeof r !== "string" },
    );
    if (typeof r === "string") {
      throw new LeaseLostError(id, r as LeaseLostReason);
    }
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
    this.#conn.assertOpen();
    checkInt("leaseMs", leaseMs, 1);
    const r = await runCommand(this.#conn.redis, "extendLease", [
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
    this.#conn.assertOpen();
    const r = await this.#conn.redis.hmgetBuffer(
      `${this.#p}:job:${id}`,
      ...JOB_FIELDS,
    );
    return r[STATE] === null ? null : toJob(id, r);
  }

  /** Counts per state (one MULTI, so a consistent snapshot). */
  async stats(): Promise<QueueStats> {
    this.#conn.assertOpen();
    const r = await this.#conn.redis.multi()
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
    this.#conn.assertOpen();
    checkInt("limit", limit, 0);
    if (limit === 0) return [];
    const ids = await this.#conn.redis.zrange(`${this.#p}:dead`, 0, limit - 1);
    if (ids.length === 0) return [];
    const pipe = this.#conn.redis.pipeline();
    for (const id of ids) {
      pipe.hmgetBuffer(`${this.#p}:job:${id}`, ...JOB_FIELDS);
    }
    const rows = await pipe.exec();
    const out: Job[] = [];
    (rows ?? []).forEach(([err, row], i) => {
      if (err) throw err;
      const r = row as Raw;
      if (r[STATE] !== null) out.push(toJob(ids[i], r));
    });
    return out;
  }

  /** Moves a dead job back to ready with attempts reset. */
  async requeueDead(id: string): Promise<boolean> {
    this.#conn.assertOpen();
    const r = await runCommand(this.#conn.redis, "requeueDead", [
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
    return await unlinkByPrefix(this.#conn.redis, `${this.#p}:`);
  }

  /** Wakes blocked `lease` calls, and closes the connections the queue owns. */
  async close(): Promise<void> {
    await this.#conn.close();
  }
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function str(b: Buffer | number | null | undefined): string {
  if (typeof b === "number") return String(b);
  return b == null ? "" : b.toString("utf8");
}

/** Index of `state` in {@link JOB_FIELDS}. */
const STATE = 5;

/**
 * The immutable part of a job as one field: `<max>,<kind bytes>,<idem
 * bytes>;` then the kind, the idempotency key and the payload.
 */
function packBody(j: CheckedEnqueue): Buffer {
  const kind = Buffer.from(j.kind, "utf8");
  const idem = Buffer.from(j.key, "utf8");
  const head = Buffer.from(
    `${j.maxAttempts},${kind.length},${idem.length};`,
    "latin1",
  );
  return Buffer.concat([head, kind, idem, toBuffer(j.payload)]);
}

function unpackBody(
  b: Buffer,
): { maxAttempts: number; kind: string; key: string; payload: Uint8Array } {
  const end = b.indexOf(59); // ';'
  const [max, kindLen, idemLen] = b.toString("latin1", 0, end).split(",").map(
    Number,
  );
  const k = end + 1;
  const p = k + kindLen + idemLen;
  return {
    maxAttempts: max,
    kind: b.toString("utf8", k, k + kindLen),
    key: b.toString("utf8", k + kindLen, p),
    payload: new Uint8Array(
      b.buffer.slice(b.byteOffset + p, b.byteOffset + b.byteLength),
    ),
  };
}

function toJob(id: string, r: Raw | (Buffer | number | null)[]): Job {
  const body = unpackBody(r[0] as Buffer);
  return {
    $typeName: "qmtl.v1.QueueJob",
    id,
    kind: body.kind,
    payload: body.payload,
    idempotencyKey: body.key,
    attempts: Number(str(r[2]) || 0),
    maxAttempts: body.maxAttempts,
    createdAtMs: Number(str(r[1])),
    notBeforeMs: Number(str(r[3])),
    lastError: str(r[4]),
    state: str(r[5]) as JobState,
  };
}
