/**
 * The reference server as a subprocess (`deno run … deploy/server.ts`), the
 * way an operator runs it: configured only by `QMTL_*` variables (the
 * caller's own `QMTL_*` variables are not inherited), output appended to a
 * log file, ready when `/healthz` answers, stopped with SIGTERM (SIGKILL
 * after a grace period).
 *
 * @module
 */

import { freePortBlock } from "./ports.ts";
import { sleep } from "./wait.ts";

const SERVER_TS = new URL("../server.ts", import.meta.url).pathname;

/** The permissions of `deno task serve`. */
export const SERVER_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-sys",
];

/** Options of {@linkcode startServerProcess}. */
export interface ServerProcessOptions {
  /** `QMTL_*` settings; `QMTL_PORT` is chosen when absent. */
  env: Record<string, string>;
  /** Where stdout and stderr are appended. */
  logFile: string;
  /** Give up waiting for `/healthz` after this long; default 120 s. */
  readyTimeoutMs?: number;
}

/** A running server subprocess. */
export interface ServerProcess {
  /** Base URL, e.g. `http://127.0.0.1:31234`. */
  url: string;
  /** Process id. */
  pid: number;
  /** The last lines it printed (for error messages). */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 15 s); resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/**
 * The caller's environment without any `QMTL_*` variable (the server refuses
 * unknown ones, and the drill decides every setting itself).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withoutQmtl } from "./server_process.ts";
 * assert.deepEqual(withoutQmtl({ PATH: "/bin", QMTL_REDIS_URL: "redis://x" }), { PATH: "/bin" });
 * ```
 */
export function withoutQmtl(
  env: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => !k.startsWith("QMTL_")),
  );
}

/**
 * Start `deploy/server.ts` and wait until `/healthz` answers 200.
 *
 * @throws {Error} with the end of its output when it exits or does not get
 *   ready in time
 * @example
 * ```ts ignore
 * const srv = await startServerProcess({ env: { QMTL_JWT_SECRET: "…" }, logFile: "/tmp/server.log" });
 * await srv.stop();
 * ```
 */
export async function startServerProcess(
  options: ServerProcessOptions,
): Promise<ServerProcess> {
  const env = { ...options.env };
  env.QMTL_PORT ??= String(freePortBlock([0]));
  const url = `http://127.0.0.1:${env.QMTL_PORT}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...SERVER_PERMISSIONS, SERVER_TS],
    env: { ...withoutQmtl(Deno.env.toObject()), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log = await Deno.open(options.logFile, {
    create: true,
    append: true,
  });
  const lines: string[] = [];
  const dec = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream) {
      await log.write(chunk).catch(() => 0);
      rest += dec.decode(chunk, { stream: true });
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
      if (lines.length > 40) lines.splice(0, lines.length - 40);
    }
    if (rest !== "") lines.push(rest);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited: number | undefined;
  const status = child.status.then((s) => {
    exited = s.code;
    return s.code;
  });
  const tail = () => lines.join("\n");
  const stop = async (graceMs = 15_000): Promise<number> => {
    if (exited === undefined) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const end = Date.now() + graceMs;
      while (exited === undefined && Date.now() < end) await sleep(50);
      if (exited === undefined) {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    const code = await status;
    await pumps.catch(() => {});
    log.close();
    return code;
  };
  const end = Date.now() + (options.readyTimeoutMs ?? 120_000);
  let problem: string | undefined;
  for (;;) {
    if (exited !== undefined) {
      problem = `the server exited with status ${exited} before it was ready`;
      break;
    }
    const res = await fetch(`${url}/healthz`).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.status === 200) break;
    if (Date.now() >= end) {
      problem = `the server at ${url} did not answer /healthz within ${
        options.readyTimeoutMs ?? 120_000
      } ms`;
      break;
    }
    await sleep(200);
  }
  if (problem !== undefined) {
    await stop(2_000);
    throw new Error(`${problem}\n--- server output (end) ---\n${tail()}`);
  }
  return { url, pid: child.pid, tail, stop };
}
