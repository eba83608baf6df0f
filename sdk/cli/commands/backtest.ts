/**
 * `qmtl backtest <file.ts> --csv FILE --time COLUMN --column NAME=TAG,TAG`:
 * run the strategies a file exports over a CSV with the runner's backtest
 * (each distinct node computed once) and print a summary.
 *
 * @module
 */

import { backtest as runBacktest } from "../../runner/backtest.ts";
import { csvSource } from "../../runner/csv_source.ts";
import { parseOrHelp } from "../args.ts";
import type { Command } from "../command.ts";
import { EXIT, UsageError } from "../exit.ts";
import { isoTime, table } from "../io.ts";
import { loadStrategies } from "../load.ts";

function columns(raw: unknown): Record<string, string[]> {
  const list = (raw as string[] | undefined) ?? [];
  if (list.length === 0) {
    throw new UsageError(
      "backtest: give at least one --column NAME=TAG,TAG (the CSV column and the tags of the stream it feeds)",
    );
  }
  const out: Record<string, string[]> = {};
  for (const c of list) {
    const m = /^([^=]+)=(.+)$/.exec(c);
    const tags = m?.[2].split(",").map((t) => t.trim()).filter((t) => t !== "");
    if (!m || !tags?.length) {
      throw new UsageError(
        `backtest: --column ${JSON.stringify(c)}: expected NAME=TAG[,TAG…]`,
      );
    }
    out[m[1].trim()] = tags;
  }
  return out;
}

function show(v: unknown): string {
  if (typeof v === "number") {
    return Number.isInteger(v) ? String(v) : v.toPrecision(8).replace(
      /\.?0+$/,
      "",
    );
  }
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? s.slice(0, 39) + "…" : s;
}

/**
 * The `backtest` command.
 *
 * @example
 * ```ts ignore
 * import { backtest } from "./backtest.ts";
 * await backtest.run(["s.ts", "--csv", "prices.csv", "--time", "ts", "--column", "btc_close=btc,close"], io);
 * ```
 */
export const backtest: Command = {
  name: "backtest",
  summary: "backtest the strategies a file exports over a CSV file",
  usage:
    `usage: qmtl backtest <file.ts> --csv FILE --time COLUMN --column NAME=TAG,TAG [--column …]
                     [--time-unit s|ms] [--from TIME] [--to TIME] [--json]

Runs every strategy <file.ts> exports over the CSV in one process, each
distinct node computed once (the runner's backtest; no server needed).
--time names the time column (seconds, --time-unit ms, or ISO 8601);
each --column NAME=TAG,TAG feeds column NAME to the stream inputs whose tags
are exactly TAG,TAG. --from / --to bound the run (seconds or ISO 8601).
Prints the totals, then per strategy each node's output count and last
value. Exit 2 for a bad file, CSV or option, 1 when a compute function throws.`,
  async run(args, io) {
    const p = parseOrHelp(this, args, io, {
      positionals: ["file.ts"],
      options: {
        csv: { type: "string" },
        time: { type: "string" },
        column: { type: "string", multiple: true },
        "time-unit": { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
      },
    });
    if (!p) return EXIT.OK;
    if (!p.values.csv) throw new UsageError("backtest: --csv FILE is required");
    if (!p.values.time) {
      throw new UsageError("backtest: --time COLUMN is required");
    }
    const unit = (p.values["time-unit"] as string | undefined) ?? "s";
    if (unit !== "s" && unit !== "ms") {
      throw new UsageError(
        `backtest: --time-unit must be s or ms, got ${unit}`,
      );
    }
    const cols = columns(p.values.column);
    const strategies = await loadStrategies(p.positionals[0], io.cwd);
    const csvPath = new URL(
      p.values.csv as string,
      `file://${io.cwd.replace(/\/?$/, "/")}`,
    );
    try {
      await Deno.stat(csvPath);
    } catch {
      throw new UsageError(`backtest: no such file ${p.values.csv}`);
    }
    const bound = (v: unknown) =>
      v === undefined
        ? undefined
        : /^\d+$/.test(v as string)
        ? Number(v)
        : (v as string);
    let result;
    try {
      result = await runBacktest(strategies, {
        source: csvSource(csvPath, {
          time: p.values.time as string,
          timeUnit: unit,
          columns: cols,
        }),
        keep: 1,
        ...(p.values.from !== undefined ? { from: bound(p.values.from) } : {}),
        ...(p.values.to !== undefined ? { to: bound(p.values.to) } : {}),
      });
    } catch (e) {
      if ((e as Error).name === "SourceError") {
        throw new UsageError(`backtest: ${(e as Error).message}`);
      }
      throw e;
    }
    const { stats } = result;
    if (p.values.json) {
      io.out(JSON.stringify({
        stats,
        strategies: result.strategies.map((s) => ({
          name: s.name,
          outputs: s.outputs,
          nodes: Object.fromEntries(
            Object.entries(s.nodes).map(([name, n]) => [name, {
              nodeId: n.nodeId,
              nodeType: n.nodeType,
              emitted: n.stats.emitted,
              evaluations: n.stats.evaluations,
              errors: n.stats.errors,
              last: n.times.length
                ? { barTs: n.times.at(-1), value: n.values.at(-1) }
                : null,
            }]),
          ),
        })),
      }));
      return EXIT.OK;
    }
    io.out(
      `${stats.records} records (${stats.unmatched} unmatched), ${stats.nodes} distinct nodes, ` +
        `${stats.evaluations} evaluations (${stats.evaluationsSaved} saved by sharing), ${
          Math.round(stats.wallMs)
        } ms`,
    );
    for (const s of result.strategies) {
      io.out(`${s.name}: outputs ${s.outputs.join(", ")}`);
      table(
        ["  NODE", "TYPE", "OUTPUTS", "LAST BAR", "LAST VALUE"],
        Object.entries(s.nodes).map(([name, n]) => [
          `  ${name}`,
          n.nodeType,
          String(n.stats.emitted),
          n.times.length ? isoTime(n.times.at(-1)! * 1000) : "-",
          n.values.length ? show(n.values.at(-1)) : "-",
        ]),
      ).forEach((l) => io.out(l));
    }
    return EXIT.OK;
  },
};
