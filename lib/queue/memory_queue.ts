/**
 * In-process {@link WorkQueue}: same semantics as the Redis backend, nothing
 * survives the process. For tests, single-process deployments and dev mode.
 *
 * @module
 */

import { backoffDelay } from "./backoff.ts";
import { LeaseLostError, QueueError } from "./errors.ts";
import type {
  BackoffOptions,
  EnqueueOptions,
  EnqueueRequest,
  EnqueueResult,
  Job,
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
  checkOptionalInt,
  checkQueueDefaults,
  newId,
} from "./validate.ts";

/**
 * Options of {@link MemoryQueue}.
 *
 * @example
 * ```ts
 * import type { MemoryQueueOptions } from "@qmtl/qmtl/queue";
 * const o: MemoryQueueOptions = { defaultMaxAttempts: 3, backoff: { baseMs: 100, maxMs: 5_000 } };
 * ```
 */
export interface MemoryQueueOptions {
  /** `maxAttempts` of jobs enqueued without one (default 5). */
  defaultMaxAttempts?: number;
  /** Backoff of `nack` without `retryAfterMs`. */
  backoff?: BackoffOptions;
  /** How long `done` records stay readable by `get` and idempotent enqueue (default 1 h). */
  retainDoneMs?: number;
  /** At most this many `done` records are kept (default 10000). */
  maxDoneRecords?: number;
  /** Clock, ms since epoch (default `Date.now`); for tests. */
  now?: () => number;
}

interface Rec {
  job: Job;
  leaseToken: string;
  leaseExpiresAtMs: number;
  doneAtMs: number;
}

/**
 * A {@link WorkQueue} held in memory.
 *
 * @example
 * ```ts
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const q = new MemoryQueue({ defaultMaxAttempts: 3 });
 * const { job, created } = await q.enqueue("diff", new Uint8Array([1, 2]), { idempotencyKey: "k" });
 * const [leased] = await q.lease(1, { leaseMs: 5_000 });
 * await q.nack(leased.id, leased.leaseToken, { error: "boom", retryAfterMs: 0 });
 * await q.close();
 * ```
 */
export class MemoryQueue implements WorkQueue {
  #jobs = new Map<string, Rec>();
  #ready: string[] = [];
  #readyHead = 0;
  #delayed = new Set<string>();
  #leased = new Set<string>();
  #dead = new Set<string>();
  #done = new Map<string, number>(); // id → doneAtMs, in done order
  #doneCount = 0;
  #idem = new Map<string, string>();
  #waiters = new Set<() => void>();
  #closed = false;
  #maxAttempts: number;
  #backoff: BackoffOptions;
  #retainDoneMs: number;
  #maxDone: number;
  #now: () => number;

