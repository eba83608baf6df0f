/**
 * The QMTL command line (`@qmtl/qmtl/cli`): submit strategies and follow
 * them, read the global DAG, sign dev tokens, backtest over a CSV.
 *
 *     deno run -A jsr:@qmtl/qmtl/cli <command> [options]     # or, in this repository:
 *     deno task qmtl <command> [options]
 *
 * Commands: `submit <file.ts>`, `status <id>`, `events <id>`, `nodes`,
 * `topics`, `retire <id>`, `token`, `backtest <file.ts>`; `--help` on each.
 * The Gateway is `QMTL_URL` (default `http://127.0.0.1:8080`, or `--url`)
 * and the token `QMTL_TOKEN`. Output is for people; `--json` prints JSON for
 * scripts. Exit codes: {@link EXIT} (docs/cli.md has the table).
 *
 * @example
 * ```ts
 * import { EXIT, main } from "@qmtl/qmtl/cli";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), env: {}, cwd: Deno.cwd() };
 * assert.equal(await main(["--help"], io), EXIT.OK);
 * assert.equal(await main(["frobnicate"], io), EXIT.USAGE);
 * ```
 *
 * @module
 */

import { QmtlClientError } from "../errors.ts";
import type { Command } from "./command.ts";
import { backtest } from "./commands/backtest.ts";
import { events } from "./commands/events.ts";
import { nodes } from "./commands/nodes.ts";
import { retire } from "./commands/retire.ts";
import { status } from "./commands/status.ts";
import { submit } from "./commands/submit.ts";
import { token } from "./commands/token.ts";
import { topics } from "./commands/topics.ts";
import { EXIT, EXIT_MEANINGS, exitCodeOf, UsageError } from "./exit.ts";
import { type CliIo, processIo } from "./io.ts";

export { EXIT, EXIT_MEANINGS, exitCodeOf, UsageError } from "./exit.ts";
export type { CliIo } from "./io.ts";
export type { Command } from "./command.ts";

/**
 * Every command, in `--help` order.
 *
 * @example
 * ```ts
 * import { COMMANDS } from "@qmtl/qmtl/cli";
 * console.log(COMMANDS.map((c) => c.name).join(" "));
 * ```
 */
export const COMMANDS: readonly Command[] = [
  submit,
  status,
  events,
  nodes,
  topics,
  retire,
  token,
  backtest,
];

function helpText(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "qmtl — the QMTL command line",
    "",
    "usage: qmtl <command> [options]      (qmtl <command> --help for its options)",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    "",
    "options of every command:",
    "  --json       JSON output for scripts (events: one object per line)",
    "  --url URL    the Gateway (default $QMTL_URL, else http://127.0.0.1:8080)",
    "  --help, -h   the command's usage",
    "",
    "environment:",
    "  QMTL_URL     Gateway base URL",
    "  QMTL_TOKEN   bearer token (`deno task serve` prints one in dev mode; `qmtl token` signs one)",
    "",
    "exit codes:",
    ...EXIT_MEANINGS.map(([code, what]) =>
      `  ${String(code).padStart(3)}  ${what}`
    ),
  ].join("\n");
}

function hint(e: QmtlClientError): string | undefined {
  switch (e.code) {
    case "E_UNAUTHENTICATED":
      return "is QMTL_TOKEN current? A dev server prints a new one at start; `qmtl token` signs one with its kept key";
    case "E_FORBIDDEN":
      return "the token lacks a role this needs (see the message)";
    case "E_UNAVAILABLE":
      return "is the server running? (`deno task serve`; QMTL_URL / --url)";
    default:
      return undefined;
  }
}

/**
 * Run the command line with `args` (what follows `qmtl`).
 *
 * @param args the arguments
 * @param io where to write and what to read; default the process's
 * @returns the exit code (see {@link EXIT})
 * @example
 * ```ts ignore
 * import { main } from "@qmtl/qmtl/cli";
 * Deno.exit(await main(["status", "st_1"]));
 * ```
 */
export async function main(
  args: string[],
  io: CliIo = processIo(),
): Promise<number> {
  const [name, ...rest] = args;
  if (
    name === undefined || name === "--help" || name === "-h" || name === "help"
  ) {
    (name === undefined ? io.err : io.out)(helpText());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`qmtl: unknown command ${JSON.stringify(name)}`);
    io.err(`commands: ${COMMANDS.map((c) => c.name).join(", ")} (qmtl --help)`);
    return EXIT.USAGE;
  }
  try {
    const code = await command.run(rest, io);
    if (code === EXIT.INTERRUPTED) io.err("qmtl: interrupted");
    return code;
  } catch (e) {
    const code = io.signal?.aborted ? EXIT.INTERRUPTED : exitCodeOf(e);
    if (code === EXIT.INTERRUPTED) {
      io.err("qmtl: interrupted");
      return code;
    }
    if (e instanceof UsageError) {
      io.err(`qmtl: ${e.message}`);
      io.err(`(qmtl ${command.name} --help for usage)`);
    } else if (e instanceof QmtlClientError) {
      io.err(`qmtl: ${command.name}: ${e.code}: ${e.message}`);
      const h = hint(e);
      if (h) io.err(`  ${h}`);
    } else {
      io.err(`qmtl: ${command.name}: ${(e as Error)?.message ?? String(e)}`);
    }
    return code;
  }
}

if (import.meta.main) {
  // Ctrl-C aborts the command (it prints what it has and exits 130); a
  // second Ctrl-C exits at once.
  const interrupt = new AbortController();
  const onInt = () => {
    if (interrupt.signal.aborted) Deno.exit(EXIT.INTERRUPTED);
    interrupt.abort(new DOMException("interrupted", "AbortError"));
  };
  Deno.addSignalListener("SIGINT", onInt);
  const code = await main(Deno.args, processIo(interrupt.signal));
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.exit(code);
}
