/**
 * `qmtl status <strategy-id>`: a strategy's state, counts, queue map and
 * last error.
 *
 * @module
 */

import type { StrategyStatus } from "../../views.ts";
import { parseOrHelp } from "../args.ts";
import { cliClient } from "../client.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { isoTime } from "../io.ts";

/**
 * A status as plain JSON (no protobuf internals).
 *
 * @param s the status
 * @returns a JSON-ready object
 * @example
 * ```ts ignore
 * import { statusJson } from "./status.ts";
 * console.log(JSON.stringify(statusJson(status)));
 * ```
 */
export function statusJson(s: StrategyStatus): Record<string, unknown> {
  return {
    strategyId: s.strategyId,
    name: s.name,
    owner: s.owner,
    version: s.version,
    state: s.state,
    dagHash: s.dagHash,
    nodeCount: s.nodeCount,
    attempts: s.attempts,
    created: s.created,
    reused: s.reused,
    queueMap: s.queueMap,
    error: s.error
      ? { code: s.error.code, message: s.error.message, nodeId: s.error.nodeId }
      : null,
    createdAtMs: s.createdAtMs,
    updatedAtMs: s.updatedAtMs,
  };
}

/**
 * Human lines of a status.
 *
 * @param s the status
 * @returns the lines
 * @example
 * ```ts ignore
 * import { statusLines } from "./status.ts";
 * statusLines(status).forEach((l) => console.log(l));
 * ```
 */
export function statusLines(s: StrategyStatus): string[] {
  const lines = [
    `${s.strategyId}  ${s.name}  version ${s.version}  ${s.state}`,
    `owner ${s.owner}, ${s.nodeCount} nodes, attempts ${s.attempts}, ` +
    `${s.created.length} created, ${s.reused.length} reused, updated ${
      isoTime(s.updatedAtMs)
    }`,
  ];
  const entries = Object.entries(s.queueMap);
  if (entries.length > 0) {
    lines.push("queue map:");
    for (const [node, topic] of entries) lines.push(`  ${node}  ${topic}`);
  }
  if (s.error) {
    lines.push(`error: ${s.error.code} ${s.error.message}`);
  }
  return lines;
}

/**
 * The `status` command.
 *
 * @example
 * ```ts ignore
 * import { status } from "./status.ts";
 * await status.run(["st_1"], io);
 * ```
 */
export const status: Command = {
  name: "status",
  summary: "show a strategy: state, counts, queue map, last error",
  usage: `usage: qmtl status <strategy-id> [--json] [--url URL]

Shows the strategy's state, node counts, queue map (node ID → topic) and last
error. Exit 0 when found (whatever its state), 4 when there is no such
strategy (or it is not visible to you).`,
  async run(args, io) {
    const p = parseOrHelp(this, args, io, { positionals: ["strategy-id"] });
    if (!p) return EXIT.OK;
    const client = cliClient(io, p.values.url as string | undefined);
    const s = await client.get(p.positionals[0], { signal: io.signal });
    if (p.values.json) io.out(JSON.stringify(statusJson(s)));
    else statusLines(s).forEach((l) => io.out(l));
    return EXIT.OK;
  },
};
