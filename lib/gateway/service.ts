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
  QmtlError,
  sha256Hex,
  verifyDag,
} from "../contracts/mod.ts";
import {
  type ErrorDetail,
  type StrategyDag,
  StrategyDagSchema,
  StrategyState,
  type StrategyStatus,
  StrategyStatusSchema,
  type SubmitStrategyRequest,
  type SubmitStrategyResponse,
  SubmitStrategyResponseSchema,
} from "../contracts/messages.ts";
import { RegistryError } from "../dag/errors.ts";
import type { NodeRegistry } from "../dag/registry.ts";
import type { LeasedJob, WorkQueue } from "../queue/types.ts";
import type { EventEmitter } from "./events/emitter.ts";
import type { Logger } from "./logger/mod.ts";
import type {
  PendingEvent,
  StrategyRecord,
  StrategyStore,
} from "./store/types.ts";
import type { JobOutcome } from "./worker/loop.ts";
import type { TopicService } from "./topics/mod.ts";
import type { Principal } from "./types.ts";
import { seesAllStrategies } from "./acl/mod.ts";
import { toQmtlError } from "./error_mapper/mod.ts";
import {
  type AllowEntry,
  checkCallbackUrl,
} from "./webhooks/address_policy.ts";

/** Work-queue job kind of a diff job. */
export const DIFF_JOB = "diff";

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
  /** Dead-letter a diff job after this many attempts (the sweep re-enqueues); default 20. */
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
   * The recovery sweep re-publishes pending events recorded at least this
   * long ago (younger ones are most likely being published right now by
   * the process that made the transition), ms; default 5000.
   */
  pendingEventGraceMs?: number;
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
 * import { strategyIdOf } from "@qmtl/qmtl/gateway";
 * strategyIdOf("alice", "sha256:" + "0".repeat(64)).length; // 27
 * ```
 */
export function strategyIdOf(owner: string, dagHash: string): string {
  return "st_" + sha256Hex(`${owner}\n${dagHash}`).slice(0, 24);
}

/**
 * Find a cycle among the DAG's own nodes (inputs that are nodes of the DAG),
 * whatever their order; returns its node IDs (first repeated at the end) or
 * `undefined`.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "@qmtl/qmtl/contracts";
 * import { findCycle } from "@qmtl/qmtl/gateway";
 * findCycle(create(StrategyDagSchema, { name: "s" })); // undefined
 * ```
 */
export function findCycle(dag: StrategyDag): string[] | undefined {
  const inputs = new Map<string, string[]>();
  for (const n of dag.nodes) inputs.set(n.nodeId, n.inputs);
  const color = new Map<string, 1 | 2>();
  for (const start of inputs.keys()) {
    if (color.has(start)) continue;
    // Iterative DFS: stack of [node, next input index].
    const stack: [string, number][] = [[start, 0]];
    color.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const ins = inputs.get(top[0]) ?? [];
      if (top[1] >= ins.length) {
        color.set(top[0], 2);
        stack.pop();
        continue;
      }
      const next = ins[top[1]++];
      if (!inputs.has(next)) continue;
      const c = color.get(next);
      if (c === 1) {
        const path = stack.map((s) => s[0]);
        const cyc = path.slice(path.indexOf(next));
        return [...cyc, next];
      }
      if (c === undefined) {
        color.set(next, 1);
        stack.push([next, 0]);
      }
    }
  }
  return undefined;
}

/**
 * The error recorded in a strategy's status (clients read it): a store's or
 * driver's own text never goes there (see `toQmtlError`); it is logged.
 */
function errorDetailOf(e: unknown): ErrorDetail {
  return toQmtlError(e).toErrorDetail();
}

