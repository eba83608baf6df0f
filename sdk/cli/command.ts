/**
 * The shape of one `qmtl` command.
 *
 * @module
 */

import type { CliIo } from "./io.ts";

/**
 * One command: its name, one-line summary, usage text and what it runs.
 *
 * @example
 * ```ts
 * import type { Command } from "@qmtl/qmtl/cli";
 * const hello: Command = {
 *   name: "hello",
 *   summary: "say hello",
 *   usage: "qmtl hello",
 *   run: (_args, io) => { io.out("hello"); return Promise.resolve(0); },
 * };
 * ```
 */
export interface Command {
  /** The word after `qmtl`. */
  name: string;
  /** One line for `qmtl --help`. */
  summary: string;
  /** The command's `--help` text. */
  usage: string;
  /** Runs it; resolves to the exit code (errors are mapped by `main`). */
  run(args: string[], io: CliIo): Promise<number>;
}
