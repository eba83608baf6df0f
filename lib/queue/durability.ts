/**
 * The one durability path of the Redis backends: replica confirmation
 * (`WAIT`) with group commit per connection, its settings (options only:
 * the server reads `QMTL_REDIS_WAIT_*` in its config and passes them), and
 * {@link DurabilityError} when it fails.
 *
 * @module
 */

import { isSentinelClient, type RedisClient } from "./connection.ts";
import { scriptReissues } from "./redis_commands.ts";
import { DurabilityError, QueueError } from "./errors.ts";

/**
 * Durability settings of a Redis backend.
 *
 * @example
 * ```ts
 * import type { DurabilityOptions } from "@qmtl/qmtl/queue";
 * const d: DurabilityOptions = { waitReplicas: 1, waitTimeoutMs: 1_000 };
 * ```
 */
export interface DurabilityOptions {
  /**
   * Replicas that must confirm a write before it is acknowledged to the
   * caller (`WAIT n`). 0 turns confirmation off. Default: 1 for a Sentinel
   * client and 0 otherwise.
   */
  waitReplicas?: number;
  /** `WAIT` timeout in ms (default 1000). */
  waitTimeoutMs?: number;
}

/**
 * Resolves {@link DurabilityOptions}: explicit values, else the defaults
 * (1 replica for a Sentinel client, 0 otherwise; 1000 ms). Throws
 * `QueueError` (`E_INVALID`) for a negative or fractional replica count or a
 * timeout that is not a whole number > 0.
 *
 * @param opts Explicit values.
 * @param sentinel Whether the client uses Sentinel (default on then).
 * @returns Replicas (0 = off) and timeout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveDurability } from "@qmtl/qmtl/queue";
 * assert.deepEqual(resolveDurability({}, true), { waitReplicas: 1, waitTimeoutMs: 1000 });
 * ```
 */
export function resolveDurability(
  opts: DurabilityOptions,
  sentinel: boolean,
): Required<DurabilityOptions> {
  const replicas = opts.waitReplicas ?? (sentinel ? 1 : 0);
  const timeout = opts.waitTimeoutMs ?? 1_000;
  if (!Number.isSafeInteger(replicas) || replicas < 0) {
    throw new QueueError("E_INVALID", `waitReplicas must be an integer ≥ 0`);
  }
  if (!Number.isSafeInteger(timeout) || timeout <= 0) {
    throw new QueueError("E_INVALID", `waitTimeoutMs must be an integer > 0`);
  }
  return { waitReplicas: replicas, waitTimeoutMs: timeout };
}

/**
 * How {@link DurableWriter.write} confirms one write.
 *
 * @example
 * ```ts
 * import type { ConfirmOptions } from "@qmtl/qmtl/queue";
 * const o: ConfirmOptions<number> = { when: (created) => created === 1 };
 * ```
 */
export interface ConfirmOptions<T> {
  /**
   * Confirm only when this returns true for the reply (e.g. only when the
   * write created something). Default: always.
   */
  when?: (reply: T) => boolean;
  /**
   * Send `WAIT` right behind the write, in the same round trip (default
   * true). False sends it after the reply, and only when `when` holds:
   * for writes that usually change nothing (polls).
   */
  pipelined?: boolean;
  /** The id named by a {@link DurabilityError}, from the reply. */
  subject?: (reply: T) => string;
}

/** One `WAIT` per connection and replica setting per tick, shared. */
class CommitGroup {
  readonly redis: RedisClient;
  readonly replicas: number;
  readonly timeoutMs: number;
  refs = 0;
  epoch = 0;
  #pending: Promise<number> | null = null;
  readonly onClose = (): void => {
    this.epoch++;
  };

  constructor(redis: RedisClient, replicas: number, timeoutMs: number) {
    this.redis = redis;
    this.replicas = replicas;
    this.timeoutMs = timeoutMs;
    redis.on("close", this.onClose);
  }

