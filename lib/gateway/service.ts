/**
 * The strategy service: SubmitStrategy (validate, dedup, persist, enqueue),
 * the diff job handler (lifecycle transitions around `diffAndCommit`),
 * RetireStrategy, and the recovery sweep. Handlers and the worker call it;
 * it knows nothing about HTTP.
 *
 * @module
 */

import { create, toBinary } from "@bufbuild/protobuf";
import {
  checkSubmitFields,
  decode,
  ErrorCode,
  isErrorCode,
  QmtlError,
  sha256Hex,
  verifyDag,
} from "../contracts/mod.ts";
import {
  type ErrorDetail,
  ErrorDetailSchema,
  type StrategyDag,
  StrategyDagSchema,
  StrategyState,
  type StrategyStatus,
  StrategyStatusSchema,
  type SubmitStrategyRequest,
  type SubmitStrategyResponse,
  SubmitStrategyResponseSchema,
} from "../contracts/messages.ts";
import { findCycle } from "../dag/cycle.ts";
import type { NodeRegistry } from "../dag/registry.ts";
import type { Job, LeasedJob, WorkQueue } from "../queue/types.ts";
import { RetryJobError } from "../queue/worker.ts";
import { INTERNAL_MESSAGE } from "./error_mapper/mod.ts";
import type { EventEmitter } from "./events/emitter.ts";
import type { Logger } from "./logger/mod.ts";
import type {
  EventPublisherClaim,
  PendingEvent,
  StrategyRecord,
  StrategyStore,
} from "./store/types.ts";
import type { TopicService } from "./topics/mod.ts";
import type { Principal } from "./types.ts";

/** What a diff-job step decided (thrown as a RetryJobError when "retry"). */
type JobOutcome =
  | { kind: "ack" }
  | { kind: "retry"; error: string; retryAfterMs?: number };
import { seesAllStrategies } from "./acl/mod.ts";
import {
  type AllowEntry,
  checkCallbackUrl,
} from "./webhooks/address_policy.ts";

/** Work-queue job kind of a diff job. */
export const DIFF_JOB = "diff";

/** Default of {@link StrategyServiceOptions.maxAttempts}. */
export const DEFAULT_DIFF_MAX_ATTEMPTS = 8;

/**
 * The `lastError` the queue gives a job whose lease expired (its holder
 * died or stalled): the attempt never finished.
 */
const LEASE_EXPIRED = "lease expired";

/**
 * Idempotency key of the diff job of a strategy's `generation`: enqueueing
 * it again returns the same job, so every path that makes sure a strategy
 * has its job (submission, duplicate submission, recovery sweep) is a
 * plain idempotent enqueue, with no store write after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diffJobKey } from "@qmtl/qmtl/gateway";
 * assert.equal(diffJobKey("st_1", 0), "diff:st_1:0");
 * ```
 */
export function diffJobKey(strategyId: string, generation: number): string {
  return `diff:${strategyId}:${generation}`;
}

/** The generation named by a diff job's idempotency key, if it has one. */
function generationOf(job: Job): number | undefined {
  const m = /^diff:[^:]+:(\d+)$/.exec(job.idempotencyKey ?? "");
  return m ? Number(m[1]) : undefined;
}

/**
 * How a failure of a diff bears on retrying it:
 *
 * - `permanent`: retrying cannot help (invalid or too big for the store,
 *   unknown input, …): the strategy goes FAILED at once;
 * - `transient`: the store was unavailable or answered with a transient
 *   fault: retried with backoff; counted toward the attempt bound only
 *   while the registry answers its health check (an outage leaves the
 *   strategy QUEUED for as long as it lasts);
 * - `unknown`: anything without a classification: retried like a
 *   transient fault, always counted.
 *
 * @example
 * ```ts
 * import type { FailureKind } from "@qmtl/qmtl/gateway";
 * const k: FailureKind = "permanent";
 * ```
 */
export type FailureKind = "permanent" | "transient" | "unknown";

/**
 * Classify a failure by its `retryable` flag (registry and queue errors
 * carry one: `UnavailableError` is retryable, a store rejection is not);
 * without the flag, by its QMTL code (`E_UNAVAILABLE` transient,
 * `E_INTERNAL` unknown, any other code permanent); anything else is
 * `unknown`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyFailure } from "@qmtl/qmtl/gateway";
 * import { RegistryError, UnavailableError } from "@qmtl/qmtl/dag";
 * assert.equal(classifyFailure(new UnavailableError("neo4j down")), "transient");
 * assert.equal(classifyFailure(new RegistryError("E_INVALID", "too large")), "permanent");
 * assert.equal(classifyFailure(new Error("?")), "unknown");
 * ```
 */
export function classifyFailure(e: unknown): FailureKind {
  const flag = (e as { retryable?: unknown } | null)?.retryable;
  if (flag === true) return "transient";
  if (flag === false) return "permanent";
  const code = (e as { code?: unknown } | null)?.code;
  if (isErrorCode(code)) {
    if (code === ErrorCode.E_UNAVAILABLE) return "transient";
    if (code === ErrorCode.E_INTERNAL) return "unknown";
    return "permanent";
  }
  return "unknown";
}

/**
 * A step of a diff job, as timed by `onDiffPhase`: `queue_wait` (enqueued →
 * leased, first attempt only), `start` (QUEUED → PROCESSING stored), `load`
 * (the DAG read back), `diff` (the registry's `diffAndCommit`), `topics`
 * (the node topics ensured), `complete` (PROCESSING → COMPLETED stored) and
 * `publish` (a transition's events appended to the event log; `start` and
 * `complete` include their own publish).
 *
 * @example
 * ```ts
 * import type { DiffPhase } from "@qmtl/qmtl/gateway";
 * const p: DiffPhase = "diff";
 * ```
 */
