/**
 * Argument parsing of one command (`node:util` `parseArgs`, strict): known
 * options only, the number of positional arguments checked, and every
 * mistake a {@link UsageError} that names it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Command } from "./command.ts";
import { UsageError } from "./exit.ts";
import type { CliIo } from "./io.ts";

/** Options every command takes. */
const COMMON = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  url: { type: "string" },
} as const;

/**
 * Declaration of a command's options and positional arguments.
 *
 * @example
 * ```ts
 * import type { CommandArgs } from "./args.ts";
 * const spec: CommandArgs = { options: { tags: { type: "string" } }, positionals: ["id"] };
 * ```
 */
export interface CommandArgs {
  /** Options besides `--json`, `--help`, `--url`. */
  options?: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  >;
  /** Names of the required positional arguments, in order. */
  positionals?: string[];
}

/**
 * Parsed arguments.
 *
 * @example
 * ```ts
 * import type { Parsed } from "./args.ts";
 * const p: Parsed = { values: { json: true }, positionals: ["st_1"] };
 * ```
 */
export interface Parsed {
  /** Option values (`undefined` when not given). */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Positional arguments. */
  positionals: string[];
}

/**
 * Parse `args` against `spec`. With `--help`, positionals are not checked.
 *
 * @param command the command's name (for messages)
 * @param args the arguments after the command name
 * @param spec options and positionals
 * @returns the values and positionals
 * @throws {UsageError} for an unknown option, a missing value or argument, or one too many
 * @example
 * ```ts
 * import { parseCommand } from "./args.ts";
 * import assert from "node:assert/strict";
 * const p = parseCommand("status", ["st_1", "--json"], { positionals: ["id"] });
 * assert.deepEqual(p.positionals, ["st_1"]);
 * assert.equal(p.values.json, true);
 * assert.throws(() => parseCommand("status", [], { positionals: ["id"] }), /status: missing <id>/);
 * ```
 */
export function parseCommand(
  command: string,
  args: string[],
  spec: CommandArgs,
): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON, ...spec.options },
      allowPositionals: true,
      strict: true,
    }) as Parsed;
  } catch (e) {
    const msg = (e as Error).message
      .replace(/^Unknown option '(.*?)'.*$/s, "unknown option $1")
      .replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${command}: ${msg}`);
  }
  if (parsed.values.help) return parsed;
  const names = spec.positionals ?? [];
  if (parsed.positionals.length < names.length) {
    throw new UsageError(
      `${command}: missing <${names[parsed.positionals.length]}>`,
    );
  }
  if (parsed.positionals.length > names.length) {
    throw new UsageError(
      `${command}: unexpected argument ${
        JSON.stringify(parsed.positionals[names.length])
      }`,
    );
  }
  return parsed;
}

/**
 * {@link parseCommand} for a command's `run`: with `--help` it prints the
 * command's usage and returns `undefined` (the command then exits 0).
 *
 * @param command the command (its name for messages, its usage for `--help`)
 * @param args the arguments after the command name
 * @param io where the usage goes
 * @param spec options and positionals
 * @returns the values and positionals, or `undefined` after `--help`
 * @throws {UsageError} as {@link parseCommand}
 * @example
 * ```ts
 * import { parseOrHelp } from "./args.ts";
 * import assert from "node:assert/strict";
 * const cmd = { name: "status", summary: "", usage: "usage: qmtl status <id>", run: () => Promise.resolve(0) };
 * const lines: string[] = [];
 * const io = { out: (l: string) => lines.push(l), err: () => {} };
 * assert.equal(parseOrHelp(cmd, ["--help"], io, { positionals: ["id"] }), undefined);
 * assert.deepEqual(lines, ["usage: qmtl status <id>"]);
 * ```
 */
export function parseOrHelp(
  command: Command,
  args: string[],
  io: Pick<CliIo, "out">,
  spec: CommandArgs,
): Parsed | undefined {
  const p = parseCommand(command.name, args, spec);
  if (!p.values.help) return p;
  io.out(command.usage);
  return undefined;
}

/**
 * A positive integer option (`--interval 60`), or `undefined`.
 *
 * @param command the command's name
 * @param name the option
 * @param raw its value
 * @returns the number
 * @throws {UsageError} when it is not a positive integer
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveInt } from "./args.ts";
 * assert.equal(positiveInt("nodes", "interval", "60"), 60);
 * ```
 */
export function positiveInt(
  command: string,
  name: string,
  raw: unknown,
): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^[1-9]\d{0,9}$/.test(raw)) {
    throw new UsageError(
      `${command}: --${name} must be a positive integer, got ${
        JSON.stringify(raw)
      }`,
    );
  }
  return Number(raw);
}
