/**
 * {@link QueueWorker}: runs a handler over the jobs of any {@link WorkQueue}
 * with bounded concurrency, leasing ahead (prefetch) and acknowledging in the
 * background, so a slot starts its next job while the previous acknowledgement
 * is on its way and a Redis queue carries many leases and acks per round trip.
 *
 * @module
 */

import { setTimeout as delay } from "node:timers/promises";
import { DurabilityError, LeaseLostError } from "./errors.ts";
import type { LeasedJob, NackResult, WorkQueue } from "./types.ts";
import { checkInt } from "./validate.ts";

/**
 * Handles one job. Returning (or resolving) acknowledges it; throwing (or
 * rejecting) gives it back for a retry (`nack` with the error's message), or
 * dead-letters it on its last attempt.
 *
 * @example
 * ```ts
 * import type { JobHandler } from "@qmtl/qmtl/queue";
 * const handle: JobHandler = (job) => {
 *   if (job.payload.length === 0) throw new Error("empty payload");
 * };
 * ```
 */
export type JobHandler = (job: LeasedJob) => void | Promise<void>;

/**
 * Options of {@link QueueWorker}.
 *
 * @example
 * ```ts
 * import type { QueueWorkerOptions } from "@qmtl/qmtl/queue";
 * const o: QueueWorkerOptions = { concurrency: 8, leaseMs: 30_000, prefetch: 16 };
 * ```
 */
export interface QueueWorkerOptions {
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** Lease length, ms (default 30000); renewed while a handler runs. */
  leaseMs?: number;
  /**
   * Most jobs leased ahead, beyond the running ones (default
   * `max(64, concurrency)`). The worker holds fewer while handlers are slow:
   * at most what the slots get through in a quarter of `leaseMs`, measured,
   * so that no prefetched job waits long on its lease. 0 turns it off.
   */
  prefetch?: number;
  /** Longest wait of one `lease` call when the queue is empty (default 1000). */
  blockMs?: number;
  /** Retry delay after a handler failure (default: the queue's backoff). */
  retryAfterMs?: number;
  /** Called once a job's acknowledgement is stored (and confirmed). */
  onCompleted?: (job: LeasedJob) => void;
  /** Called once a failed job was given back (or dead-lettered). */
  onFailed?: (job: LeasedJob, error: unknown, result: NackResult) => void;
  /**
   * Called on a problem the worker worked around: a lease, extension or
   * settle that failed (with the job when there is one). A
   * {@link LeaseLostError} on a job means another worker may run it again.
   */
  onError?: (error: unknown, job?: LeasedJob) => void;
}

interface Held {
  job: LeasedJob;
  /** When the lease was taken or last extended (performance.now()). */
  since: number;
}

const SETTLE_RETRIES = 3;

/**
 * Runs a handler over a queue's jobs: at most `concurrency` at once, with up
 * to `prefetch` more leased ahead, acknowledgements sent without holding a
 * slot (a slot starts its next job while the last ack is on its way; Redis
 * queues coalesce them), leases renewed while a handler runs. Guarantees
 * are the queue's: at-least-once, never two holders of a job at once; a job
 * is reported completed only once its ack is stored (and confirmed by
 * replicas when the queue waits for them). `stop()` gives prefetched jobs
 * back with `release` (their attempt returned).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * import { QueueWorker } from "@qmtl/qmtl/queue";
 * const q = new MemoryQueue();
 * await q.enqueueMany([1, 2, 3].map((n) => ({ kind: "n", payload: new Uint8Array([n]) })));
 * const seen: number[] = [];
 * const { promise: allDone, resolve } = Promise.withResolvers<void>();
 * const w = new QueueWorker(q, (job) => {
 *   seen.push(job.payload[0]);
 * }, { concurrency: 2, onCompleted: () => seen.length === 3 && resolve() });
 * w.start();
 * await allDone;
 * await w.stop();
 * assert.deepEqual(seen.sort(), [1, 2, 3]);
 * await q.close();
 * ```
 */