export type DiffPhase = typeof DIFF_PHASES[number];

/**
 * Every {@link DiffPhase}, in the order a diff job runs them.
 *
 * @example
 * ```ts
 * import { DIFF_PHASES } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * assert.equal(DIFF_PHASES[0], "queue_wait");
 * ```
 */
export const DIFF_PHASES = [
  "queue_wait",
  "start",
  "load",
  "diff",
  "topics",
  "complete",
  "publish",
] as const;

/**
 * Options of {@link StrategyService}.
 *
 * @example
 * ```ts
 * import { createEventEmitter, MemoryStrategyStore, StrategyService } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryEventLog, MemoryQueue } from "@qmtl/qmtl/queue";
 * const svc = new StrategyService({
 *   registry: new MemoryRegistry(),
 *   queue: new MemoryQueue(),
 *   store: new MemoryStrategyStore(),
 *   events: createEventEmitter({ log: new MemoryEventLog() }),
 * });
 * ```
 */
export interface StrategyServiceOptions {
  /** Global DAG. */
  registry: NodeRegistry;
  /** Diff-job queue. */
  queue: WorkQueue;
  /** Node topics: a diff creates its nodes' topics here. Default: none. */
  topics?: TopicService;
  /** Strategy store. */
  store: StrategyStore;
  /** Event emitter. */
  events: EventEmitter;
  /** Logger. */
  logger?: Logger;
  /**
   * Attempts of one diff before the strategy goes FAILED with the reason
   * (see {@link FailureKind}: permanent failures fail at once; transient
   * ones count while the registry is healthy; an attempt that never
   * finished — the worker died — counts too); default 8. Diff jobs are
   * dead-lettered by the queue after five times as many leases (a
   * backstop); the recovery sweep never re-queues a dead letter, it fails
   * the strategy with the reason.
   */
  maxAttempts?: number;
  /** Retry delay after `UnavailableError`, ms; default: the queue's backoff. */
  retryAfterMs?: number;
  /**
   * Fault injection (tests): `beforePublish` runs after a transition is
   * stored and before its event is appended; throwing there simulates a
   * crash in between.
   */
  hooks?: {
    /** Called before each pending event is published. */
    beforePublish?: (event: PendingEvent) => void | Promise<void>;
  };
  /** Called on every transition (metrics). */
  onTransition?: (from: StrategyState | undefined, to: StrategyState) => void;
  /**
   * Called with the duration of each step of a diff job, in seconds
   * (metrics, profiles): see {@link DiffPhase}.
   */
  onDiffPhase?: (phase: DiffPhase, seconds: number) => void;
  /**
   * How long a process's claim on publishing a strategy's pending events
   * lasts (renewed while it publishes), ms; default 15000. Only the holder
   * appends a strategy's events, in order; when it dies, another process
   * (the next transition, or the recovery sweep) takes over once the claim
   * has lapsed.
   */
  pendingEventGraceMs?: number;
  /**
   * While the registry is down (a transient failure and a failed health
   * check), the worker stops leasing diff jobs and checks the registry's
   * health this often, ms; default 1000.
   */
  registryCheckMs?: number;
  /**
   * Callback hosts admitted besides public addresses (see
   * `parseAllowHosts`); a callback URL to any other loopback, private,
   * link-local… address is refused with `E_INVALID` at submit.
   */
  callbackAllowHosts?: readonly AllowEntry[];
}

/**
 * Canonical form of a strategy id: `st_` + 24 hex digits of
 * sha256(owner + "\n" + dagHash). Same owner + same DAG → same id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strategyIdOf } from "@qmtl/qmtl/gateway";
 * assert.equal(strategyIdOf("alice", "sha256:" + "0".repeat(64)).length, 27);
 * ```
 */
export function strategyIdOf(owner: string, dagHash: string): string {
  return "st_" + sha256Hex(`${owner}\n${dagHash}`).slice(0, 24);
}

/** Codes whose registry messages describe the input (safe for a client). */
const INPUT_CODES: ReadonlySet<string> = new Set([
  ErrorCode.E_CYCLE,
  ErrorCode.E_UNKNOWN_INPUT,
  ErrorCode.E_INVALID,
  ErrorCode.E_NOT_FOUND,
  ErrorCode.E_CONFLICT,
  ErrorCode.E_PAYLOAD_TOO_LARGE,
  ErrorCode.E_DUPLICATE,
  ErrorCode.E_POLICY,
  ErrorCode.E_NODE_ID_MISMATCH,
  ErrorCode.E_CHECKSUM_MISMATCH,
]);

/**
 * The error a client reads on its strategy: typed input errors keep their
 * message; anything else gets a generic one (the store's own text stays in
 * the gateway log).
 */
function clientDetail(e: unknown): ErrorDetail {
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof QmtlError && INPUT_CODES.has(e.code)) {
    return e.toErrorDetail();
  }
  if (code === ErrorCode.E_UNAVAILABLE) {
    return create(ErrorDetailSchema, {
      code: ErrorCode.E_UNAVAILABLE,
      message: "the registry was unavailable",
    });
  }
  return create(ErrorDetailSchema, {
    code: ErrorCode.E_INTERNAL,
    message: INTERNAL_MESSAGE,
  });
}

function isRetryable(e: unknown): boolean {
  return (e as { retryable?: unknown } | null)?.retryable === true;
}

