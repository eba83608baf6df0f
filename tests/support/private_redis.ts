/**
 * A PRIVATE Redis group for tests that stop or kill its members: master +
 * replica + three Sentinels from `deploy/local/stack.sh --redis-only`, on
 * free ports in a temporary folder, so the shared stack is never touched.
 *
 * @module
 */

import {
  freeRedisPorts,
  portFree,
  redisStackEnv,
  run,
  STACK,
} from "./private_stack.ts";

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** The master port the first answering Sentinel names. */
async function masterPort(sentinel: number): Promise<number> {
  for (const p of [sentinel, sentinel + 1, sentinel + 2]) {
    const out = await run("redis-cli", [
      "-p",
      String(p),
      "sentinel",
      "get-master-addr-by-name",
      "qmtl",
    ], {}).catch(() => "");
    const port = Number(out.trim().split("\n")[1]);
    if (port > 0) return port;
  }
  throw new Error("no Sentinel names a master");
}

/** A running private group. */
export interface PrivateRedis {
  /** `redis+sentinel://…/qmtl/0` of the group. */
  url: string;
  /** Master port (the replica is +1). */
  masterPort: number;
  /** Stop the replica (SIGKILL, like a crash). */
  killReplica(): Promise<void>;
  /** Start the replica again (`stack.sh up` restarts what is not running). */
  restartReplica(): Promise<void>;
  /** Port of the member the Sentinels name as master now. */
  masterNow(): Promise<number>;
  /**
   * SIGKILL the current master (whichever member it is after earlier
   * failovers) and wait until the Sentinels have promoted the other one;
   * returns the killed port and the new master's.
   */
  killMaster(timeoutMs?: number): Promise<{ killed: number; master: number }>;
  /** `stack.sh heal`: dead members come back as replicas of the master. */
  heal(): Promise<void>;
  /** Stop everything and remove the folder. */
  down(): Promise<void>;
}

/**
 * Starts a private group (Sentinel down-after 1000 ms unless
 * `downAfterMs` says otherwise: a loaded machine may want more, so that
 * a slow answer is not taken for a dead master).
 *
 * @example
 * ```ts ignore
 * const r = await startPrivateRedis();
 * try { … } finally { await r.down(); }
 * ```
 */
export async function startPrivateRedis(
  options: { downAfterMs?: number } = {},
): Promise<PrivateRedis> {
  const dir = await Deno.makeTempDir({ prefix: "qmtl-private-redis-" });
  const ports = freeRedisPorts();
  const env = {
    ...redisStackEnv(dir, ports),
    QMTL_STACK_DOWN_AFTER_MS: String(options.downAfterMs ?? 1000),
  };
  const pidFiles = ["sentinel2", "sentinel1", "sentinel0", "replica", "master"]
    .map((n) => `${dir}/redis/${n}.pid`);
  // A throw-away group: SIGKILL is enough, and `stack.sh down` (SIGTERM,
  // then waiting for each member's AOF flush) takes seconds.
  const down = async () => {
    const pids: number[] = [];
    for (const f of pidFiles) {
      const pid = Number((await Deno.readTextFile(f).catch(() => "")).trim());
      if (pid > 0) {
        try {
          Deno.kill(pid, "SIGKILL");
          pids.push(pid);
        } catch { /* gone */ }
      }
    }
    for (let i = 0; i < 100 && pids.some(alive); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  // Members sync a new replica at once (diskless sync waits 5 s by
  // default for more replicas): a heal is then a second, not six.
  const fastSync = async () => {
    for (const port of [ports.redis, ports.redis + 1]) {
      await run("redis-cli", [
        "-p",
        String(port),
        "config",
        "set",
        "repl-diskless-sync-delay",
        "0",
      ], {}).catch(() => {});
    }
  };
  try {
    await run("bash", [STACK, "up", "--redis-only"], env);
    await fastSync();
  } catch (e) {
    await down();
    throw e;
  }
  const s = ports.sentinel;
  return {
    url: `redis+sentinel://127.0.0.1:${s},127.0.0.1:${s + 1},127.0.0.1:${
      s + 2
    }/qmtl/0`,
    masterPort: ports.redis,
    async killReplica() {
      const pid = Number(
        (await Deno.readTextFile(`${dir}/redis/replica.pid`)).trim(),
      );
      Deno.kill(pid, "SIGKILL");
      // Wait until it is gone (its port closes).
      for (let i = 0; i < 100 && !portFree(ports.redis + 1); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async restartReplica() {
      await run("bash", [STACK, "up", "--redis-only"], env);
      await fastSync();
    },
    masterNow: () => masterPort(ports.sentinel),
    async killMaster(timeoutMs = 30_000) {
      const killed = await masterPort(ports.sentinel);
      const slot = killed === ports.redis ? "master" : "replica";
      const pid = Number(
        (await Deno.readTextFile(`${dir}/redis/${slot}.pid`)).trim(),
      );
      Deno.kill(pid, "SIGKILL");
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        const now = await masterPort(ports.sentinel).catch(() => killed);
        if (now !== killed && !portFree(now)) {
          const role = await run("redis-cli", ["-p", String(now), "role"], {})
            .catch(() => "");
          if (role.startsWith("master")) return { killed, master: now };
        }
      }
      throw new Error(
        `no promotion within ${timeoutMs} ms after killing :${killed}`,
      );
    },
    async heal() {
      await run("bash", [STACK, "heal"], env);
      await fastSync();
    },
    down,
  };
}
