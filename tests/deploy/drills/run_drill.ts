/**
 * Runs a drill as a subprocess (`deno run -A deploy/drills/<name>.ts --short
 * --json`) with a hard deadline, and returns its exit status, parsed report
 * and progress output. Whether the drill can run here: its tools on PATH;
 * outside CI a missing tool skips the test with a warning, under `CI=true`
 * the test runs and fails on it (the drill exits 3 naming the tool).
 *
 * @module
 */

import assert from "node:assert/strict";
import { missingTools, type Tool } from "../../../deploy/drills/tools.ts";
import type { DrillReport } from "../../../deploy/drills/report.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** The outcome of one drill run. */
export interface DrillRun {
  /** Exit status. */
  code: number;
  /** The JSON report (or `{ok: false, error}` when it could not run). */
  report: DrillReport & { error?: string };
  /** Its progress lines (stderr). */
  stderr: string;
  /** Wall-clock duration, ms. */
  ms: number;
}

/** True when the test must be skipped (tools missing, not under CI). */
export function skipWithout(tools: readonly Tool[]): boolean {
  const missing = missingTools(tools);
  if (missing.length === 0) return false;
  if (Deno.env.get("CI") === "true") return false; // run, and fail on it
  console.warn(
    `[tests] drill skipped: ${
      missing.map((t) => t.name).join(", ")
    } not on PATH`,
  );
  return true;
}

/** Run `deploy/drills/<name>.ts --short --json`; SIGTERM after `deadlineMs` (the drill cleans up), SIGKILL 60 s later. */
export async function runDrill(
  name: string,
  deadlineMs: number,
): Promise<DrillRun> {
  const t0 = Date.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}deploy/drills/${name}.ts`, "--short", "--json"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const term = setTimeout(() => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  }, deadlineMs);
  const kill = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, deadlineMs + 60_000);
  const out = await child.output();
  clearTimeout(term);
  clearTimeout(kill);
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  const stderr = dec.decode(out.stderr);
  let report: DrillRun["report"];
  try {
    report = JSON.parse(stdout);
  } catch {
    throw new Error(
      `drill ${name} printed no JSON report (exit ${out.code}) after ${
        Date.now() - t0
      } ms\n--- stdout ---\n${stdout.slice(-2000)}\n--- stderr ---\n${
        stderr.slice(-4000)
      }`,
    );
  }
  return { code: out.code, report, stderr, ms: Date.now() - t0 };
}

/** A message with the report's problems and the end of the progress log. */
export function explain(run: DrillRun): string {
  return `exit ${run.code} after ${run.ms} ms; ${
    run.report.error ?? (run.report.problems ?? []).join("; ")
  }\n--- progress ---\n${run.stderr.slice(-3000)}`;
}

/**
 * What every drill must show: exit 0 and `ok`, the drill asked for in short
 * mode, strategies acknowledged, every one COMPLETED, none twice.
 */
export function assertDrillPassed(
  run: DrillRun,
  drill: DrillReport["drill"],
): void {
  const r = run.report;
  assert.equal(run.code, 0, explain(run));
  assert.equal(r.ok, true, explain(run));
  assert.equal(r.drill, drill);
  assert.equal(r.mode, "short");
  assert.ok(r.strategies.acknowledged > 0, explain(run));
  assert.equal(r.strategies.lost, 0, explain(run));
  assert.equal(r.strategies.duplicates, 0, explain(run));
  assert.equal(r.strategies.completed, r.strategies.acknowledged);
}

/** The sink received at least one alert `condition/status`. */
export function assertAlerted(r: DrillReport, conditionStatus: string): void {
  assert.ok(
    (r.alerts.byCondition[conditionStatus] ?? 0) >= 1,
    `no ${conditionStatus} alert: ${JSON.stringify(r.alerts.byCondition)}`,
  );
}
