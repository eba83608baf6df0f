/**
 * Plumbing shared by the tests that start PRIVATE stacks (own folder, free
 * ports) with `deploy/local/stack.sh`: free-port search, running a command
 * and `redis-cli`.
 *
 * @module
 */

/** Absolute path of `deploy/local/stack.sh`. */
export const STACK: string =
  new URL("../../deploy/local/stack.sh", import.meta.url).pathname;

/** True when nothing listens on 127.0.0.1:`port`. */
export function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A random base port in 21000‥38999 such that `base + o` is free for every
 * offset `o` (50 tries); throws naming `what` otherwise.
 */
export function freePorts(offsets: readonly number[], what: string): number {
  for (let i = 0; i < 50; i++) {
    const base = 21_000 + Math.floor(Math.random() * 18_000);
    if (offsets.every((o) => portFree(base + o))) return base;
  }
  throw new Error(`no free ports for ${what}`);
}

/** Ports of a private Redis group: master, replica(s) +1…, Sentinels +10‥12. */
export function freeRedisPorts(
  replicas = 1,
  what = "a private Redis group",
): { redis: number; sentinel: number } {
  const members = Array.from({ length: replicas + 1 }, (_, i) => i);
  const redis = freePorts([...members, 10, 11, 12], what);
  return { redis, sentinel: redis + 10 };
}

/** Runs `cmd`; resolves its stdout + stderr, throws them when it fails. */
export async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  }
  return text;
}

/** `redis-cli -p port …args`, trimmed. */
export async function redisCli(
  port: number,
  ...args: string[]
): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).trim();
}
