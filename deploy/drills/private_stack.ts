/**
 * A drill's PRIVATE local stack: `deploy/local/stack.sh` run with its own
 * folder and free ports (`QMTL_STACK_DIR`, `QMTL_STACK_*_PORT`), so killing
 * its members never disturbs the shared test stack or another user of the
 * machine. It knows the pid files `stack.sh` writes, which member is the
 * Redis master (asked of the Sentinels), and how to `kill -9` a member and
 * wait until it is gone.
 *
 * @module
 */

import { freePortBlock, portFree } from "./ports.ts";
import { waitFor } from "./wait.ts";

const STACK_SH = new URL("../local/stack.sh", import.meta.url).pathname;

/** Sentinel master name of a drill's group. */
export const MASTER_NAME = "qmtl";

/** Options of {@linkcode PrivateStack.create}. */
export interface PrivateStackOptions {
  /** Folder for data, logs and pid files (created). */
  dir: string;
  /** Sentinel `down-after-milliseconds`; default 1000. */
  downAfterMs?: number;
  /** Neo4j JVM heap (`-Xmx`); default `512m`. */
  neo4jHeap?: string;
  /** Where each `stack.sh` run's output is appended; default `<dir>/stack.log`. */
  logFile?: string;
}

/** A member of the Redis group by its `stack.sh` slot. */
export type RedisSlot = "master" | "replica";

/** What {@linkcode PrivateStack.killRedisMaster} killed. */
export interface Killed {
  /** Process id. */
  pid: number;
  /** Its port. */
  port: number;
  /** Its `stack.sh` slot (`master`, `replica`, `neo4j`). */
  slot: string;
  /** Wall-clock time of the SIGKILL, ms since the epoch. */
  at: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * True while `pid` names a process that is not a zombie (Linux `/proc`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { processAlive } from "./private_stack.ts";
 * assert.equal(processAlive(Deno.pid), true);
 * ```
 */
export function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // "pid (comm) S …": the state follows the last ')'.
    const state = stat.slice(
      stat.lastIndexOf(")") + 2,
      stat.lastIndexOf(")") + 3,
    );
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * Send SIGKILL to `pid` and wait (bounded) until it is gone and `port`
 * (when given) is closed.
 *
 * @returns the wall-clock time of the signal
 * @example
 * ```ts ignore
 * const at = await kill9(1234, 16379);
 * ```
 */
export async function kill9(pid: number, port?: number): Promise<number> {
  const at = Date.now();
  Deno.kill(pid, "SIGKILL");
  await waitFor(
    `process ${pid} to die`,
    () =>
      !processAlive(pid) && (port === undefined || portFree(port))
        ? true
        : undefined,
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  return at;
}

/**
 * Run a program and return its stdout + stderr; throw with that text when it
 * fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { run } from "./private_stack.ts";
 * assert.equal((await run("echo", ["hi"])).trim(), "hi");
 * ```
 */
export async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const text = dec.decode(out.stdout) + dec.decode(out.stderr);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text.trim()}`,
    );
  }
  return text;
}

/**
 * A private stack (Redis group and/or Neo4j) on free ports in its own folder.
 *
 * @example
 * ```ts ignore
 * const stack = PrivateStack.create({ dir: await Deno.makeTempDir() });
 * await stack.up("redis");
 * const killed = await stack.killRedisMaster();
 * await stack.heal();
 * await stack.down();
 * ```
 */
export class PrivateStack {
  /** The stack folder. */
  readonly dir: string;
  /** Port of the `master` slot (the `replica` slot is +1). */
  readonly redisPort: number;
  /** Port of the first Sentinel (+1, +2 for the others). */
  readonly sentinelPort: number;
  /** Neo4j Bolt port. */
  readonly boltPort: number;
  readonly #env: Record<string, string>;
  readonly #logFile: string;

  private constructor(
    o: PrivateStackOptions,
    ports: { redis: number; bolt: number },
  ) {
    this.dir = o.dir;
    this.redisPort = ports.redis;
    this.sentinelPort = ports.redis + 10;
    this.boltPort = ports.bolt;
    this.#logFile = o.logFile ?? `${o.dir}/stack.log`;
    this.#env = {
      QMTL_STACK_DIR: o.dir,
      QMTL_STACK_REDIS_PORT: String(this.redisPort),
      QMTL_STACK_SENTINEL_PORT: String(this.sentinelPort),
      QMTL_STACK_BOLT_PORT: String(this.boltPort),
      QMTL_STACK_MASTER_NAME: MASTER_NAME,
      QMTL_STACK_DOWN_AFTER_MS: String(o.downAfterMs ?? 1000),
      QMTL_STACK_NEO4J_HEAP: o.neo4jHeap ?? "512m",
    };
  }

  /**
   * Choose free ports (nothing is started yet).
   *
   * @param options folder, Sentinel timing, Neo4j heap
   */
  static create(options: PrivateStackOptions): PrivateStack {
    const redis = freePortBlock([0, 1, 10, 11, 12]);
    let bolt = freePortBlock([0]);
    while (bolt >= redis && bolt <= redis + 12) bolt = freePortBlock([0]);
    return new PrivateStack(options, { redis, bolt });
  }

  /**
   * The Redis group for a report: `master :P, replica :P+1, sentinels
   * :S-S+2`.
   */
  get redisGroup(): string {
    return `master :${this.redisPort}, replica :${
      this.redisPort + 1
    }, sentinels :${this.sentinelPort}-${this.sentinelPort + 2}`;
  }

  /** The group's `redis+sentinel://` URL. */
  get redisUrl(): string {
    const s = this.sentinelPort;
    return `redis+sentinel://127.0.0.1:${s},127.0.0.1:${s + 1},127.0.0.1:${
      s + 2
    }/${MASTER_NAME}/0`;
  }

