/**
 * Where the command line writes and what it reads: lines to stdout and
 * stderr, the environment, and the working folder (so that `main` runs in
 * tests without a process of its own). Plus the table and JSON printers.
 *
 * @module
 */

/**
 * The command line's surroundings.
 *
 * @example
 * ```ts
 * import type { CliIo } from "@qmtl/qmtl/cli";
 * const lines: string[] = [];
 * const io: CliIo = { out: (l) => lines.push(l), err: (l) => lines.push(l), env: {}, cwd: "/tmp" };
 * ```
 */
export interface CliIo {
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
  /** The environment (`QMTL_URL`, `QMTL_TOKEN`, …). */
  env: Record<string, string | undefined>;
  /** Folder that relative file arguments are resolved against. */
  cwd: string;
  /** Aborted by Ctrl-C (the process entry point wires SIGINT to it). */
  signal?: AbortSignal;
}

/**
 * The process's own surroundings: console, `Deno.env`, `Deno.cwd()`.
 *
 * @param signal aborted on Ctrl-C
 * @returns the io
 * @example
 * ```ts ignore
 * import { processIo } from "./io.ts";
 * const io = processIo();
 * io.out("hello");
 * ```
 */
export function processIo(signal?: AbortSignal): CliIo {
  const enc = new TextEncoder();
  return {
    out: (l) => Deno.stdout.writeSync(enc.encode(l + "\n")),
    err: (l) => Deno.stderr.writeSync(enc.encode(l + "\n")),
    env: Deno.env.toObject(),
    cwd: Deno.cwd(),
    ...(signal ? { signal } : {}),
  };
}

/**
 * Rows as aligned columns (the last column is not padded).
 *
 * @param header column titles
 * @param rows the rows
 * @returns the lines
 * @example
 * ```ts
 * import { table } from "./io.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(table(["A", "B"], [["x", "1"], ["yy", "2"]]), ["A   B", "x   1", "yy  2"]);
 * ```
 */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) =>
    Math.max(...all.map((r) => (r[i] ?? "").length))
  );
  return all.map((r) =>
    r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join("  ")
      .trimEnd()
  );
}

/**
 * An ISO time without milliseconds, from ms since the epoch.
 *
 * @param ms milliseconds since the epoch
 * @returns e.g. `2024-01-01T00:00:00Z`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isoTime } from "./io.ts";
 * assert.equal(isoTime(0), "1970-01-01T00:00:00Z");
 * ```
 */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