function isConflict(e: unknown): boolean {
  return e instanceof QmtlError && e.code === ErrorCode.E_CONFLICT;
}

function validCallback(url: string, allow: readonly AllowEntry[]): void {
  if (url === "") return;
  try {
    checkCallbackUrl(url, allow);
  } catch (e) {
    throw new QmtlError("E_INVALID", (e as Error).message, {
      field: "callback_url",
    });
  }
}

/**
 * The DAGs of recent submissions, by strategy id, bounded by their total node
 * count (oldest dropped first); a diff job takes its DAG out.
 */
class RecentDags {
  readonly #dags = new Map<string, StrategyDag>();
  #nodes = 0;
  constructor(readonly maxNodes: number) {}

  put(id: string, dag: StrategyDag): void {
    if (dag.nodes.length > this.maxNodes || this.#dags.has(id)) return;
    this.#dags.set(id, dag);
    this.#nodes += dag.nodes.length;
    for (const [old, d] of this.#dags) {
      if (this.#nodes <= this.maxNodes) break;
      this.#dags.delete(old);
      this.#nodes -= d.nodes.length;
    }
  }

  take(id: string): StrategyDag | undefined {
    const dag = this.#dags.get(id);
    if (dag !== undefined) {
      this.#dags.delete(id);
      this.#nodes -= dag.nodes.length;
    }
    return dag;
  }
}

/**
 * Strategy lifecycle operations.
 *
 * @example
 * ```ts
 * import type { StrategyService, SubmitStrategyRequest } from "@qmtl/qmtl/gateway";
 * async function submitAsAlice(svc: StrategyService, request: SubmitStrategyRequest) {
 *   const ack = await svc.submit({ subject: "alice", roles: ["submitter"] }, request);
 *   return ack.strategyId;
 * }
 * ```
 */
export class StrategyService {
  #o: StrategyServiceOptions;
  /** This process's identity as a publisher of pending events. */
  readonly #token: string = crypto.randomUUID();
  /**
   * Strategies whose events this process is publishing right now, each
   * with what settles when that publisher stops.
   */
  readonly #publishing = new Map<string, PromiseWithResolvers<void>>();
  /** Publishes started without waiting for them (see {@link idle}). */
  readonly #background = new Set<Promise<unknown>>();
  /** …and those with a transition made meanwhile (re-read before stopping). */
  readonly #dirty = new Set<string>();
  #registryDown: { since: number; checkedAt: number } | undefined;

  /**
   * Build the service.
   *
   * @param options backends
   */
  constructor(options: StrategyServiceOptions) {
    this.#o = options;
  }

  /** Store (for read handlers). */
  get store(): StrategyStore {
    return this.#o.store;
  }

  /** Attempts of one diff before the strategy goes FAILED. */
  get maxAttempts(): number {
    return Math.max(1, this.#o.maxAttempts ?? DEFAULT_DIFF_MAX_ATTEMPTS);
  }

  /** Leases of one diff job before the queue dead-letters it (a backstop). */
  get jobMaxAttempts(): number {
    return Math.max(20, this.maxAttempts * 5);
  }

  #recent = new RecentDags(20_000);

  #buildEvent = (
    status: StrategyStatus,
    from: StrategyState | undefined,
    seq: number,
  ) => this.#o.events.build(status, from, seq);

  get #claimMs(): number {
    return this.#o.pendingEventGraceMs ?? 15_000;
  }

  #claim(untilMs?: number): EventPublisherClaim {
    return {
      token: this.#token,
      untilMs: untilMs ?? Date.now() + this.#claimMs,
    };
  }

