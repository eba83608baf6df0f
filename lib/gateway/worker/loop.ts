/**
 * A bounded lease loop over a {@link WorkQueue}: leases up to `concurrency`
 * jobs, runs a handler per job while extending its lease, and stops
 * gracefully (no new leases; in-flight jobs finish or are released).
 *
 * @module
 */

import { QueueError } from "../../queue/errors.ts";
import type { LeasedJob, WorkQueue } from "../../queue/types.ts";
import type { Logger } from "../logger/mod.ts";

/**
 * What a job handler decided.
 *
 * @example
 * ```ts
 * import type { JobOutcome } from "@qmtl/qmtl/gateway";
 * const o: JobOutcome = { kind: "retry", error: "neo4j down" };
 * ```
 */
export type JobOutcome =
  | { kind: "ack" }
  | { kind: "retry"; error: string; retryAfterMs?: number };

/**
 * Options of {@link LeaseLoop}.
 *
 * @example
 * ```ts
 * import type { LeaseLoopOptions } from "@qmtl/qmtl/gateway";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const o: LeaseLoopOptions = { name: "diff", queue: new MemoryQueue(), handle: () => ({ kind: "ack" }) };
 * ```
 */
export interface LeaseLoopOptions {
  /** Name for logs. */
  name: string;
  /** The queue. */
  queue: WorkQueue;
  /** Handles one job. Throwing counts as a retry. */
  handle: (job: LeasedJob) => Promise<JobOutcome> | JobOutcome;
  /** Jobs in flight at once; default 2. */
  concurrency?: number;
  /** Lease length, ms; default 30000 (extended every third of it). */
  leaseMs?: number;
  /** Longest wait of one `lease` call, ms; default 500. */
  blockMs?: number;
  /**
   * Checked before each lease: while it answers false (e.g. the registry
   * the handler needs is down) no job is leased — so none is tried and
   * counted in vain — and the loop checks again after `blockMs`.
   */
  ready?: () => boolean | Promise<boolean>;
  /** Logger. */
  logger?: Logger;
}

/**
 * A running lease loop.
 *
 * @example
 * ```ts
 * import { LeaseLoop } from "@qmtl/qmtl/gateway";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const loop = new LeaseLoop({ name: "demo", queue: new MemoryQueue(), handle: () => ({ kind: "ack" }) });
 * loop.start();
 * await loop.stop();
 * ```
 */
export class LeaseLoop {
  #o:
    & Required<Omit<LeaseLoopOptions, "logger" | "ready">>
    & Pick<LeaseLoopOptions, "logger" | "ready">;
  #running = false;
  #loop: Promise<void> | undefined;
  #inflight = new Map<string, { job: LeasedJob; done: Promise<void> }>();
  #lastTick = 0;
  #wake: (() => void) | undefined;