  /**
   * Creates an empty queue.
   *
   * @param opts Defaults for attempts, backoff and done-record retention.
   */
  constructor(opts: MemoryQueueOptions = {}) {
    ({
      maxAttempts: this.#maxAttempts,
      backoff: this.#backoff,
      retainDoneMs: this.#retainDoneMs,
    } = checkQueueDefaults(opts, 0));
    this.#maxDone = checkInt(
      "maxDoneRecords",
      opts.maxDoneRecords ?? 10_000,
      0,
    );
    this.#now = opts.now ?? Date.now;
  }

  /** Adds a job, or returns the one enqueued with the same idempotency key. */
  enqueue(
    kind: string,
    payload: Uint8Array,
    opts: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    return settle(() => {
      this.#open();
      return this.#add(
        checkEnqueue("", kind, payload, opts, this.#maxAttempts),
      );
    });
  }

  /** Adds jobs in order, as {@link MemoryQueue.enqueue} one by one. */
  enqueueMany(jobs: readonly EnqueueRequest[]): Promise<EnqueueResult[]> {
    return settle(() => {
      this.#open();
      return checkEnqueueMany(jobs, this.#maxAttempts).map((j) => this.#add(j));
    });
  }

  #add(r: CheckedEnqueue): EnqueueResult {
    this.#pruneDone();
    if (r.key !== "") {
      const existing = this.#idem.get(r.key);
      const rec = existing === undefined ? undefined : this.#jobs.get(existing);
      if (rec) return { job: copy(rec.job), created: false };
    }
    const now = this.#now();
    const job: Job = {
      $typeName: "qmtl.v1.QueueJob",
      id: newId(),
      kind: r.kind,
      payload: r.payload.slice(),
      idempotencyKey: r.key,
      attempts: 0,
      maxAttempts: r.maxAttempts,
      createdAtMs: now,
      notBeforeMs: now + r.delayMs,
      lastError: "",
      state: r.delayMs > 0 ? "delayed" : "ready",
    };
    this.#jobs.set(job.id, {
      job,
      leaseToken: "",
      leaseExpiresAtMs: 0,
      doneAtMs: 0,
    });
    if (r.key !== "") this.#idem.set(r.key, job.id);
    if (r.delayMs > 0) this.#delayed.add(job.id);
    else this.#pushReady(job.id);
    return { job: copy(job), created: true };
  }

  /** Leases up to `count` jobs, waiting up to `blockMs` when none is ready. */
  async lease(count: number, opts: LeaseOptions): Promise<LeasedJob[]> {
    this.#open();
    checkInt("count", count, 1);
    const leaseMs = checkInt("leaseMs", opts.leaseMs, 1);
    const blockMs = checkInt("blockMs", opts.blockMs ?? 0, 0);
    const deadline = Date.now() + blockMs;
    while (true) {
      const got = this.#leaseNow(count, leaseMs);
      if (got.length > 0 || this.#closed) return got;
      const left = deadline - Date.now();
      if (left <= 0) return got;
      await this.#sleep(Math.min(left, 50));
    }
  }

  /** Marks a leased job done; a repeat with the same token is a no-op. */
  ack(id: string, leaseToken: string): Promise<void> {
    return settle(() => {
      this.#open();
      const rec = this.#jobs.get(id);
      if (rec?.job.state === "done" && rec.leaseToken === leaseToken) {
        return;
      }
      const held = this.#held(id, leaseToken);
      this.#leased.delete(id);
      held.job.state = "done";
      held.leaseExpiresAtMs = 0;
      held.doneAtMs = this.#now();
      this.#done.set(id, held.doneAtMs);
      this.#doneCount++;
      this.#pruneDone();
      return;
    });
  }

  /** Returns a leased job for a retry (with backoff), or dead-letters it. */
  nack(
    id: string,
    leaseToken: string,
    opts: NackOptions = {},
  ): Promise<NackResult> {
    return settle(() => {
      this.#open();
      const retryAfterMs = checkOptionalInt(
        "retryAfterMs",
        opts.retryAfterMs,
        0,
      );
      const rec = this.#held(id, leaseToken);
      const job = rec.job;
      this.#leased.delete(id);
      rec.leaseExpiresAtMs = 0;
      job.lastError = opts.error ?? "";
      if (job.attempts >= job.maxAttempts) {
        this.#toDead(rec);
        return ({
          state: "dead",
          attempts: job.attempts,
          notBeforeMs: 0,
        });
      }
      const delay = retryAfterMs ?? backoffDelay(job.attempts, this.#backoff);
      job.notBeforeMs = this.#now() + delay;
      if (delay > 0) {
        job.state = "delayed";
        this.#delayed.add(id);
      } else {
        job.state = "ready";
        this.#pushReady(id);
      }
      return ({
        state: job.state,
        attempts: job.attempts,
        notBeforeMs: job.notBeforeMs,
      });
    });
  }

  /** Gives back an untouched leased job: ready at the head, attempt returned. */
  release(id: string, leaseToken: string): Promise<void> {
    return settle(() => {
      this.#open();
      const rec = this.#held(id, leaseToken);
      this.#leased.delete(id);
      rec.leaseToken = "";
      rec.leaseExpiresAtMs = 0;
      rec.job.attempts--;
      rec.job.state = "ready";
      if (this.#readyHead > 0) this.#ready[--this.#readyHead] = id;
      else this.#ready.unshift(id);
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    });
  }

  /** Pushes the lease expiry to now + `leaseMs`. */
  extendLease(
    id: string,
    leaseToken: string,
    leaseMs: number,
  ): Promise<number> {
    return settle(() => {
      this.#open();
      checkInt("leaseMs", leaseMs, 1);
      const rec = this.#held(id, leaseToken);
      rec.leaseExpiresAtMs = this.#now() + leaseMs;
      return rec.leaseExpiresAtMs;
    });
  }

  /** The job with this id, or `null`. */
  get(id: string): Promise<Job | null> {
    return settle(() => {
      this.#open();
      this.#pruneDone();
      const rec = this.#jobs.get(id);
      return rec ? copy(rec.job) : null;
    });
  }

  /** Counts per state. */
  stats(): Promise<QueueStats> {
    return settle(() => {
      this.#open();
      return ({
        ready: this.#ready.length - this.#readyHead,
        delayed: this.#delayed.size,
        leased: this.#leased.size,
        done: this.#doneCount,
        dead: this.#dead.size,
      });
    });
  }

  /** Dead-lettered jobs, oldest first. */
  listDead(limit = 100): Promise<Job[]> {
    return settle(() => {
      this.#open();
      checkInt("limit", limit, 0);
      const out: Job[] = [];
      for (const id of this.#dead) {
        if (out.length >= limit) break;
        out.push(copy(this.#jobs.get(id)!.job));
      }
      return out;
    });
  }

  /** Moves a dead job back to ready with attempts reset. */
  requeueDead(id: string): Promise<boolean> {
    return settle(() => {
      this.#open();
      if (!this.#dead.delete(id)) return false;
      const job = this.#jobs.get(id)!.job;
      job.attempts = 0;
      job.notBeforeMs = this.#now();
      job.state = "ready";
      this.#pushReady(id);
      return true;
    });
  }

  /** Wakes blocked `lease` calls (they return empty) and refuses further calls. */
  close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    return Promise.resolve();
  }

  #open(): void {
    if (this.#closed) throw new QueueError("E_UNAVAILABLE", "queue is closed");
  }

  #held(id: string, token: string): Rec {
    const rec = this.#jobs.get(id);
    if (!rec) throw new LeaseLostError(id, "unknown-job");
    if (rec.job.state !== "leased") throw new LeaseLostError(id, "not-leased");
    if (rec.leaseToken !== token) {
      throw new LeaseLostError(id, "token-mismatch");
    }
    if (rec.leaseExpiresAtMs <= this.#now()) {
      throw new LeaseLostError(id, "expired");
    }
    return rec;
  }

  #pushReady(id: string): void {
    this.#ready.push(id);
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  #toDead(rec: Rec): void {
    rec.job.state = "dead";
    rec.job.notBeforeMs = 0;
    this.#dead.add(rec.job.id);
  }

  #leaseNow(count: number, leaseMs: number): LeasedJob[] {
    const now = this.#now();
    // Reclaim expired leases: back to ready, or dead when attempts are used up.
    for (const id of this.#leased) {
      const rec = this.#jobs.get(id)!;
      if (rec.leaseExpiresAtMs > now) continue;
      this.#leased.delete(id);
      rec.leaseExpiresAtMs = 0;
      rec.job.lastError = "lease expired";
      if (rec.job.attempts >= rec.job.maxAttempts) this.#toDead(rec);
      else {
        rec.job.state = "ready";
        this.#ready.push(id);
      }
    }
    // Promote due delayed jobs, oldest due first.
    const due = [...this.#delayed]
      .map((id) => this.#jobs.get(id)!.job)
      .filter((j) => j.notBeforeMs <= now)
      .sort((a, b) => a.notBeforeMs - b.notBeforeMs);
    for (const j of due) {
      this.#delayed.delete(j.id);
      j.state = "ready";
      this.#ready.push(j.id);
    }
    const out: LeasedJob[] = [];
    while (out.length < count && this.#readyHead < this.#ready.length) {
      const id = this.#ready[this.#readyHead++];
      const rec = this.#jobs.get(id)!;
      rec.job.state = "leased";
      rec.job.attempts++;
      rec.leaseToken = newId();
      rec.leaseExpiresAtMs = now + leaseMs;
      this.#leased.add(id);
      out.push({
        ...copy(rec.job),
        leaseToken: rec.leaseToken,
        leaseExpiresAtMs: rec.leaseExpiresAtMs,
      });
    }
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return out;
  }

  #pruneDone(): void {
    const cutoff = this.#now() - this.#retainDoneMs;
    for (const [id, at] of this.#done) {
      if (at > cutoff && this.#done.size <= this.#maxDone) break;
      this.#done.delete(id);
      const rec = this.#jobs.get(id);
      this.#jobs.delete(id);
      if (rec && rec.job.idempotencyKey !== "") {
        if (this.#idem.get(rec.job.idempotencyKey) === id) {
          this.#idem.delete(rec.job.idempotencyKey);
        }
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }
}

/** Runs `fn` now; a throw becomes a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

function copy(job: Job): Job {
  return { ...job, payload: job.payload.slice() };
}