  /**
   * A `WAIT` sent after every command already issued on the connection:
   * callers in the same tick share one, sent in a microtask (so it follows
   * their writes in the same pipeline). Resolves to the replicas that
   * confirmed (0 on error); never rejects.
   */
  schedule(): Promise<number> {
    if (this.#pending) return this.#pending;
    const p = new Promise<number>((resolve) => {
      queueMicrotask(() => {
        if (this.#pending === p) this.#pending = null;
        this.redis.wait(this.replicas, this.timeoutMs).then(Number, () => 0)
          .then(resolve);
      });
    });
    this.#pending = p;
    return p;
  }
}

const GROUPS = new WeakMap<RedisClient, Map<string, CommitGroup>>();

function joinGroup(
  redis: RedisClient,
  replicas: number,
  timeoutMs: number,
): CommitGroup {
  let byKey = GROUPS.get(redis);
  if (!byKey) GROUPS.set(redis, byKey = new Map());
  const key = `${replicas}/${timeoutMs}`;
  let g = byKey.get(key);
  if (!g) byKey.set(key, g = new CommitGroup(redis, replicas, timeoutMs));
  g.refs++;
  return g;
}

function leaveGroup(g: CommitGroup): void {
  if (--g.refs > 0) return;
  g.redis.off("close", g.onClose);
  const byKey = GROUPS.get(g.redis);
  byKey?.delete(`${g.replicas}/${g.timeoutMs}`);
  if (byKey?.size === 0) GROUPS.delete(g.redis);
}

/**
 * Writes that are acknowledged only once `waitReplicas` replicas have them.
 * Every Redis store of this module (work queue, event log, topic store)
 * writes through one; other Redis-backed stores can too.
 *
 * Group commit: all writers on one connection (with the same settings) share
 * one `WAIT` per tick, sent right behind their writes, so confirmation costs
 * no extra round trip and one command per batch. A `WAIT` only covers
 * commands sent before it on the same connection, so a reconnect between a
 * write and its `WAIT` (a failover), or a script re-sent as `EVAL` after
 * `NOSCRIPT`, is handled: the first counts as unconfirmed, the second is
 * confirmed by a fresh `WAIT` after the reply.
 *
 * @example
 * ```ts
 * import { DurableWriter } from "@qmtl/qmtl/queue";
 * import type { RedisClient } from "@qmtl/qmtl/queue";
 * // A store method: the write is issued inside the callback, synchronously.
 * async function save(redis: RedisClient, w: DurableWriter): Promise<string> {
 *   return await w.write("save", "k", () => redis.set("k", "v") as Promise<string>);
 * }
 * function writerFor(redis: RedisClient): DurableWriter {
 *   return new DurableWriter(redis, { waitReplicas: 1, waitTimeoutMs: 1_000 });
 * }
 * ```
 */
export class DurableWriter {
  #redis: RedisClient;
  #group: CommitGroup | null;
  #replicas: number;
  #timeoutMs: number;
  #unconfirmed = 0;

  /**
   * Resolves the settings ({@link resolveDurability}; `WAIT` on by default
   * for a Sentinel client) and joins the connection's commit group.
   *
   * @param redis The connection the writes go through.
   * @param opts Explicit settings (else the environment, else defaults).
   */
  constructor(redis: RedisClient, opts: DurabilityOptions = {}) {
    this.#redis = redis;
    const d = resolveDurability(opts, isSentinelClient(redis));
    this.#replicas = d.waitReplicas;
    this.#timeoutMs = d.waitTimeoutMs;
    this.#group = d.waitReplicas > 0
      ? joinGroup(redis, d.waitReplicas, d.waitTimeoutMs)
      : null;
  }

  /** Replicas each write waits for (0 = no `WAIT`). */
  get replicas(): number {
    return this.#replicas;
  }

  /** `WAIT` timeout in ms. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Writes that threw {@link DurabilityError} since start. */
  get unconfirmedWrites(): number {
    return this.#unconfirmed;
  }

  /**
   * Runs `send` (which must issue its Redis command(s) synchronously, before
   * returning its promise) and resolves with its reply once the replicas
   * confirmed it.
   *
   * @param operation Names the write in a {@link DurabilityError}.
   * @param subject The id the error names (or `opts.subject` of the reply).
   * @param send Issues the write.
   * @param opts When and how to confirm.
   * @returns The reply of `send`.
   * @throws {DurabilityError} Fewer replicas than required confirmed in
   *   time, or the connection changed in between (retryable).
   */
  async write<T>(
    operation: string,
    subject: string,
    send: () => Promise<T>,
    opts: ConfirmOptions<T> = {},
  ): Promise<T> {
    const g = this.#group;
    if (g === null) return await send();
    const epoch = g.epoch;
    const reissues = scriptReissues(this.#redis);
    const reply = send();
    let wait = opts.pipelined === false ? null : g.schedule();
    const r = await reply;
    if (opts.when && !opts.when(r)) return r;
    // A script re-sent as EVAL after NOSCRIPT may follow the pipelined WAIT.
    if (wait === null || scriptReissues(this.#redis) !== reissues) {
      wait = g.schedule();
    }
    const acked = await wait;
    if (g.epoch !== epoch || acked < g.replicas) {
      this.#unconfirmed++;
      throw new DurabilityError(
        operation,
        opts.subject ? opts.subject(r) : subject,
        g.epoch !== epoch ? 0 : acked,
        g.replicas,
      );
    }
    return r;
  }

  /** Leaves the connection's commit group. Idempotent. */
  close(): void {
    if (this.#group) leaveGroup(this.#group);
    this.#group = null;
  }
}
