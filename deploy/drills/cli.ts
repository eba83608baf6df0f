/**
 * What both drills share around their own steps: command-line options, a
 * private folder for the stack and the logs, clean-up in reverse order of
 * start (also on Ctrl-C), the report on stdout (text or `--json`) and the
 * exit status: 0 passed, 1 a check failed (something lost, duplicated, an
 * expected alert missing…), 2 bad usage, 3 the drill could not run (a
 * missing tool, a service that did not start).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type DrillReport, renderText } from "./report.ts";
import { Timeline } from "./timeline.ts";
import { MissingToolError } from "./tools.ts";

/** Options of a drill run. */
export interface DrillArgs {
  /** CI mode: seconds of load, a handful of strategies. */
  short: boolean;
  /** Print the report as JSON (progress still goes to stderr). */
  json: boolean;
  /** Keep the stack folder and logs even when the drill passed. */
  keep: boolean;
  /** Print the usage and exit. */
  help: boolean;
  /** Neo4j drill: `private` Redis group (default) or `env` (`QMTL_REDIS_URL`). */
  redis: "private" | "env";
}

/** Bad command-line usage. */
export class UsageError extends Error {
  /** @param message what was wrong */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parse a drill's command line.
 *
 * @throws {UsageError} for an unknown option or value
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDrillArgs } from "./cli.ts";
 * const a = parseDrillArgs(["--short", "--json"]);
 * assert.equal(a.short && a.json, true);
 * assert.equal(a.redis, "private");
 * assert.throws(() => parseDrillArgs(["--shrot"]), /--shrot/);
 * ```
 */
export function parseDrillArgs(argv: string[]): DrillArgs {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        short: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        keep: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        redis: { type: "string", default: "private" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.redis !== "private" && v.redis !== "env") {
    throw new UsageError(
      `--redis must be private or env, got ${JSON.stringify(v.redis)}`,
    );
  }
  return {
    short: v.short!,
    json: v.json!,
    keep: v.keep!,
    help: v.help!,
    redis: v.redis,
  };
}

/** Clean-up steps, run last-in first-out, each bounded and never throwing. */
export class Cleanup {
  #steps: { name: string; fn: () => Promise<unknown> | unknown }[] = [];
  #ran: Promise<void> | undefined;

  /**
   * Register a step.
   *
   * @param name for the log line when it fails
   * @param fn the step
   */
  add(name: string, fn: () => Promise<unknown> | unknown): void {
    this.#steps.push({ name, fn });
  }

  /** Run every step once (later calls wait for the first). */
  run(log: (line: string) => void): Promise<void> {
    this.#ran ??= (async () => {
      for (const s of this.#steps.reverse()) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const t0 = Date.now();
        try {
          await Promise.race([
            Promise.resolve().then(s.fn),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error("took more than 60 s")),
                60_000,
              );
            }),
          ]);
        } catch (e) {
          log(`clean-up "${s.name}" failed: ${(e as Error).message}`);
        } finally {
          clearTimeout(timer);
          if (Date.now() - t0 > 2_000) {
            log(`clean-up "${s.name}" took ${Date.now() - t0} ms`);
          }
        }
      }
    })();
    return this.#ran;
  }
}

/** What a drill's steps get. */
export interface DrillContext {
  /** Parsed options. */
  args: DrillArgs;
  /** The drill's clock and progress log. */
  clock: Timeline;
  /** Private folder for the stack, the server log and the drill's logs. */
  dir: string;
  /** Register clean-up steps. */
  cleanup: Cleanup;
}

/**
 * Run a drill: parse options, make its folder, run `body`, clean up, print
 * the report, and return the exit status (the caller passes it to
 * `Deno.exit`).
 *
 * @param name drill name (folder prefix, messages)
 * @param usage the `--help` text
 * @param argv command-line arguments
 * @param body the drill's own steps, returning its report
 * @example
 * ```ts ignore
 * Deno.exit(await runDrill("failover", USAGE, Deno.args, failoverDrill));
 * ```
 */
export async function runDrill(
  name: string,
  usage: string,
  argv: string[],
  body: (ctx: DrillContext) => Promise<DrillReport>,
): Promise<number> {
  let args: DrillArgs;
  try {
    args = parseDrillArgs(argv);
  } catch (e) {
    console.error(`drill:${name}: ${(e as Error).message}\n\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  const clock = new Timeline();
  const dir = await Deno.makeTempDir({ prefix: `qmtl-drill-${name}-` });
  const cleanup = new Cleanup();
  const log = (s: string) => clock.log(s);
  const onSignal = () => {
    log("interrupted: cleaning up");
    cleanup.run(log).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let report: DrillReport | undefined;
  let failure: unknown;
  try {
    report = await body({ args, clock, dir, cleanup });
  } catch (e) {
    failure = e;
  } finally {
    await cleanup.run(log);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  const keep = args.keep || failure !== undefined || !report?.ok;
  if (keep) {
    log(`logs kept in ${dir}`);
  } else {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  if (report === undefined) {
    const message = failure instanceof Error
      ? failure.message
      : String(failure);
    const why = failure instanceof MissingToolError
      ? `cannot run: ${message}`
      : `aborted: ${message}`;
    if (args.json) {
      console.log(JSON.stringify(
        { drill: name, ok: false, error: why, logs: dir },
        null,
        2,
      ));
    } else console.error(`drill:${name} ${why}\nlogs: ${dir}`);
    return 3;
  }
  if (keep) report.logs = dir;
  console.log(args.json ? JSON.stringify(report, null, 2) : renderText(report));
  return report.ok ? 0 : 1;
}
