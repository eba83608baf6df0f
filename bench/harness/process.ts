/**
 * Child processes of a benchmark run: started with their output appended to
 * a file (so that a server's log volume can be measured and nobody in the
 * bench process reads the pipe), optionally pinned to CPUs with `taskset`,
 * and always stopped — a process-wide registry stops every child that is
 * still running when the run ends or is interrupted.
 *
 * @module
 */

/** A child process started by {@linkcode spawnLogged}. */
export interface Child {
  /** Process id. */
  pid: number;
  /** Where stdout and stderr go. */
  logFile: string;
  /** Exit status, once it exits. */
  status: Promise<Deno.CommandStatus>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@linkcode spawnLogged}. */
export interface SpawnOptions {
  /** The complete environment of the child (nothing is inherited). */
  env: Record<string, string>;
  /** File that receives stdout and stderr (appended). */
  logFile: string;
  /** CPU list for `taskset -c`, e.g. "0"; omitted: not pinned. */
  cpus?: string;
  /** Working directory. */
  cwd?: string;
}

const running = new Set<Child>();

/** Whether `program` is on PATH. */
export async function hasProgram(program: string): Promise<boolean> {
  try {
    const r = await new Deno.Command("sh", {
      args: ["-c", `command -v "$1" >/dev/null 2>&1`, "sh", program],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

/**
 * Start `cmd` with stdout and stderr appended to `logFile`. The shell
 * `exec`s the command (through `taskset` when `cpus` is given), so the pid
 * is the program's own.
 */
export function spawnLogged(cmd: string[], options: SpawnOptions): Child {
  const argv = options.cpus ? ["taskset", "-c", options.cpus, ...cmd] : cmd;
  const proc = new Deno.Command("sh", {
    args: [
      "-c",
      'f=$1; shift; exec "$@" >>"$f" 2>&1',
      "sh",
      options.logFile,
      ...argv,
    ],
    env: options.env,
    clearEnv: true,
    cwd: options.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = proc.status.then((s) => {
    exited = true;
    running.delete(child);
    return s;
  });
  let stopping: Promise<void> | undefined;
  const child: Child = {
    pid: proc.pid,
    logFile: options.logFile,
    status,
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        if (exited) return;
        try {
          proc.kill("SIGTERM");
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            proc.kill("SIGKILL");
          } catch {
            // already gone
          }
        }, graceMs);
        await status;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  running.add(child);
  return child;
}

/** Stop every child still running (end of run, SIGINT, SIGTERM). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop(2_000)));
}

/** Run a program to completion and return its stdout (throws on failure). */
export async function output(
  cmd: string[],
  options: {
    cpus?: string;
    env?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<string> {
  const argv = options.cpus ? ["taskset", "-c", options.cpus, ...cmd] : cmd;
  const r = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  const out = new TextDecoder().decode(r.stdout);
  if (!r.success) {
    throw new Error(
      `${argv.join(" ")} exited with ${r.code}: ${
        new TextDecoder().decode(r.stderr).trim().slice(0, 500)
      }`,
    );
  }
  return out;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Poll `url` until it answers 200 or `child` exits or `timeoutMs` passes;
 * on failure the error quotes the end of the child's log.
 */
export async function waitHttpOk(
  url: string,
  child: Child,
  timeoutMs = 60_000,
): Promise<void> {
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await r.body?.cancel();
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  let tail = "";
  try {
    tail = (await Deno.readTextFile(child.logFile)).slice(-2_000);
  } catch {
    // no log
  }
  throw new Error(
    `${url} did not answer 200 ${
      exited ? "(the process exited)" : `within ${timeoutMs} ms`
    }; log tail:\n${tail}`,
  );
}

/** Size of a file in bytes (0 when it does not exist). */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}
