/**
 * Runs the Lua commands of `commands/` (internal): `EVALSHA` with the SHA-1
 * computed at build time, and `EVAL` with the source when the server answers
 * `NOSCRIPT` (e.g. a freshly promoted master that never saw the script), after
 * which the server caches it and `EVALSHA` works again.
 *
 * Such a re-send happens after any `WAIT` pipelined behind the first attempt,
 * so re-sends are counted per connection ({@link scriptReissues}) and the
 * durability path then waits again.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { RedisClient } from "./connection.ts";
import { type CommandName, COMMANDS } from "./commands/mod.gen.ts";

export type { CommandName };

/** One argument of a command: keys first, then ARGV. */
export type CommandArg = string | number | Buffer;

const REISSUES = new WeakMap<RedisClient, number>();

/** The script methods ioredis defines on every client (typed for `eval`). */
type ScriptMethod = (
  script: string,
  numberOfKeys: number,
  ...args: CommandArg[]
) => Promise<unknown>;
interface ScriptMethods {
  evalsha: ScriptMethod;
  evalshaBuffer: ScriptMethod;
  eval: ScriptMethod;
  evalBuffer: ScriptMethod;
}

/**
 * How many scripts this connection has re-sent as `EVAL` after `NOSCRIPT`.
 *
 * @param redis A client.
 * @returns A counter that only grows.
 */
export function scriptReissues(redis: RedisClient): number {
  return REISSUES.get(redis) ?? 0;
}

/**
 * Runs a command; the keys and arguments follow the header of its `.lua`
 * file. Issues the command synchronously (before returning).
 *
 * @param redis The client.
 * @param name The command.
 * @param args `KEYS` (exactly `numberOfKeys` of them), then `ARGV`.
 * @param buffer Replies as Buffers (for binary fields) instead of strings.
 * @returns The script's reply.
 */
export function runCommand(
  redis: RedisClient,
  name: CommandName,
  args: readonly CommandArg[],
  buffer = false,
): Promise<unknown> {
  const c = COMMANDS[name];
  // Named methods, not call/callBuffer: ioredis's auto-pipelining drops the
  // command name of callBuffer.
  const r = redis as unknown as ScriptMethods;
  const first = buffer
    ? r.evalshaBuffer(c.sha1, c.numberOfKeys, ...args)
    : r.evalsha(c.sha1, c.numberOfKeys, ...args);
  return first.catch((e: unknown) => {
    if (!String((e as Error)?.message ?? "").startsWith("NOSCRIPT")) throw e;
    REISSUES.set(redis, scriptReissues(redis) + 1);
    return buffer
      ? r.evalBuffer(c.lua, c.numberOfKeys, ...args)
      : r.eval(c.lua, c.numberOfKeys, ...args);
  });
}
