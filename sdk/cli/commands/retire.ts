/**
 * `qmtl retire <strategy-id>`: retire a completed strategy.
 *
 * @module
 */

import { parseOrHelp } from "../args.ts";
import { cliClient } from "../client.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { statusJson } from "./status.ts";

/**
 * The `retire` command.
 *
 * @example
 * ```ts ignore
 * import { retire } from "./retire.ts";
 * await retire.run(["st_1"], io);
 * ```
 */
export const retire: Command = {
  name: "retire",
  summary:
    "retire a completed strategy (its unshared nodes are collected later)",
  usage: `usage: qmtl retire <strategy-id> [--json] [--url URL]

Retires a COMPLETED strategy: COMPLETED → RETIRED; nodes no other live
strategy uses are garbage-collected after the grace period. Retiring a
RETIRED strategy again is a no-op. Exit 4 for an unknown strategy, 6 when it
cannot be retired in its state, 5 when you may not retire it.`,
  async run(args, io) {
    const p = parseOrHelp(this, args, io, { positionals: ["strategy-id"] });
    if (!p) return EXIT.OK;
    const client = cliClient(io, p.values.url as string | undefined);
    const s = await client.retire(p.positionals[0], { signal: io.signal });
    if (p.values.json) io.out(JSON.stringify(statusJson(s)));
    else io.out(`${s.strategyId}  ${s.name}  ${s.state}`);
    return EXIT.OK;
  },
};