export class QueueWorker {
  #q: WorkQueue;
  #handle: JobHandler;
  #o: QueueWorkerOptions;
  #concurrency: number;
  #leaseMs: number;
  #prefetch: number;
  #blockMs: number;
  #buffer: Held[] = [];
  #active = new Map<string, Held>();
  #settling = 0;
  #maxSettling: number;
  #fetching = false;
  #started = false;
  #stopping = false;
  #avgMs = -1;
  #fetchErrors = 0;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #idle: (() => void)[] = [];
  #completed = 0;
  #failed = 0;

  /**
   * Builds the worker (call {@link QueueWorker.start} to run it).
   *
   * @param queue The queue.
   * @param handler Runs one job.
   * @param opts Concurrency, lease, prefetch, callbacks.
   */
  constructor(
    queue: WorkQueue,
    handler: JobHandler,
    opts: QueueWorkerOptions = {},
  ) {
    this.#q = queue;
    this.#handle = handler;
    this.#o = opts;
    this.#concurrency = checkInt("concurrency", opts.concurrency ?? 1, 1);
    this.#leaseMs = checkInt("leaseMs", opts.leaseMs ?? 30_000, 1);
    this.#prefetch = checkInt(
      "prefetch",
      opts.prefetch ?? Math.max(64, this.#concurrency),
      0,
    );
    this.#blockMs = checkInt("blockMs", opts.blockMs ?? 1_000, 0);
    if (opts.retryAfterMs !== undefined) {
      checkInt("retryAfterMs", opts.retryAfterMs, 0);
    }
    this.#maxSettling = 4 * (this.#concurrency + this.#prefetch);
  }

  /** Jobs acknowledged so far. */
  get completed(): number {
    return this.#completed;
  }

  /** Jobs whose handler failed so far. */
  get failed(): number {
    return this.#failed;
  }

  /** Handlers running now. */
  get running(): number {
    return this.#active.size;
  }

  /** Starts leasing and running jobs. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#sweep = setInterval(
      () => this.#renew(),
      Math.max(Math.floor(this.#leaseMs / 3), 10),
    );
    this.#fill();
  }

  /**
   * Stops: no new leases; running handlers finish, prefetched jobs are
   * released, and pending acknowledgements are awaited.
   */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#stopping = true;
    await this.#whenIdle();
    clearInterval(this.#sweep);
  }

