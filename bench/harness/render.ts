/**
 * results.md: the header (machine, load, commit, command) and one table per
 * group (figure, value, peer, ratio, target), then the group's notes.
 *
 * @module
 */

import type { MachineInfo } from "./machine.ts";
import type { BenchGroup, Figure, GroupReport } from "./types.ts";

/** How one group ended. */
export type GroupOutcome =
  | { group: BenchGroup; status: "ok"; report: GroupReport; seconds: number }
  | { group: BenchGroup; status: "skipped"; reason: string }
  | { group: BenchGroup; status: "failed"; error: string; seconds: number };

/** Everything results.md is made of. */
export interface RunRecord {
  /** Free text under the title (e.g. "development run"). */
  label: string;
  /** Command line as typed and as run by the task. */
  command: string;
  /** UTC start and end. */
  started: Date;
  /** UTC end. */
  finished: Date;
  /** Git commit line. */
  commit: string;
  /** Machine description. */
  machine: MachineInfo;
  /** Load average before the first group. */
  loadBefore: string;
  /** Load average after the last group. */
  loadAfter: string;
  /** Quick mode. */
  quick: boolean;
  /** Every selected group. */
  outcomes: GroupOutcome[];
}

/**
 * A number in a table: thousands separators, fewer decimals for big values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { num } from "./render.ts";
 * assert.equal(num(12345.6), "12,346");
 * assert.equal(num(12.345), "12.3");
 * assert.equal(num(0.01234), "0.0123");
 * ```
 */
export function num(x: number): string {
  if (!Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  const digits = a >= 1000 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toLocaleString("en-US", {
    maximumFractionDigits: a > 0 && a < 1 ? undefined : digits,
    maximumSignificantDigits: a > 0 && a < 1 ? 3 : undefined,
  });
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function ratioOf(f: Figure): number | undefined {
  if (f.ratio !== undefined) return f.ratio;
  if (!f.peer || !Number.isFinite(f.value) || !f.peer.value) return undefined;
  return f.value / f.peer.value;
}

function ratioText(f: Figure): string {
  const r = ratioOf(f);
  if (r === undefined || !Number.isFinite(r)) return "";
  const note = f.ratioNote ?? "";
  if (note.startsWith("%")) return `${(100 * r).toFixed(1)} ${note}`;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×${note ? " " + note : ""}`;
}

function verdict(f: Figure, quick: boolean): string {
  if (!f.target) return "";
  if (quick) return `${f.target.text} (not judged: quick mode)`;
  return `${f.target.text} ${f.target.met ? "**met**" : "**not met**"}`;
}

function figureRow(f: Figure, quick: boolean): string {
  const value = Number.isFinite(f.value)
    ? `${num(f.value)} ${f.unit}`
    : "failed";
  const peer = f.peer
    ? `${f.peer.name}: ${num(f.peer.value)} ${f.peer.unit ?? f.unit}`
    : "";
  const target = verdict(f, quick);
  return `| ${
    [f.name, value, peer, ratioText(f), target, f.detail ?? ""].map(cell).join(
      " | ",
    )
  } |`;
}

/** Render the whole results.md. */
export function renderResults(run: RunRecord): string {
  const m = run.machine;
  const lines: string[] = [
    "# Benchmark results",
    "",
    run.label,
    "",
    "Method and history: [README.md](README.md). Regenerate with the command below;",
    "every figure's peer ran in the same run, on the same machine.",
    "",
    `- **Command:** ${run.command}`,
    `- **Mode:** ${
      run.quick
        ? "quick (tiny sizes: checks the benches run, the figures mean nothing)"
        : "full"
    }`,
    `- **Commit:** ${run.commit}`,
    `- **When (UTC):** ${run.started.toISOString().slice(0, 19)} → ${
      run.finished.toISOString().slice(0, 19)
    }`,
    `- **Machine:** ${m.cpuModel}, ${m.cores} logical cores, ${m.memoryGiB} GiB, ${m.os}`,
    `- **Software:** ${m.deno}; ${m.redis}; ${m.neo4j}; ${m.wrk}`,
    `- **Load average (1/5/15 min):** before ${run.loadBefore}, after ${run.loadAfter}`,
    "",
  ];
  const met = run.outcomes.flatMap((o) =>
    o.status === "ok" ? o.report.figures.filter((f) => f.target) : []
  );
  if (met.length && !run.quick) {
    lines.push(
      "## Targets",
      "",
      "| group | figure | value | target |",
      "| --- | --- | --- | --- |",
    );
    for (const o of run.outcomes) {
      if (o.status !== "ok") continue;
      for (const f of o.report.figures) {
        if (!f.target) continue;
        const r = ratioOf(f);
        const shown = f.target.text.includes("%") || f.target.text.includes("×")
          ? (r === undefined ? "—" : ratioText(f))
          : Number.isFinite(f.value)
          ? `${num(f.value)} ${f.unit}`
          : "failed";
        lines.push(
          `| ${o.group.name} | ${cell(f.name)} | ${cell(shown)} | ${
            cell(f.target.text)
          } ${f.target.met ? "**met**" : "**not met**"} |`,
        );
      }
    }
    lines.push("");
  }
  for (const o of run.outcomes) {
    lines.push(
      `## ${o.group.title} (\`--only ${o.group.name}\`)`,
      "",
      o.group.description,
      "",
    );
    if (o.status === "skipped") {
      lines.push(`**Skipped:** ${o.reason}`, "");
      continue;
    }
    if (o.status === "failed") {
      lines.push(
        `**Failed** after ${o.seconds.toFixed(1)} s:`,
        "",
        "```",
        o.error.slice(0, 3_000),
        "```",
        "",
      );
      continue;
    }
    lines.push(
      "| figure | value | peer (same run) | ratio | target | detail |",
      "| --- | --- | --- | --- | --- | --- |",
      ...o.report.figures.map((f) => figureRow(f, run.quick)),
      "",
    );
    for (const n of o.report.notes) lines.push(`- ${n}`);
    lines.push(`- Group wall time: ${o.seconds.toFixed(1)} s.`, "");
  }
  return lines.join("\n");
}
