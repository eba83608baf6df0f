/**
 * The durable record: after the drill, each acknowledged strategy's own
 * stream of the Redis event log (the one `/v1/events?strategy=` serves) is
 * read from its start, and its COMPLETED events are counted by CloudEvent id
 * (an append whose replica confirmation timed out may be stored and then
 * retried with the same id; consumers dedup by id, so does the audit).
 *
 * @module
 */

import { strategyStream } from "../../lib/gateway/mod.ts";
import { RedisEventLog } from "../../lib/queue/mod.ts";
import { COMPLETED_EVENT } from "./event_feed.ts";
import type { Timeline } from "./timeline.ts";

/** One strategy's lifecycle as the event log holds it. */
export interface LoggedLifecycle {
  /** Event types in log order (after de-duplication by id). */
  types: string[];
  /** COMPLETED events: CloudEvent id and time (ms since the drill started). */
  completed: { id: string; timeMs: number }[];
}

/**
 * Read the event-log stream of every strategy in `ids` (up to 1000 entries
 * each; a drill strategy has a handful).
 *
 * @example
 * ```ts ignore
 * const audit = await auditEventLog(redisUrl, ["st_1"], clock);
 * console.log(audit.get("st_1")?.completed.length);
 * ```
 */
export async function auditEventLog(
  redisUrl: string,
  ids: Iterable<string>,
  clock: Timeline,
): Promise<Map<string, LoggedLifecycle>> {
  const log = new RedisEventLog({ url: redisUrl, waitReplicas: 0 });
  const out = new Map<string, LoggedLifecycle>();
  const one = async (id: string) => {
    const seen = new Set<string>();
    const life: LoggedLifecycle = { types: [], completed: [] };
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const entries = await log.read(strategyStream(id), { after, count: 100 });
      for (const e of entries) {
        after = e.id;
        if (seen.has(e.event.id)) continue;
        seen.add(e.event.id);
        life.types.push(e.event.type);
        if (e.event.type === COMPLETED_EVENT) {
          life.completed.push({
            id: e.event.id,
            timeMs: clock.at(Date.parse(e.event.time)),
          });
        }
      }
      if (entries.length < 100) break;
    }
    out.set(id, life);
  };
  try {
    // 16 reads in flight (one connection, pipelined by ioredis).
    const list = [...ids];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(16, list.length) }, async () => {
        while (next < list.length) await one(list[next++]);
      }),
    );
  } finally {
    await log.close();
  }
  return out;
}