  /**
   * Build the loop (call `start()` to run it).
   *
   * @param options queue, handler, limits
   */
  constructor(options: LeaseLoopOptions) {
    this.#o = {
      concurrency: 2,
      leaseMs: 30_000,
      blockMs: 500,
      ...options,
    };
  }

  /** Time of the last loop iteration (ms since epoch); 0 before start. */
  get lastTick(): number {
    return this.#lastTick;
  }

  /** True while started and ticking within 10 × blockMs + 5 s. */
  get alive(): boolean {
    return this.#running &&
      Date.now() - this.#lastTick < this.#o.blockMs * 10 + 5_000;
  }

  /** Number of jobs being handled. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Start leasing. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#lastTick = Date.now();
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    let errors = 0;
    while (this.#running) {
      this.#lastTick = Date.now();
      const free = this.#o.concurrency - this.#inflight.size;
      if (free <= 0) {
        await Promise.race([...this.#inflight.values()].map((x) => x.done));
        continue;
      }
      let jobs: LeasedJob[];
      try {
        if (this.#o.ready && !(await this.#o.ready())) {
          await this.#sleep(Math.max(this.#o.blockMs, 50));
          continue;
        }
        jobs = await this.#o.queue.lease(free, {
          leaseMs: this.#o.leaseMs,
          blockMs: this.#o.blockMs,
        });
        errors = 0;
      } catch (e) {
        errors++;
        if (errors === 1 || errors % 20 === 0) {
          this.#o.logger?.warn("queue lease failed", {
            worker: this.#o.name,
            error: e,
          });
        }
        await this.#sleep(Math.min(200 * 2 ** Math.min(errors, 5), 5_000));
        continue;
      }
      for (const job of jobs) {
        const done = this.#handle(job).finally(() =>
          this.#inflight.delete(job.id)
        );
        this.#inflight.set(job.id, { job, done });
      }
      if (jobs.length === 0 && this.#o.blockMs === 0) await this.#sleep(50);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  async #handle(job: LeasedJob): Promise<void> {
    const q = this.#o.queue;
    const extend = setInterval(() => {
      q.extendLease(job.id, job.leaseToken, this.#o.leaseMs).catch(() => {});
    }, Math.max(Math.floor(this.#o.leaseMs / 3), 50));
    try {
      let outcome: JobOutcome;
      try {
        outcome = await this.#o.handle(job);
      } catch (e) {
        this.#o.logger?.error("job handler failed", {
          worker: this.#o.name,
          jobId: job.id,
          error: e,
        });
        outcome = { kind: "retry", error: (e as Error)?.message ?? String(e) };
      }
      await this.#settle(job, outcome);
    } finally {
      clearInterval(extend);
    }
  }

  /**
   * Ack or nack, retried (with the lease still extended) while the queue
   * is unreachable or cannot confirm the write — a Redis failover lasts
   * seconds, and an abandoned settle would leave the job leased until its
   * lease expires. Both are safe to repeat with the same token: a repeated
   * ack is a no-op, and a nack that went through makes the next attempt
   * fail with `LeaseLostError` (not retryable), which ends the retries.
   */
  async #settle(job: LeasedJob, outcome: JobOutcome): Promise<void> {
    const q = this.#o.queue;
    const until = Date.now() + Math.max(this.#o.leaseMs / 2, 1_000);
    for (let i = 0;; i++) {
      try {
        if (outcome.kind === "ack") {
          await q.ack(job.id, job.leaseToken);
          return;
        }
        const r = await q.nack(job.id, job.leaseToken, {
          error: outcome.error,
          retryAfterMs: outcome.retryAfterMs,
        });
        if (r.state === "dead") {
          this.#o.logger?.warn("job dead-lettered", {
            worker: this.#o.name,
            jobId: job.id,
            error: outcome.error,
          });
        }
        return;
      } catch (e) {
        // Not retryable (LeaseLostError among them): give up at once.
        const final = e instanceof QueueError && !e.retryable;
        if (final || i > 0 && Date.now() >= until || !this.#running) {
          // Lease lost (expired and reclaimed, or settled by an attempt
          // whose answer was lost): another holder will redo it.
          this.#o.logger?.warn("job settle failed", {
            worker: this.#o.name,
            jobId: job.id,
            error: e,
          });
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** i, 2_000)));
      }
    }
  }

  /**
   * Stop: no new leases; wait up to `graceMs` (default 10 s) for in-flight
   * jobs, then release the rest (nack, retry at once).
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    const pending = [...this.#inflight.values()];
    if (pending.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) =>
      timer = setTimeout(() => r("timeout"), graceMs)
    );
    const res = await Promise.race([
      Promise.all(pending.map((p) => p.done)).then(() => "done" as const),
      timeout,
    ]);
    clearTimeout(timer);
    if (res === "timeout") {
      for (const { job } of this.#inflight.values()) {
        await this.#o.queue.nack(job.id, job.leaseToken, {
          error: "released at shutdown",
          retryAfterMs: 0,
        })
          .catch(() => {});
      }
    }
  }
}
