/**
 * `qmtl nodes [--tags a,b] [--mode any|all] [--interval S]`: nodes of the
 * global DAG, by tags or all of them.
 *
 * @module
 */

import type { NodeRecord } from "../../views.ts";
import { parseOrHelp, positiveInt } from "../args.ts";
import { cliClient } from "../client.ts";
import type { Command } from "../command.ts";
import { EXIT, UsageError } from "../exit.ts";
import { table } from "../io.ts";

function nodeJson(r: NodeRecord): Record<string, unknown> {
  return {
    nodeId: r.node.nodeId,
    name: r.node.name,
    nodeType: r.node.nodeType,
    intervalS: r.node.intervalS,
    period: r.node.period,
    tags: [...r.node.tags],
    inputs: [...r.node.inputs],
    topic: r.topic,
    refCount: r.refCount,
  };
}

/**
 * The `nodes` command.
 *
 * @example
 * ```ts ignore
 * import { nodes } from "./nodes.ts";
 * await nodes.run(["--tags", "btc,close", "--mode", "all"], io);
 * ```
 */
export const nodes: Command = {
  name: "nodes",
  summary: "list nodes of the global DAG, by tags or all",
  usage:
    `usage: qmtl nodes [--tags TAG,TAG] [--mode any|all] [--interval SECONDS] [--limit N] [--json] [--url URL]

With --tags, the nodes carrying any (default) or all (--mode all) of the tags,
optionally of one interval. Without, every node (up to --limit, default 1000),
ordered by ID. Columns: name, type, interval, references, topic, node ID.`,
  async run(args, io) {
    const p = parseOrHelp(this, args, io, {
      options: {
        tags: { type: "string" },
        mode: { type: "string" },
        interval: { type: "string" },
        limit: { type: "string" },
      },
    });
    if (!p) return EXIT.OK;
    const mode = (p.values.mode as string | undefined) ?? "any";
    if (mode !== "any" && mode !== "all") {
      throw new UsageError(`nodes: --mode must be any or all, got ${mode}`);
    }
    const intervalS = positiveInt("nodes", "interval", p.values.interval);
    const limit = positiveInt("nodes", "limit", p.values.limit) ?? 1000;
    const client = cliClient(io, p.values.url as string | undefined);
    let records: NodeRecord[] = [];
    if (p.values.tags !== undefined) {
      const tags = (p.values.tags as string).split(",").map((t) => t.trim())
        .filter((t) => t !== "");
      if (tags.length === 0) throw new UsageError("nodes: --tags is empty");
      records = await client.nodesByTags(tags, {
        matchMode: mode,
        ...(intervalS ? { intervalS } : {}),
        signal: io.signal,
      });
    } else {
      let pageToken = "";
      while (records.length < limit) {
        const page = await client.listNodes({
          pageSize: Math.min(1000, limit - records.length),
          pageToken,
          ...(intervalS ? { intervalS } : {}),
          signal: io.signal,
        });
        records.push(...page.nodes);
        pageToken = page.nextPageToken;
        if (!pageToken) break;
      }
    }
    records = records.slice(0, limit);
    if (p.values.json) {
      io.out(JSON.stringify(records.map(nodeJson)));
      return EXIT.OK;
    }
    if (records.length === 0) {
      io.out("no nodes");
      return EXIT.OK;
    }
    table(
      ["NAME", "TYPE", "INTERVAL", "REFS", "TOPIC", "NODE"],
      records.map((r) => [
        r.node.name,
        r.node.nodeType,
        `${r.node.intervalS}s`,
        String(r.refCount),
        r.topic,
        r.node.nodeId,
      ]),
    ).forEach((l) => io.out(l));
    return EXIT.OK;
  },
};
