/**
 * Internal: the Redis resources one Redis backend (`RedisQueue`,
 * `RedisTopicStore`, `RedisEventLog`) holds and closes together — its client
 * (adopted or owned), its {@link DurableWriter}, its {@link WakeSubscriber}
 * and the poll settings — so that opening, polling, the "closed" check and
 * `close()` are written once.
 *
 * @module
 */
import { adoptClient } from "./adopt_client.ts";
import {
  closeRedis,
  type ParsedRedisUrl,
  type RedisClient,
} from "./connection.ts";
import {
  type ConfirmOptions,
  type DurabilityOptions,
  DurableWriter,
} from "./durability.ts";
import { QueueError } from "./errors.ts";
import {
  type CommandArg,
  type CommandName,
  runCommand,
} from "./redis_commands.ts";
import { checkInt } from "./validate.ts";
import { type PollOptions, WakeSubscriber } from "./wake.ts";

/**
 * The options every Redis backend takes for its connection.
 *
 * @example
 * ```ts
 * import type { BackendConnectionOptions } from "./backend_connection.ts";
 * const o: BackendConnectionOptions = { url: "redis://127.0.0.1:6379/0", maxPollMs: 100 };
 * ```
 */
export interface BackendConnectionOptions extends DurabilityOptions {
  /** A client to use; the backend does not close it. */
  redis?: RedisClient;
  /** Or a URI to open a client the backend owns. */
  url?: string | ParsedRedisUrl;
  /** Longest sleep between polls of a waiting read (default 250 ms). */
  maxPollMs?: number;
}

/**
 * Who the connection belongs to: names for the error messages and the
 * client.
 *
 * @example
 * ```ts
 * import type { BackendIdentity } from "./backend_connection.ts";
 * const id: BackendIdentity = { owner: "RedisQueue", connectionName: "qmtl-queue", what: "queue" };
 * ```
 */
export interface BackendIdentity {
  /** Backend class name, for "needs `redis` or `url`". */
  owner: string;
  /** `CLIENT SETNAME` of a client opened from a URL. */
  connectionName: string;
  /** What is closed, for "<what> is closed". */
  what: string;
}

/**
 * A Redis backend's client, durable writer and wake subscriber, closed
 * together once.
 *
 * @example
 * ```ts ignore
 * import { BackendConnection } from "./backend_connection.ts";
 * const c = new BackendConnection(
 *   { url: "redis://127.0.0.1:6379/0", waitReplicas: 0 },
 *   { owner: "Example", connectionName: "example", what: "example" },
 * );
 * c.assertOpen();
 * await c.close();
 * ```
 */
export class BackendConnection {
  /** The client the backend's commands go through. */
  readonly redis: RedisClient;
  /** Writes confirmed by replicas (`WAIT`). */
  readonly durable: DurableWriter;
  #owned: boolean;
  #what: string;
  #wake: WakeSubscriber;
  #maxPollMs: number;
  #closed = false;

  /**
   * Adopts `opts.redis` or opens a client for `opts.url`.
   *
   * @param opts `redis` or `url`, `maxPollMs`, durability.
   * @param id Names for messages and the client.
   * @throws {QueueError} `E_INVALID` on neither `redis` nor `url`, or a bad
   * `maxPollMs`.
   */
  constructor(opts: BackendConnectionOptions, id: BackendIdentity) {
    ({ redis: this.redis, owned: this.#owned } = adoptClient(opts, id.owner, {
      connectionName: id.connectionName,
    }));
    this.#what = id.what;
    this.#maxPollMs = checkInt("maxPollMs", opts.maxPollMs ?? 250, 1);
    this.durable = new DurableWriter(this.redis, opts);
    this.#wake = new WakeSubscriber(this.redis);
  }

  /** True once {@link BackendConnection.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Throws when the backend is closed.
   *
   * @throws {QueueError} `E_UNAVAILABLE` "<what> is closed".
   */
  assertOpen(): void {
    if (this.#closed) {
      throw new QueueError("E_UNAVAILABLE", `${this.#what} is closed`);
    }
  }

  /**
   * Reads until `read` returns something or the wait ends (see
   * {@link WakeSubscriber.poll}); a close ends it too.
   *
   * @param read One read.
   * @param p Channel, wait, filter and signal.
   * @returns What the last read returned.
   */
  async poll<T>(
    read: () => Promise<T[]>,
    p: Omit<PollOptions, "maxPollMs" | "stop">,
  ): Promise<T[]> {
    return await this.#wake.poll(read, {
      ...p,
      maxPollMs: this.#maxPollMs,
      stop: () => this.#closed,
    });
  }

  /**
   * Runs one of the backend's Lua commands ({@link runCommand}) as a write
   * the replicas confirm ({@link DurableWriter.write}).
   *
   * @param operation Names the write in a `DurabilityError`.
   * @param subject The id the error names (or `opts.subject` of the reply).
   * @param name The command.
   * @param args `KEYS`, then `ARGV`, as its `.lua` header says.
   * @param opts When and how to confirm; `buffer` for Buffer replies.
   * @returns The command's reply, typed by the caller.
   * @example
   * ```ts ignore
   * import { BackendConnection } from "./backend_connection.ts";
   * declare const c: BackendConnection;
   * const r = await c.writeCommand<string>("release lease", "t1", "releaseLease", [
   *   "lease-key", "holder-key", "token",
   * ], { when: (r) => r === "OK" });
   * ```
   */
  writeCommand<T>(
    operation: string,
    subject: string,
    name: CommandName,
    args: readonly CommandArg[],
    opts: ConfirmOptions<T> & { buffer?: boolean } = {},
  ): Promise<T> {
    return this.durable.write(
      operation,
      subject,
      () => runCommand(this.redis, name, args, opts.buffer) as Promise<T>,
      opts,
    );
  }

  /** Wakes waiting reads and closes the client when it is owned (once). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake.close();
    this.durable.close();
    if (this.#owned) await closeRedis(this.redis);
  }
}
