/**
 * `qmtl submit <file.ts>`: submit every strategy a file exports and wait
 * until each is COMPLETED, showing its progress.
 *
 * @module
 */

import type { StrategyBuilder } from "../../builder.ts";
import type { StrategyDag } from "../../contracts.ts";
import { UnexpectedStateError, WaitTimeoutError } from "../../errors.ts";
import type { StrategyStatus } from "../../views.ts";
import { linkSignal } from "../../retry.ts";
import { parseOrHelp, positiveInt } from "../args.ts";
import { cliClient } from "../client.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { type LoadedStrategy, loadStrategies } from "../load.ts";

function dagOf(s: LoadedStrategy): StrategyDag {
  // Duck-typed: the file may import the SDK through another specifier.
  return "build" in s && typeof s.build === "function"
    ? (s as StrategyBuilder).build()
    : (s as { dag: StrategyDag }).dag;
}

interface Outcome {
  name: string;
  strategyId: string;
  duplicate: boolean;
  state: string;
  nodeCount: number;
  created: string[];
  reused: string[];
  queueMap: Record<string, string>;
  error: { code: string; message: string } | null;
}

function outcome(
  name: string,
  duplicate: boolean,
  s: StrategyStatus,
): Outcome {
  return {
    name,
    strategyId: s.strategyId,
    duplicate,
    state: s.state,
    nodeCount: s.nodeCount,
    created: s.created,
    reused: s.reused,
    queueMap: s.queueMap,
    error: s.error ? { code: s.error.code, message: s.error.message } : null,
  };
}

/**
 * The `submit` command.
 *
 * @example
 * ```ts ignore
 * import { submit } from "./submit.ts";
 * await submit.run(["strategies.ts", "--version", "2"], io);
 * ```
 */
export const submit: Command = {
  name: "submit",
  summary: "submit the strategies a file exports and wait for COMPLETED",
  usage:
    `usage: qmtl submit <file.ts> [--version LABEL] [--no-wait] [--timeout SECONDS] [--json] [--url URL]

Imports <file.ts> and submits every StrategyBuilder or compiled strategy it
exports (arrays of them too), in export order, with the version label
(default 1). Then follows each until COMPLETED, printing its states as they
come; --no-wait only submits. Submitting the same DAG again is idempotent
("already submitted before"). --json prints one array of results.
Exit 0 when every strategy is COMPLETED (or submitted, with --no-wait),
1 when one ended FAILED, 6 when the Gateway refused one (invalid, policy),
7 after --timeout (default 120) seconds of waiting for one.`,
  async run(args, io) {
    const p = parseOrHelp(this, args, io, {
      positionals: ["file.ts"],
      options: {
        version: { type: "string" },
        "no-wait": { type: "boolean" },
        timeout: { type: "string" },
      },
    });
    if (!p) return EXIT.OK;
    const timeoutS = positiveInt("submit", "timeout", p.values.timeout) ?? 120;
    const version = (p.values.version as string | undefined) ?? "1";
    const json = p.values.json === true;
    const client = cliClient(io, p.values.url as string | undefined);
    const strategies = await loadStrategies(p.positionals[0], io.cwd);
    const results: Outcome[] = [];
    let code: number = EXIT.OK;
    for (const s of strategies) {
      const dag = dagOf(s);
      const t0 = performance.now();
      const ack = await client.submit(dag, { version, signal: io.signal });
      if (!json) {
        io.out(
          `${dag.name} (${dag.nodes.length} nodes) → ${ack.strategyId}: ${ack.state}${
            ack.duplicate ? " (already submitted before)" : ""
          }`,
        );
      }
      if (p.values["no-wait"]) {
        results.push(
          outcome(dag.name, ack.duplicate, await client.get(ack.strategyId)),
        );
        continue;
      }
      // Progress from the event stream, while waitFor decides.
      const follow = new AbortController();
      const caller = linkSignal(io.signal);
      const printed = new Set<string>([ack.state]);
      const progress = json ? Promise.resolve() : (async () => {
        try {
          for await (
            const e of client.events(ack.strategyId, {
              signal: AbortSignal.any([follow.signal, caller.signal]),
            })
          ) {
            if (e.type === "qmtl.strategy.retrying" && e.data.error) {
              io.out(
                `  retrying (attempt ${e.data.attempts}): ${e.data.error.code} ${e.data.error.message}`,
              );
            } else if (
              e.state && !printed.has(e.state) && e.state !== "COMPLETED" &&
              e.state !== "FAILED"
            ) {
              printed.add(e.state);
              io.out(`  ${e.state}`);
            }
          }
        } catch {
          // progress only: the outcome comes from waitFor
        }
      })();
      try {
        const st = await client.waitFor(ack.strategyId, "COMPLETED", {
          timeoutMs: timeoutS * 1000,
          signal: caller.signal,
        });
        results.push(outcome(dag.name, ack.duplicate, st));
        if (!json && !ack.duplicate) {
          io.out(
            `  COMPLETED after ${Math.round(performance.now() - t0)} ms: ` +
              `${st.created.length} nodes created, ${st.reused.length} reused`,
          );
        } else if (!json) {
          io.out(
            `  COMPLETED: ${st.created.length} nodes created, ${st.reused.length} reused`,
          );
        }
      } catch (e) {
        if (e instanceof UnexpectedStateError) {
          results.push(outcome(dag.name, ack.duplicate, e.status));
          if (!json) {
            io.out(
              `  ${e.state}${
                e.status.error
                  ? `: ${e.status.error.code} ${e.status.error.message}`
                  : ""
              }`,
            );
          }
          code = EXIT.FAILED;
        } else if (e instanceof WaitTimeoutError) {
          io.err(
            `qmtl: ${dag.name}: not COMPLETED within ${timeoutS} s (last state ${
              e.lastStatus?.state ?? "unknown"
            })`,
          );
          if (e.lastStatus) {
            results.push(outcome(dag.name, ack.duplicate, e.lastStatus));
          }
          code = EXIT.TIMEOUT;
          break;
        } else {
          throw e;
        }
      } finally {
        follow.abort();
        await progress;
        caller.dispose();
      }
    }
    if (json) io.out(JSON.stringify(results));
    return code;
  },
};