  /** The Neo4j Bolt URL. */
  get neo4jUrl(): string {
    return `bolt://127.0.0.1:${this.boltPort}`;
  }

  /** Sentinel ports. */
  get sentinelPorts(): number[] {
    return [0, 1, 2].map((i) => this.sentinelPort + i);
  }

  /** `stack.sh` settings (`QMTL_STACK_*`) of this stack. */
  get env(): Record<string, string> {
    return { ...this.#env };
  }

  async #stack(...args: string[]): Promise<string> {
    let text: string;
    try {
      text = await run("bash", [STACK_SH, ...args], this.#env);
    } catch (e) {
      await this.#log(`$ stack.sh ${args.join(" ")}\n${String(e)}\n`);
      throw e;
    }
    await this.#log(`$ stack.sh ${args.join(" ")}\n${text}\n`);
    return text;
  }

  async #log(text: string): Promise<void> {
    await Deno.writeTextFile(this.#logFile, text, { append: true }).catch(
      () => {},
    );
  }

  /**
   * `stack.sh up` for the Redis group, Neo4j or both.
   *
   * @param what `redis` (`--redis-only`), `neo4j` (`--neo4j-only`) or `all`
   */
  async up(what: "redis" | "neo4j" | "all"): Promise<void> {
    const flag = what === "redis"
      ? ["--redis-only"]
      : what === "neo4j"
      ? ["--neo4j-only"]
      : [];
    await this.#stack("up", ...flag);
  }

  /** `stack.sh heal`: 1 master + 1 synced replica + 3 Sentinels again. */
  async heal(): Promise<string> {
    return await this.#stack("heal");
  }

  /**
   * `stack.sh down` (stops only what its pid files name). With `fast`,
   * Neo4j is killed first instead of being shut down cleanly (its data is
   * thrown away with the folder; a clean shutdown takes tens of seconds).
   */
  async down(options: { fast?: boolean } = {}): Promise<void> {
    if (options.fast) {
      const pid = await this.pid("neo4j/neo4j");
      if (pid !== undefined && processAlive(pid)) {
        await kill9(pid, this.boltPort).catch(() => {});
      }
    }
    await this.#stack("down");
  }

  /** Pid from a pid file under the stack folder, or undefined. */
  async pid(file: "redis/master" | "redis/replica" | "neo4j/neo4j"): Promise<
    number | undefined
  > {
    const path = `${this.dir}/${file}.pid`;
    if (!(await exists(path))) return undefined;
    const n = Number((await Deno.readTextFile(path)).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }

  /** The master's port as the first Sentinel that answers names it. */
  async masterPort(): Promise<number> {
    let last: unknown;
    for (const p of this.sentinelPorts) {
      try {
        const out = await run("redis-cli", [
          "-p",
          String(p),
          "sentinel",
          "get-master-addr-by-name",
          MASTER_NAME,
        ]);
        const port = Number(out.trim().split("\n")[1]);
        if (Number.isInteger(port) && port > 0) return port;
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`no Sentinel names the master: ${String(last)}`);
  }

  /** The slot serving on a port. */
  slotOf(port: number): RedisSlot {
    if (port === this.redisPort) return "master";
    if (port === this.redisPort + 1) return "replica";
    throw new Error(`port ${port} is not a member of this group`);
  }

  /**
   * `kill -9` the current Redis master (the member the Sentinels name; its
   * pid from the stack folder) and wait until it is gone.
   */
  async killRedisMaster(): Promise<Killed> {
    const port = await this.masterPort();
    const slot = this.slotOf(port);
    const pid = await this.pid(`redis/${slot}`);
    if (pid === undefined) {
      throw new Error(`no pid file for redis ${slot} in ${this.dir}`);
    }
    const at = await kill9(pid, port);
    return { pid, port, slot, at };
  }

  /** `kill -9` Neo4j and wait until it is gone (Bolt port closed). */
  async killNeo4j(): Promise<Killed> {
    const pid = await this.pid("neo4j/neo4j");
    if (pid === undefined) {
      throw new Error(`no pid file for neo4j in ${this.dir}`);
    }
    const at = await kill9(pid, this.boltPort);
    return { pid, port: this.boltPort, slot: "neo4j", at };
  }
}
