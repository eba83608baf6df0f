/**
 * `qmtl topics`: the topics of the global DAG.
 *
 * @module
 */

import type { TopicInfo } from "../../client.ts";
import { parseOrHelp, positiveInt } from "../args.ts";
import { cliClient } from "../client.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { table } from "../io.ts";

/**
 * The `topics` command.
 *
 * @example
 * ```ts ignore
 * import { topics } from "./topics.ts";
 * await topics.run(["--json"], io);
 * ```
 */
export const topics: Command = {
  name: "topics",
  summary: "list the topics of the global DAG",
  usage: `usage: qmtl topics [--limit N] [--json] [--url URL]

Every topic (up to --limit, default 1000), ordered by name, with the node whose
output it carries and its retention. Needs the reader, operator or service
role (a submitter-only token gets exit 5).`,
  async run(args, io) {
    const p = parseOrHelp(this, args, io, {
      options: { limit: { type: "string" } },
    });
    if (!p) return EXIT.OK;
    const limit = positiveInt("topics", "limit", p.values.limit) ?? 1000;
    const client = cliClient(io, p.values.url as string | undefined);
    const all: TopicInfo[] = [];
    let pageToken = "";
    while (all.length < limit) {
      const page = await client.listTopics({
        pageSize: Math.min(1000, limit - all.length),
        pageToken,
        signal: io.signal,
      });
      all.push(...page.topics);
      pageToken = page.nextPageToken;
      if (!pageToken) break;
    }
    if (p.values.json) {
      io.out(JSON.stringify(all.slice(0, limit)));
      return EXIT.OK;
    }
    if (all.length === 0) {
      io.out("no topics");
      return EXIT.OK;
    }
    table(
      ["TOPIC", "RETENTION", "NODE"],
      all.slice(0, limit).map((t) => [
        t.name,
        `${Math.round(t.retentionMs / 3_600_000)}h`,
        t.nodeId,
      ]),
    ).forEach((l) => io.out(l));
    return EXIT.OK;
  },
};