function isRetryable(e: unknown): boolean {
  return (e as { retryable?: unknown } | null)?.retryable === true;
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

  #recent = new RecentDags(20_000);

  #buildEvent = (
    status: StrategyStatus,
    from: StrategyState | undefined,
    seq: number,
  ) => this.#o.events.build(status, from, seq);
  #publishing = new Set<string>();

  async #transition(
    id: string,
    from: StrategyState[],
    to: StrategyState,
    extra: Omit<Parameters<StrategyStore["transition"]>[1], "from" | "to"> = {},
  ): Promise<StrategyRecord> {
    // The event is recorded in the record by the same compare-and-set, so
    // an acknowledged transition always has its event: published here, or
    // by the recovery sweep if this process dies first.
    const r = await this.#o.store.transition(id, {
      from,
      to,
      ...extra,
      event: this.#buildEvent,
    });
    if (r.from !== to) {
      this.#o.onTransition?.(r.from, to);
      await this.#flushEvents(r.record);
    }
    return r.record;
  }

  /**
   * Publish a record's pending events in order, then clear them from the
   * record. Failures are logged, not thrown: the transition already
   * happened, and the events stay pending for the next attempt.
   */
  async #flushEvents(rec: StrategyRecord, minAgeMs = 0): Promise<number> {
    const id = rec.status.strategyId;
    const now = Date.now();
    const due = (rec.pendingEvents ?? []).filter((e) =>
      !this.#publishing.has(e.id) && now - Date.parse(e.time) >= minAgeMs
    );
    if (due.length === 0) return 0;
    for (const e of due) this.#publishing.add(e.id);
    const done: string[] = [];
    try {
      for (const e of due) {
        await this.#o.hooks?.beforePublish?.(e);
        await this.#o.events.publish(e, rec.status);
        done.push(e.id);
      }
    } catch (err) {
      this.#o.logger?.warn(
        "event not yet published; it stays pending for the recovery sweep",
        { strategyId: id, error: err },
      );
    } finally {
      try {
        if (done.length) await this.#o.store.clearPendingEvents(id, done);
      } catch (err) {
        this.#o.logger?.warn("could not clear published events", {
          strategyId: id,
          error: err,
        });
      }
      for (const e of due) this.#publishing.delete(e.id);
    }
    return done.length;
  }

  /**
   * Validate, dedup, persist and enqueue a submission. Nothing is written
   * when validation fails.
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
    const cycle = findCycle(dag);
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
    );
    let rec = record;
    if (created) {
      // The diff job usually runs in this process moments later: hand it
      // the decoded DAG instead of decoding the stored bytes again.
      this.#recent.put(strategyId, dag);
      this.#o.onTransition?.(undefined, StrategyState.QUEUED);
      await this.#flushEvents(rec);
      rec = await this.ensureJob(rec);
    } else if (rec.status.state === StrategyState.FAILED) {
      // Resubmitting a failed strategy retries it: FAILED → QUEUED.
      rec = await this.#transition(
        strategyId,
        [StrategyState.FAILED],
        StrategyState.QUEUED,
        {
          clearError: true,
        },
      );
      rec = await this.ensureJob(rec, true);
    } else if (rec.status.state === StrategyState.QUEUED && rec.jobId === "") {
      rec = await this.ensureJob(rec);
    }
    return create(SubmitStrategyResponseSchema, {
      strategyId,
      state: rec.status.state,
      dagHash: verified.dagHash,
      duplicate: !created,
    });
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
   * Make sure a QUEUED / PROCESSING strategy has a live diff job: enqueue
   * (idempotency key `diff:{id}:{generation}`) and record its id. With
   * `fresh`, a new generation is started.
   */
  async ensureJob(rec: StrategyRecord, fresh = false): Promise<StrategyRecord> {
    const id = rec.status.strategyId;
    const generation = fresh || rec.jobId !== ""
      ? rec.generation + 1
      : rec.generation;
    const { job } = await this.#o.queue.enqueue(
      DIFF_JOB,
      new TextEncoder().encode(id),
      {
        idempotencyKey: `diff:${id}:${generation}`,
        maxAttempts: this.#o.maxAttempts ?? 20,
      },
    );
    if (job.id === rec.jobId) return rec;
    const state = rec.status.state;
    const r = await this.#o.store.transition(id, {
      from: [state],
      to: state,
      jobId: job.id,
      generation,
    });
    return r.record;
  }

  /**
   * Recovery of events: publish the pending events of every strategy that
   * has some (recorded at least `pendingEventGraceMs` ago, unless
   * `minAgeMs` says otherwise). Returns how many were published.
   */
  async republishPendingEvents(
    minAgeMs?: number,
    limit = 1000,
  ): Promise<number> {
    const age = minAgeMs ?? this.#o.pendingEventGraceMs ?? 5_000;
    let n = 0;
    for (const id of await this.#o.store.idsWithPendingEvents(limit)) {
      const rec = await this.#o.store.get(id);
      if (rec) n += await this.#flushEvents(rec, age);
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
   * {@link StrategyService.republishPendingEvents}), and every QUEUED /
   * PROCESSING strategy whose diff job is missing, done or dead-lettered
   * gets a new job. Returns how many strategies were re-enqueued.
   */
  async sweep(limit = 1000): Promise<number> {
    await this.republishPendingEvents(undefined, limit);
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
      const job = rec.jobId ? await this.#o.queue.get(rec.jobId) : null;
      if (job && job.state !== "done" && job.state !== "dead") continue;
      try {
        await this.ensureJob(rec, rec.jobId !== "");
        n++;
      } catch (e) {
        if (!(e instanceof QmtlError && e.code === "E_CONFLICT")) throw e;
      }
    }
    if (n > 0) {
      this.#o.logger?.info("recovery sweep re-enqueued strategies", {
        count: n,
      });
    }
    return n;
  }

  /** Handle one leased diff job (see `worker/`). */
  async processDiffJob(job: LeasedJob): Promise<JobOutcome> {
    const id = new TextDecoder().decode(job.payload);
    const rec = await this.#o.store.get(id);
    if (!rec) return { kind: "ack" };
    if (rec.jobId !== "" && rec.jobId !== job.id) return { kind: "ack" }; // superseded job
    const attempts = rec.status.attempts + 1;
    if (rec.status.state === StrategyState.QUEUED) {
      await this.#transition(
        id,
        [StrategyState.QUEUED],
        StrategyState.PROCESSING,
        {
          patch: { attempts },
          expectJobId: rec.jobId,
          jobId: job.id,
        },
      );
    } else if (rec.status.state === StrategyState.PROCESSING) {
      // A previous holder's lease expired mid-diff: redo it (idempotent).
      await this.#transition(
        id,
        [StrategyState.PROCESSING],
        StrategyState.PROCESSING,
        {
          patch: { attempts },
          expectJobId: rec.jobId,
          jobId: job.id,
        },
      );
    } else {
      return { kind: "ack" };
    }
    let dag = this.#recent.take(id);
    if (dag === undefined) {
      const bytes = await this.#o.store.getDag(id);
      if (!bytes) throw new Error(`strategy ${id} has no stored DAG`);
      dag = decode(StrategyDagSchema, bytes);
    }
    try {
      const diff = await this.#o.registry.diffAndCommit(dag, {
        strategyId: id,
        version: rec.status.version,
        owner: rec.status.owner,
        dagHash: rec.status.dagHash,
      });
      // Every topic of the queue map, not only the created ones: a crash
      // between the registry commit and here leaves nodes "reused" on the
      // retry whose topics must still be made. Creating is idempotent.
      await this.#o.topics?.ensure(Object.values(diff.queueMap));
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
      return { kind: "ack" };
    } catch (e) {
      const detail = errorDetailOf(e);
      if (isRetryable(e)) {
        await this.#transition(
          id,
          [StrategyState.PROCESSING],
          StrategyState.QUEUED,
          {
            patch: { error: detail },
            expectJobId: job.id,
          },
        );
        this.#o.logger?.warn("diff deferred: registry unavailable", {
          strategyId: id,
          attempts,
          error: e,
        });
        return {
          kind: "retry",
          error: detail.message,
          retryAfterMs: this.#o.retryAfterMs,
        };
      }
      if (e instanceof QmtlError && !(e instanceof RegistryError)) throw e; // store conflict: settle on the next lease
      await this.#transition(
        id,
        [StrategyState.PROCESSING],
        StrategyState.FAILED,
        {
          patch: { error: detail },
          expectJobId: job.id,
        },
      );
      this.#o.logger?.warn("diff failed", {
        strategyId: id,
        code: detail.code,
        message: detail.message,
        error: e,
      });
      return { kind: "ack" };
    }
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
