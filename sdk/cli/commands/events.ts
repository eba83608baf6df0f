/**
 * `qmtl events <strategy-id>`: follow a strategy's lifecycle events until
 * it reaches a terminal state (COMPLETED, FAILED, RETIRED) or Ctrl-C.
 *
 * @module
 */

import type { StrategyEvent } from "../../events.ts";
import { linkSignal } from "../../retry.ts";
import { parseOrHelp, positiveInt } from "../args.ts";
import { cliClient } from "../client.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../exit.ts";

const TERMINAL = new Set(["COMPLETED", "FAILED", "RETIRED"]);

/**
 * An event as plain JSON (one line of `--json` output).
 *
 * @param e the event
 * @returns a JSON-ready object
 * @example
 * ```ts ignore
 * import { eventJson } from "./events.ts";
 * console.log(JSON.stringify(eventJson(e)));
 * ```
 */
export function eventJson(e: StrategyEvent): Record<string, unknown> {
  return {
    id: e.id,
    cursor: e.cursor,
    type: e.type,
    time: e.time,
    subject: e.subject,
    state: e.state ?? null,
    data: e.data,
  };
}

/**
 * The `events` command.
 *
 * @example
 * ```ts ignore
 * import { events } from "./events.ts";
 * await events.run(["st_1"], io);
 * ```
 */
export const events: Command = {
  name: "events",
  summary: "follow a strategy's lifecycle events until a terminal state",
  usage:
    `usage: qmtl events <strategy-id> [--after CURSOR] [--timeout SECONDS] [--json] [--url URL]

Prints the strategy's events from the first (or after --after, an event's
cursor) and follows new ones until the strategy is COMPLETED, FAILED or
RETIRED — or Ctrl-C. --json prints one JSON object per event and line.
Exit 0 at COMPLETED or RETIRED, 1 at FAILED, 4 for an unknown strategy,
7 after --timeout, 130 on Ctrl-C.`,
  async run(args, io) {
    const p = parseOrHelp(this, args, io, {
      positionals: ["strategy-id"],
      options: { after: { type: "string" }, timeout: { type: "string" } },
    });
    if (!p) return EXIT.OK;
    const timeoutS = positiveInt("events", "timeout", p.values.timeout);
    const id = p.positionals[0];
    const client = cliClient(io, p.values.url as string | undefined);
    const caller = linkSignal(io.signal);
    const stop = new AbortController();
    let timedOut = false;
    const timer = timeoutS === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, timeoutS * 1000);
    const signal = AbortSignal.any([caller.signal, stop.signal]);
    try {
      for await (
        const e of client.events(id, {
          signal,
          ...(p.values.after ? { lastEventId: p.values.after as string } : {}),
        })
      ) {
        if (p.values.json) io.out(JSON.stringify(eventJson(e)));
        else {
          const why = e.data.error
            ? `  ${e.data.error.code}: ${e.data.error.message}`
            : e.state === "COMPLETED"
            ? `  (${Object.keys(e.data.queueMap ?? {}).length} topics)`
            : "";
          io.out(`${e.time}  ${e.type.padEnd(26)} ${e.state ?? ""}${why}`);
        }
        if (e.state && TERMINAL.has(e.state)) {
          // A replayed COMPLETED may be followed by a RETIRED: stop only at
          // the strategy's current state.
          const now = await client.get(id, { signal });
          if (now.state === e.state) {
            return e.state === "FAILED" ? EXIT.FAILED : EXIT.OK;
          }
        }
      }
    } catch (err) {
      if (!timedOut && !caller.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      caller.dispose();
    }
    if (timedOut) {
      io.err(`qmtl: events: no terminal state within ${timeoutS} s`);
      return EXIT.TIMEOUT;
    }
    return io.signal?.aborted ? EXIT.INTERRUPTED : EXIT.OK;
  },
};
