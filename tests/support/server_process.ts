/**
 * Start the reference server (`deno task serve`) as a subprocess for SDK
 * tests, and find its URL and dev token in its output.
 *
 * @module
 */

import { pumpLines, terminate } from "./child.ts";

const ROOT = new URL("../../", import.meta.url);

/** A running reference server. */
export interface ServeProcess {
  /** Base URL printed by the server. */
  url: string;
  /** The dev token, when the server runs in dev mode. */
  token?: string;
  /** Everything printed so far (stdout and stderr lines). */
  lines: string[];
  /** SIGTERM, wait (bounded), SIGKILL if needed. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startServe}. */
export interface ServeOptions {
  /** Extra `QMTL_*` variables; every inherited `QMTL_*` is dropped first. */
  env?: Record<string, string>;
  /** Keep inherited `QMTL_NEO4J_*` / `QMTL_REDIS_*` (real backends). */
  keepBackends?: boolean;
  /** Give up waiting for the URL (and token in dev mode) after this; default 60 s. */
  startTimeoutMs?: number;
}

let stateDir: string | undefined;
/**
 * One state folder (the dev key) per test process, so that tests neither
 * read nor write the user's `~/.local/state/qmtl`, and a restarted server
 * keeps its dev key as it does for a user.
 */
function testStateDir(): string {
  if (stateDir === undefined) {
    const dir = stateDir = Deno.makeTempDirSync({ prefix: "qmtl-state-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
  }
  return stateDir;
}

function childEnv(options: ServeOptions): Record<string, string> {
  const env = Deno.env.toObject();
  for (const k of Object.keys(env)) {
    if (!k.startsWith("QMTL_")) continue;
    if (options.keepBackends && /^QMTL_(NEO4J|REDIS)_/.test(k)) continue;
    delete env[k];
  }
  return {
    ...env,
    NO_COLOR: "1",
    QMTL_PORT: "0",
    QMTL_LOG_LEVEL: "info", // the "listening" line (with the URL) is at info
    QMTL_STATE_DIR: testStateDir(),
    ...options.env,
  };
}

const URL_RE = /export QMTL_URL=(\S+)/;
const TOKEN_RE = /export QMTL_TOKEN=(\S+)/;

function urlFrom(line: string): string | undefined {
  const m = URL_RE.exec(line);
  if (m) return m[1];
  if (line.startsWith("{")) {
    try {
      const j = JSON.parse(line);
      if (j.msg === "listening" && typeof j.url === "string") return j.url;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

/**
 * Start `deno task serve`. Dev mode (no `QMTL_JWT_SECRET`) waits for the
 * printed token too.
 */
export async function startServe(
  options: ServeOptions = {},
): Promise<ServeProcess> {
  const env = childEnv(options);
  const dev = !env.QMTL_JWT_SECRET && !env.QMTL_JWT_JWKS_URL;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "serve"],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let url: string | undefined;
  let token: string | undefined;
  const { promise: ready, resolve: setReady } = Promise.withResolvers<void>();
  const check = () => {
    if (url && (!dev || token)) setReady();
  };
  const pump = (stream: ReadableStream<Uint8Array>) =>
    pumpLines(stream, (line) => {
      if (lines.length < 5000) lines.push(line);
      url ??= urlFrom(line);
      token ??= TOKEN_RE.exec(line)?.[1];
      check();
    });
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]).catch(
    () => {},
  );
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await terminate(child, 10_000);
      await pumps;
    })();
    return stopping;
  };
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready.then(() => "ready" as const),
    child.status.then(() => "exited" as const),
    new Promise<"timeout">((
      r,
    ) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== "ready") {
    await stop();
    throw new Error(
      `deno task serve ${
        outcome === "exited"
          ? "exited"
          : `printed no URL${dev ? "/token" : ""} within ${timeoutMs} ms`
      }; output:\n${lines.join("\n")}`,
    );
  }
  return { url: url!, ...(token ? { token } : {}), lines, stop };
}

/** A free TCP port on 127.0.0.1 (for restarting a server on the same port). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