  async #transition(
    id: string,
    from: StrategyState[],
    to: StrategyState,
    extra: Omit<Parameters<StrategyStore["transition"]>[1], "from" | "to"> = {},
    publish: "wait" | "background" = "wait",
  ): Promise<StrategyRecord> {
    // The event is recorded in the record by the same compare-and-set, so
    // an acknowledged transition always has its event: published here, or
    // by whoever holds the claim on the strategy's events, or by the
    // recovery sweep if that process dies first.
    const r = await this.#o.store.transition(id, {
      from,
      to,
      ...extra,
      event: this.#buildEvent,
      claim: this.#claim(),
    });
    if (r.from !== to) {
      this.#o.onTransition?.(r.from, to);
      const t0 = performance.now();
      const published = this.#publish(r.record).then(() =>
        this.#phase("publish", t0)
      );
      if (publish === "wait") await published;
      else {
        // The next transition of the strategy joins this publisher (its
        // events come after), so order is kept without waiting here.
        // Nothing waits for it: a failure here (publishing itself never
        // throws; a phase observer might) is logged, never left unhandled.
        this.#background.add(published);
        published.catch((error) =>
          this.#o.logger?.warn("event publish failed", {
            strategyId: id,
            error,
          })
        ).finally(() => this.#background.delete(published));
      }
    }
    return r.record;
  }

  /**
   * Settles when the event publishes started without waiting for them (the
   * PROCESSING event of a diff job, published while the diff runs) are
   * done. A gateway waits for it when it closes.
   *
   * @example
   * ```ts ignore
   * await service.idle();
   * ```
   */
  async idle(): Promise<void> {
    while (this.#background.size > 0) {
      await Promise.allSettled([...this.#background]);
    }
  }

  /**
   * Publish a record's pending events in order, then clear them from the
   * record, while this process holds the claim on them (taking it when it
   * is free or lapsed). One publisher per strategy at a time keeps the
   * event log in transition order with every event once; a process that
   * finds another live claim leaves its events to that holder, whose
   * clearing compare-and-set returns them. Failures are logged, not
   * thrown: the transition already happened, and the events stay pending
   * (claim released) for the next attempt.
   *
   * Settles when this publisher stops: it goes on while later transitions
   * of the strategy mark it dirty (their publishes join it). With `own`,
   * it settles as soon as the events of `first` are out and cleared
   * instead, and the rest of the publishing goes on in the background (a
   * submission's ack does not wait for the events of the diff job that
   * its worker may already be running).
   */
  #publish(
    first: StrategyRecord,
    confirmed = true,
    own = false,
  ): Promise<number> {
    if (!own) return this.#publishLoop(first, confirmed);
    const out = Promise.withResolvers<number>();
    // The loop never throws; it settles `out` itself if `first` had
    // nothing of its own to publish. What it goes on to publish belongs to
    // later transitions, whose own publishes joined it: they wait for it
    // (or `idle()` does, for those started in the background).
    this.#publishLoop(first, confirmed, out.resolve).then(out.resolve);
    return out.promise;
  }

  async #publishLoop(
    first: StrategyRecord,
    confirmed: boolean,
    ownOut?: (published: number) => void,
  ): Promise<number> {
    const id = first.status.strategyId;
    const running = this.#publishing.get(id);
    if (running) {
      // That publisher re-reads the record before it stops: wait for it.
      this.#dirty.add(id);
      await running.promise;
      return 0;
    }
    const stopped = Promise.withResolvers<void>();
    this.#publishing.set(id, stopped);
    let published = 0;
    try {
      let rec: StrategyRecord = first;
      let sure = confirmed;
      for (let round = 0; round < 100; round++) {
        if (!rec.pendingEvents?.length) {
          if (!this.#dirty.delete(id)) break;
          const fresh = await this.#o.store.get(id);
          if (!fresh) break;
          rec = fresh;
          sure = false;
          continue;
        }
        // Events are published only from a record a confirmed write
        // returned (a plain read may show a transition a failover is
        // about to lose): a read is confirmed by taking the claim.
        const p = rec.publisher;
        if (
          !sure || p?.token !== this.#token ||
          p.untilMs < Date.now() + this.#claimMs / 2
        ) {
          const claimed = await this.#o.store.claimEvents(id, this.#claim());
          if (!claimed) break; // another live publisher has them
          rec = claimed;
          sure = true;
        }
        const done: string[] = [];
        let failure: unknown;
        for (const e of rec.pendingEvents ?? []) {
          try {
            await this.#o.hooks?.beforePublish?.(e);
            await this.#o.events.publish(e, rec.status);
            done.push(e.id);
          } catch (err) {
            failure = err ?? new Error("publish failed");
            break;
          }
        }
        published += done.length;
        // On failure the claim is released (lapsed at once) so that any
        // process may retry; otherwise renewed while events remain.
        const after = await this.#o.store.clearPendingEvents(
          id,
          done,
          this.#claim(failure === undefined ? undefined : 0),
        );
        // The events `first` came with were published in this round.
        ownOut?.(published);
        if (failure !== undefined) {
          this.#o.logger?.warn(
            "event not yet published; it stays pending for the recovery sweep",
            { strategyId: id, error: failure },
          );
          break;
        }
        if (!after) break;
        rec = after;
      }
    } catch (err) {
      this.#o.logger?.warn("could not publish or clear pending events", {
        strategyId: id,
        error: err,
      });
    } finally {
      this.#publishing.delete(id);
      this.#dirty.delete(id);
      stopped.resolve();
    }
    return published;
  }

  /**
   * Validate, dedup, persist and enqueue a submission. Nothing is written
   * when validation fails. A submission of a strategy that is already
   * accepted is always answered OK (`duplicate: true`) with its state; a
   * FAILED one is queued again.
   */
  async submit(
    principal: Principal,
    req: SubmitStrategyRequest,
  ): Promise<SubmitStrategyResponse> {
    const dag = req.dag;
    if (dag === undefined) {
      throw new QmtlError(ErrorCode.E_INVALID, "dag is required", {
        field: "dag",
      });
    }
    const cycle = findCycle(
      new Map(dag.nodes.map((n) => [n.nodeId, n.inputs])),
    );
    if (cycle) {
      throw new QmtlError(
        ErrorCode.E_CYCLE,
        `dependency cycle: ${cycle.join(" → ")}`,
        {
          field: "dag.nodes",
          nodeId: cycle[0],
          details: { path: cycle.join(",") },
        },
      );
    }
    const verified = verifyDag(dag);
    checkSubmitFields(req);
    validCallback(req.callbackUrl, this.#o.callbackAllowHosts ?? []);
    await this.#checkExternalInputs(verified.externalInputs, dag);
    const owner = principal.subject;
    const strategyId = strategyIdOf(owner, verified.dagHash);
    const now = Date.now();
    const status: StrategyStatus = create(StrategyStatusSchema, {
      strategyId,
      owner,
      version: req.version || "1",
      state: StrategyState.QUEUED,
      dagHash: verified.dagHash,
      queueMap: {},
      reused: [],
      created: [],
      sentinelId: "",
      attempts: 0,
      nodeCount: dag.nodes.length,
      createdAtMs: now,
      updatedAtMs: now,
      callbackUrl: req.callbackUrl,
      name: dag.name,
    });
    const { created, record } = await this.#o.store.create(
      status,
      toBinary(StrategyDagSchema, dag),
      this.#buildEvent,
      this.#claim(),
    );
    let rec = record;
    if (created) {
      // The diff job usually runs in this process moments later: hand it
      // the decoded DAG instead of decoding the stored bytes again.
      this.#recent.put(strategyId, dag);
      this.#o.onTransition?.(undefined, StrategyState.QUEUED);
      // The QUEUED event and the job at once (the job's PROCESSING event,
      // if its worker is quick, is published after QUEUED by the same
      // publisher; the ack waits for QUEUED only). Enqueue is idempotent (key `diff:{id}:0`) and writes
      // nothing to the store: if it fails, the client's retry (a
      // duplicate) or the recovery sweep enqueues the same job.
      await Promise.all([this.#publish(rec, true, true), this.#ensureJob(rec)]);
    } else {
      rec = await this.#accepted(rec);
    }
    return create(SubmitStrategyResponseSchema, {
      strategyId,
      state: rec.status.state,
      dagHash: verified.dagHash,
      duplicate: !created,
    });
  }

  /**
   * A duplicate submission of an existing strategy: FAILED is queued again;
   * QUEUED / PROCESSING make sure their job exists (idempotent enqueue);
   * anything else is answered as it is. A race with another gateway (a
   * lost compare-and-set) is settled by reading the record again, never
   * answered with a conflict.
   */
  async #accepted(first: StrategyRecord): Promise<StrategyRecord> {
    let rec = first;
    const id = rec.status.strategyId;
    for (let i = 0; i < 5; i++) {
      try {
        const state = rec.status.state;
        if (state === StrategyState.FAILED) {
          return await this.#requeue(rec);
        }
        if (
          state === StrategyState.QUEUED || state === StrategyState.PROCESSING
        ) {
          return await this.#ensureJob(rec);
        }
        return rec;
      } catch (e) {
        if (!isConflict(e)) throw e;
        const fresh = await this.#o.store.get(id);
        if (!fresh) throw e;
        rec = fresh;
      }
    }
    return rec;
  }

  /** FAILED → QUEUED in a new diff generation (its own job). */
  async #requeue(rec: StrategyRecord): Promise<StrategyRecord> {
    const next = await this.#transition(
      rec.status.strategyId,
      [StrategyState.FAILED],
      StrategyState.QUEUED,
      {
        clearError: true,
        expectGeneration: rec.generation,
        generation: rec.generation + 1,
        strikes: 0,
        jobId: "",
      },
    );
    return await this.#ensureJob(next);
  }

  /**
   * Operator re-queue: a FAILED strategy goes back to QUEUED with a new
   * diff job (what a resubmission by its owner does). The queue-level
   * `requeueDead` of a dead-lettered diff job does not revive its strategy
   * (the recovery sweep has failed it): use this instead.
   *
   * @throws {QmtlError} `E_NOT_FOUND`, or `E_CONFLICT` unless FAILED
   */
  async requeue(id: string): Promise<StrategyStatus> {
    const rec = await this.#o.store.get(id);
    if (!rec) {
      throw new QmtlError("E_NOT_FOUND", `no strategy ${id}`, {
        field: "strategy_id",
      });
    }
    if (rec.status.state !== StrategyState.FAILED) {
      throw new QmtlError(
        "E_CONFLICT",
        `strategy ${id} is ${
          StrategyState[rec.status.state]
        }; only FAILED strategies can be re-queued`,
      );
    }
    return (await this.#requeue(rec)).status;
  }

  async #checkExternalInputs(
    inputs: string[],
    dag: StrategyDag,
  ): Promise<void> {
    if (inputs.length === 0) return;
    const usedBy = (input: string) =>
      dag.nodes.find((n) => n.inputs.includes(input))?.nodeId ?? "";
    try {
      for (let i = 0; i < inputs.length; i += 16) {
        const batch = inputs.slice(i, i + 16);
        const found = await Promise.all(
          batch.map((id) => this.#o.registry.getNode(id)),
        );
        const missing = batch.find((_, j) => found[j] === null);
        if (missing !== undefined) {
          throw new QmtlError(
            ErrorCode.E_UNKNOWN_INPUT,
            `input ${missing} is neither in the DAG nor in the registry`,
            {
              nodeId: usedBy(missing),
              field: "dag.nodes.inputs",
              details: { input: missing },
            },
          );
        }
      }
    } catch (e) {
      // Registry down: accept; the diff re-checks and fails the strategy
      // with E_UNKNOWN_INPUT if the input really does not exist.
      if (isRetryable(e)) {
        this.#o.logger?.warn(
          "registry unavailable during submit; input check deferred to the diff",
          {
            error: e,
          },
        );
        return;
      }
      throw e;
    }
  }

  /**
   * Make sure a QUEUED / PROCESSING strategy has the diff job of its
   * generation: an idempotent enqueue (key {@link diffJobKey}). A job the
   * queue dead-lettered is never re-queued: the strategy goes FAILED with
   * the reason. A job acknowledged while its strategy still waits (which a
   * correct worker never does) is replaced by a new generation.
   */
  async #ensureJob(rec: StrategyRecord): Promise<StrategyRecord> {
    const id = rec.status.strategyId;
    const { job } = await this.#o.queue.enqueue(
      DIFF_JOB,
      new TextEncoder().encode(id),
      {
        idempotencyKey: diffJobKey(id, rec.generation),
        maxAttempts: this.jobMaxAttempts,
      },
    );
    if (job.state !== "dead" && job.state !== "done") return rec;
    // The job is over: look at the strategy as it is now (the worker may
    // have settled it since `rec` was read).
    const cur = await this.#o.store.get(id);
    if (
      !cur || cur.generation !== rec.generation ||
      (cur.status.state !== StrategyState.QUEUED &&
        cur.status.state !== StrategyState.PROCESSING)
    ) return cur ?? rec;
    try {
      if (job.state === "dead") return await this.#failDeadLetter(cur, job);
      this.#o.logger?.warn(
        "diff job acknowledged while its strategy still waits; enqueueing a new generation",
        {
          strategyId: id,
          jobId: job.id,
          state: StrategyState[cur.status.state],
        },
      );
      const state = cur.status.state;
      const next = await this.#o.store.transition(id, {
        from: [state],
        to: state,
        expectGeneration: cur.generation,
        generation: cur.generation + 1,
        strikes: 0,
        jobId: "",
      });
      return await this.#ensureJob(next.record);
    } catch (e) {
      if (!isConflict(e)) throw e;
      return (await this.#o.store.get(id)) ?? cur;
    }
  }

  /** The strategy of a dead-lettered diff job goes FAILED with the reason. */
  async #failDeadLetter(
    rec: StrategyRecord,
    job: Job,
  ): Promise<StrategyRecord> {
    const id = rec.status.strategyId;
    this.#o.logger?.warn(
      "diff job dead-lettered: the strategy is FAILED (not re-queued)",
      {
        strategyId: id,
        jobId: job.id,
        attempts: job.attempts,
        lastError: job.lastError,
      },
    );
    return await this.#transition(
      id,
      [StrategyState.QUEUED, StrategyState.PROCESSING],
      StrategyState.FAILED,
      {
        expectGeneration: rec.generation,
        patch: {
          error: create(ErrorDetailSchema, {
            code: ErrorCode.E_INTERNAL,
            message:
              `the diff job was given up after ${job.attempts} attempts; resubmit the strategy to try again`,
            details: {
              reason: "dead_letter",
              attempts: String(job.attempts),
              jobId: job.id,
            },
          }),
        },
      },
    );
  }

  /**
   * Recovery of events: publish the pending events of every strategy that
   * has some and whose publisher's claim has lapsed (or is this
   * process's). Returns how many were published.
   */
  async republishPendingEvents(limit = 1000): Promise<number> {
    let n = 0;
    const now = Date.now();
    for (const id of await this.#o.store.idsWithPendingEvents(limit)) {
      const rec = await this.#o.store.get(id);
      if (!rec?.pendingEvents?.length) continue;
      const p = rec.publisher;
      if (p && p.token !== this.#token && p.untilMs > now) continue;
      n += await this.#publish(rec, false);
    }
    if (n > 0) {
      this.#o.logger?.info("recovery sweep published pending events", {
        count: n,
      });
    }
    return n;
  }

  /**
   * Recovery sweep: publishes pending events (see
   * {@link StrategyService.republishPendingEvents}), and makes sure every
   * QUEUED / PROCESSING strategy has the job of its generation (an
   * idempotent enqueue; a dead-lettered job fails its strategy with the
   * reason instead of being re-queued). Returns how many jobs were
   * enqueued anew.
   */
  async sweep(limit = 1000): Promise<number> {
    await this.republishPendingEvents(limit);
    const ids = await this.#o.store.idsInStates([
      StrategyState.QUEUED,
      StrategyState.PROCESSING,
    ], limit);
    let n = 0;
    for (const id of ids) {
      const rec = await this.#o.store.get(id);
      if (!rec) continue;
      if (
        rec.status.state !== StrategyState.QUEUED &&
        rec.status.state !== StrategyState.PROCESSING
      ) continue;
      if (rec.jobId !== "") {
        const job = await this.#o.queue.get(rec.jobId);
        if (job && job.state !== "done" && job.state !== "dead") continue;
      }
      try {
        const { created } = await this.#o.queue.enqueue(
          DIFF_JOB,
          new TextEncoder().encode(id),
          {
            idempotencyKey: diffJobKey(id, rec.generation),
            maxAttempts: this.jobMaxAttempts,
          },
        );
        if (created) n++;
        else await this.#ensureJob(rec);
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    if (n > 0) {
      this.#o.logger?.info("recovery sweep re-enqueued strategies", {
        count: n,
      });
    }
    return n;
  }

  /**
   * For the worker's lease loop: false while the registry is down (a
   * transient diff failure and a failed health check), so that no job is
   * leased, tried and counted during an outage; the health is checked
   * again every `registryCheckMs`.
   */
  async registryReady(): Promise<boolean> {
    const down = this.#registryDown;
    if (!down) return true;
    const now = Date.now();
    if (now - down.checkedAt < (this.#o.registryCheckMs ?? 1_000)) {
      return false;
    }
    down.checkedAt = now;
    const h = await this.#o.registry.health().catch(() => ({ ok: false }));
    if (!h.ok) return false;
    this.#registryDown = undefined;
    this.#o.logger?.info("registry answers again; diffs resume", {
      downMs: now - down.since,
    });
    return true;
  }

  /** True when the registry answers its health check (an outage otherwise). */
  async #registryHealthy(): Promise<boolean> {
    const h = await this.#o.registry.health().catch((e) => ({
      ok: false,
      detail: String(e),
    }));
    if (h.ok) return true;
    if (!this.#registryDown) {
      const now = Date.now();
      this.#registryDown = { since: now, checkedAt: now };
      this.#o.logger?.warn(
        "registry unavailable: diffs paused (strategies stay QUEUED) until it answers",
        { detail: h.detail },
      );
    }
    return false;
  }

  /**
   * Handle one leased diff job (a queue `JobHandler`: the gateway's
   * `QueueWorker` runs it). Resolves when the job is done (acknowledge it);
   * throws {@link RetryJobError} to give it back for a retry after its delay,
   * or any other error for an unexpected fault. A compare-and-set lost to
   * another worker is settled on the next lease (the job comes back at once
   * and finds the strategy settled or superseded), not reported as a
   * failure.
   */
  async processDiffJob(job: LeasedJob): Promise<void> {
    let outcome: JobOutcome;
    try {
      outcome = await this.#processDiffJob(job);
    } catch (e) {
      if (!isConflict(e)) throw e;
      this.#o.logger?.debug(
        "diff job lost a race; settling on the next lease",
        {
          jobId: job.id,
          error: (e as Error).message,
        },
      );
      outcome = { kind: "retry", error: "lost a race", retryAfterMs: 0 };
    }
    if (outcome.kind === "retry") {
      throw new RetryJobError(outcome.error, outcome.retryAfterMs);
    }
  }

  /** Reports a diff-job step that began at `t0` (`performance.now()`). */
  #phase(phase: DiffPhase, t0: number): void {
    this.#o.onDiffPhase?.(phase, (performance.now() - t0) / 1_000);
  }

  async #processDiffJob(job: LeasedJob): Promise<JobOutcome> {
    if (job.attempts === 1 && this.#o.onDiffPhase) {
      const since = Math.max(job.createdAtMs, job.notBeforeMs);
      this.#o.onDiffPhase(
        "queue_wait",
        Math.max(0, Date.now() - since) / 1_000,
      );
    }
    const id = new TextDecoder().decode(job.payload);
    const rec = await this.#o.store.get(id);
    if (!rec) {
      // Never acknowledged without its effect: a job of a strategy this
      // gateway's store does not know belongs to another deployment that
      // shares the queue (a namespace mismatch). Left in the queue.
      this.#o.logger?.error(
        "diff job for a strategy this gateway's store does not know: left in the queue (do two deployments share a namespace?)",
        { strategyId: id, jobId: job.id },
      );
      return {
        kind: "retry",
        error: `strategy ${id} is unknown to this gateway's store`,
        retryAfterMs: 60_000,
      };
    }
    const gen = generationOf(job);
    const superseded = gen !== undefined
      ? gen !== rec.generation
      : rec.jobId !== "" && rec.jobId !== job.id;
    if (superseded) return { kind: "ack" };
    const max = this.maxAttempts;
    const attempts = rec.status.attempts + 1;
    let strikes = rec.strikes ?? 0;
    if (rec.status.state === StrategyState.QUEUED) {
      const t0 = performance.now();
      await this.#transition(
        id,
        [StrategyState.QUEUED],
        StrategyState.PROCESSING,
        {
          patch: { attempts },
          expectGeneration: rec.generation,
          expectJobId: rec.jobId,
          jobId: job.id,
        },
        "background",
      );
      this.#phase("start", t0);
    } else if (rec.status.state === StrategyState.PROCESSING) {
      // The previous attempt did not settle: its holder died or stalled
      // (the queue reclaimed the lease), or another job of this generation
      // held it. That attempt counts; the diff is redone (idempotent).
      if (rec.jobId !== job.id || job.lastError === LEASE_EXPIRED) strikes++;
      if (strikes >= max) {
        return await this.#exhausted(
          id,
          rec.jobId,
          ErrorCode.E_INTERNAL,
          `the diff did not finish in ${strikes} attempts (the worker stopped or lost its lease each time)`,
          strikes,
        );
      }
      await this.#transition(
        id,
        [StrategyState.PROCESSING],
        StrategyState.PROCESSING,
        {
          patch: { attempts },
          strikes,
          expectJobId: rec.jobId,
          jobId: job.id,
        },
      );
    } else {
      return { kind: "ack" }; // settled (COMPLETED, FAILED, RETIRED)
    }
    let t0 = performance.now();
    let dag = this.#recent.take(id);
    if (dag === undefined) {
      const bytes = await this.#o.store.getDag(id);
      try {
        if (!bytes) throw new Error("no stored DAG");
        dag = decode(StrategyDagSchema, bytes);
      } catch (e) {
        this.#o.logger?.error("stored DAG unreadable", {
          strategyId: id,
          error: e,
        });
        await this.#fail(id, job.id, {
          code: ErrorCode.E_INTERNAL,
          message: "the stored DAG of this strategy cannot be read",
        }, strikes);
        return { kind: "ack" };
      }
    }
    this.#phase("load", t0);
    let diff: Awaited<ReturnType<NodeRegistry["diffAndCommit"]>>;
    t0 = performance.now();
    try {
      diff = await this.#o.registry.diffAndCommit(dag, {
        strategyId: id,
        version: rec.status.version,
        owner: rec.status.owner,
        dagHash: rec.status.dagHash,
      });
    } catch (e) {
      return await this.#diffFailed(id, job, strikes, attempts, e);
    }
    this.#phase("diff", t0);
    t0 = performance.now();
    try {
      // Every topic of the queue map, not only the created ones: a crash
      // between the registry commit and here leaves nodes "reused" on the
      // retry whose topics must still be made. Creating is idempotent.
      await this.#o.topics?.ensure(Object.values(diff.queueMap));
    } catch (e) {
      if (classifyFailure(e) === "permanent") {
        this.#o.logger?.warn("topic creation refused", {
          strategyId: id,
          error: e,
        });
        await this.#fail(id, job.id, clientDetail(e), strikes);
        return { kind: "ack" };
      }
      // The topic store (Redis) is infrastructure: retried, not counted.
      this.#o.logger?.warn("topic creation deferred", {
        strategyId: id,
        error: e,
      });
      await this.#transition(
        id,
        [StrategyState.PROCESSING],
        StrategyState.QUEUED,
        {
          patch: {
            error: create(ErrorDetailSchema, {
              code: ErrorCode.E_UNAVAILABLE,
              message: "the topic store was unavailable",
            }),
          },
          expectJobId: job.id,
        },
      );
      return {
        kind: "retry",
        error: "topic store unavailable",
        retryAfterMs: this.#o.retryAfterMs,
      };
    }
    this.#phase("topics", t0);
    t0 = performance.now();
    await this.#transition(
      id,
      [StrategyState.PROCESSING],
      StrategyState.COMPLETED,
      {
        patch: {
          queueMap: diff.queueMap,
          reused: diff.reused,
          created: diff.created,
          sentinelId: diff.sentinelId,
        },
        clearError: true,
        expectJobId: job.id,
      },
    );
    this.#phase("complete", t0);
    return { kind: "ack" };
  }

  /**
   * A failed diff: permanent → FAILED now; transient during an outage →
   * QUEUED again, not counted (the loop pauses until the registry
   * answers); otherwise counted, and FAILED once the attempts are spent.
   */
  async #diffFailed(
    id: string,
    job: LeasedJob,
    strikes: number,
    attempts: number,
    e: unknown,
  ): Promise<JobOutcome> {
    const kind = classifyFailure(e);
    const detail = clientDetail(e);
    if (kind === "permanent") {
      this.#o.logger?.warn("diff failed (permanent)", {
        strategyId: id,
        code: detail.code,
        message: detail.message,
        error: e,
      });
      await this.#fail(id, job.id, detail, strikes);
      return { kind: "ack" };
    }
    const counted = kind === "unknown" || await this.#registryHealthy();
    const s = counted ? strikes + 1 : strikes;
    if (s >= this.maxAttempts) {
      this.#o.logger?.warn("diff failed: attempts exhausted", {
        strategyId: id,
        attempts: s,
        kind,
        error: e,
      });
      return await this.#exhausted(
        id,
        job.id,
        detail.code,
        `gave up after ${s} failed attempts: ${detail.message}`,
        s,
      );
    }
    await this.#transition(
      id,
      [StrategyState.PROCESSING],
      StrategyState.QUEUED,
      {
        patch: { error: detail },
        strikes: s,
        expectJobId: job.id,
      },
    );
    this.#o.logger?.warn(
      counted ? "diff failed; retrying" : "diff deferred: registry unavailable",
      { strategyId: id, attempts, counted: s, kind, error: e },
    );
    return {
      kind: "retry",
      error: detail.message,
      retryAfterMs: this.#o.retryAfterMs,
    };
  }

  /**
   * PROCESSING → FAILED because the diff ran out of attempts (details
   * `reason: "attempts_exhausted"`, `attempts`); the job is done with.
   *
   * @param id the strategy
   * @param jobId the job that holds it
   * @param code the error code the client sees
   * @param message the client-readable reason
   * @param strikes the attempts counted
   * @returns `{ kind: "ack" }`
   * @example
   * ```ts ignore
   * return await this.#exhausted(id, job.id, "E_INTERNAL", "gave up", 3);
   * ```
   */
  async #exhausted(
    id: string,
    jobId: string,
    code: string,
    message: string,
    strikes: number,
  ): Promise<JobOutcome> {
    await this.#fail(id, jobId, {
      code,
      message,
      details: { reason: "attempts_exhausted", attempts: String(strikes) },
    }, strikes);
    return { kind: "ack" };
  }

  /** PROCESSING → FAILED with a client-readable reason. */
  async #fail(
    id: string,
    jobId: string,
    error: {
      code: string;
      message: string;
      nodeId?: string;
      field?: string;
      details?: Record<string, string>;
    },
    strikes: number,
  ): Promise<void> {
    await this.#transition(
      id,
      [StrategyState.PROCESSING],
      StrategyState.FAILED,
      {
        patch: { error: create(ErrorDetailSchema, error) },
        strikes,
        expectJobId: jobId,
      },
    );
  }

  /** A strategy the principal may see, or `E_NOT_FOUND`. */
  async visible(
    principal: Principal | undefined,
    id: string,
  ): Promise<StrategyRecord> {
    const rec = await this.#o.store.get(id);
    if (
      !rec ||
      (!seesAllStrategies(principal) && rec.status.owner !== principal?.subject)
    ) {
      throw new QmtlError("E_NOT_FOUND", `no strategy ${id}`, {
        field: "strategy_id",
      });
    }
    return rec;
  }

  /** Retire a COMPLETED strategy (idempotent for RETIRED). */
  async retire(principal: Principal, id: string): Promise<StrategyStatus> {
    const rec = await this.visible(principal, id);
    const mayRetireAny = principal.roles.includes("operator") ||
      principal.roles.includes("service");
    if (!mayRetireAny && rec.status.owner !== principal.subject) {
      throw new QmtlError(
        "E_FORBIDDEN",
        `only the owner or an operator may retire ${id}`,
      );
    }
    if (rec.status.state === StrategyState.RETIRED) return rec.status;
    if (rec.status.state !== StrategyState.COMPLETED) {
      throw new QmtlError(
        "E_CONFLICT",
        `strategy ${id} is ${
          StrategyState[rec.status.state]
        }; only COMPLETED strategies can be retired`,
      );
    }
    await this.#o.registry.retireVersion(id, rec.status.version);
    const out = await this.#transition(
      id,
      [StrategyState.COMPLETED],
      StrategyState.RETIRED,
    );
    return out.status;
  }
}