  /** Prefetched jobs the slots will run without waiting on a lease. */
  #want(): number {
    if (this.#prefetch === 0) return this.#concurrency;
    // Hold no more than the slots get through in a quarter of the lease.
    const ahead = this.#avgMs < 0
      ? Math.min(this.#prefetch, this.#concurrency)
      : Math.min(
        this.#prefetch,
        Math.floor(
          this.#concurrency * (this.#leaseMs / 4) / Math.max(this.#avgMs, 1e-3),
        ),
      );
    return this.#concurrency + ahead;
  }

  #fill(): void {
    if (!this.#started || this.#stopping || this.#fetching) return;
    const capacity = this.#want();
    const want = capacity - this.#buffer.length - this.#active.size;
    // Refill in halves, so one lease call brings many jobs; but never leave
    // a free slot idle with nothing in the buffer.
    if (
      want <= 0 ||
      (want < Math.ceil(capacity / 2) && this.#buffer.length > 0)
    ) return;
    this.#fetching = true;
    this.#q.lease(want, { leaseMs: this.#leaseMs, blockMs: this.#blockMs })
      .then((jobs) => {
        this.#fetchErrors = 0;
        const now = performance.now();
        for (const job of jobs) this.#buffer.push({ job, since: now });
        this.#fetching = false;
        if (this.#stopping) this.#releaseBuffer();
        else this.#dispatch();
        this.#fill();
        this.#checkIdle();
      }, async (e) => {
        this.#fetchErrors++;
        this.#o.onError?.(e);
        await delay(Math.min(100 * 2 ** Math.min(this.#fetchErrors, 6), 5_000));
        this.#fetching = false;
        this.#fill();
        this.#checkIdle();
      });
  }

  #dispatch(): void {
    while (
      this.#active.size < this.#concurrency && this.#buffer.length > 0 &&
      this.#settling < this.#maxSettling && !this.#stopping
    ) {
      const held = this.#buffer.shift()!;
      this.#active.set(held.job.id, held);
      this.#run(held);
    }
  }

  async #run(held: Held): Promise<void> {
    const job = held.job;
    try {
      // A prefetched job that waited half its lease is renewed first.
      if (performance.now() - held.since > this.#leaseMs / 2) {
        try {
          job.leaseExpiresAtMs = await this.#q.extendLease(
            job.id,
            job.leaseToken,
            this.#leaseMs,
          );
          held.since = performance.now();
        } catch (e) {
          this.#o.onError?.(e, job);
          return;
        }
      }
      const t = performance.now();
      let error: unknown = undefined;
      let ok = true;
      try {
        await this.#handle(job);
      } catch (e) {
        ok = false;
        error = e;
      }
      const ms = performance.now() - t;
      this.#avgMs = this.#avgMs < 0 ? ms : this.#avgMs * 0.9 + ms * 0.1;
      this.#settling++;
      (ok ? this.#ack(job) : this.#nack(job, error)).finally(() => {
        this.#settling--;
        this.#dispatch();
        this.#checkIdle();
      });
    } finally {
      this.#active.delete(job.id);
      this.#dispatch();
      this.#fill();
      this.#checkIdle();
    }
  }

  async #ack(job: LeasedJob): Promise<void> {
    await this.#settle(job, async () => {
      await this.#q.ack(job.id, job.leaseToken);
      this.#completed++;
      this.#o.onCompleted?.(job);
    });
  }

  async #nack(job: LeasedJob, error: unknown): Promise<void> {
    this.#failed++;
    const message = error instanceof Error ? error.message : String(error);
    await this.#settle(job, async () => {
      const r = await this.#q.nack(job.id, job.leaseToken, {
        error: message,
        retryAfterMs: this.#o.retryAfterMs,
      });
      this.#o.onFailed?.(job, error, r);
    });
  }

  /**
   * Runs an ack or nack of `job`; an unconfirmed one (`DurabilityError`) is
   * repeated with the same token, which is safe, up to `SETTLE_RETRIES`
   * times; any other failure goes to `onError`.
   */
  async #settle(job: LeasedJob, step: () => Promise<void>): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        await step();
        return;
      } catch (e) {
        if (e instanceof DurabilityError && attempt < SETTLE_RETRIES) {
          await delay(50 * 2 ** attempt);
          continue;
        }
        this.#o.onError?.(e, job);
        return;
      }
    }
  }

  /** Renews the leases of handlers running for a third of a lease. */
  #renew(): void {
    const now = performance.now();
    for (const held of this.#active.values()) {
      if (now - held.since < this.#leaseMs / 3) continue;
      held.since = now;
      this.#q.extendLease(held.job.id, held.job.leaseToken, this.#leaseMs)
        .then((exp) => {
          held.job.leaseExpiresAtMs = exp;
        }, (e) => this.#o.onError?.(e, held.job));
    }
  }

  #releaseBuffer(): void {
    const jobs = this.#buffer.splice(0);
    if (jobs.length === 0) return;
    this.#settling++;
    Promise.all(
      jobs.map(({ job }) =>
        this.#q.release(job.id, job.leaseToken).catch((e) => {
          // Lost or unconfirmed: the lease expires and the job comes back.
          if (!(e instanceof LeaseLostError)) this.#o.onError?.(e, job);
        })
      ),
    ).finally(() => {
      this.#settling--;
      this.#checkIdle();
    });
  }

  #whenIdle(): Promise<void> {
    if (this.#stopping) this.#releaseBuffer();
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#checkIdle();
    });
  }

  #checkIdle(): void {
    if (
      !this.#stopping || this.#fetching || this.#active.size > 0 ||
      this.#settling > 0 || this.#buffer.length > 0
    ) return;
    for (const r of this.#idle.splice(0)) r();
  }
}
