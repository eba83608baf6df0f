/**
 * Subscribes to one Sentinel's failover channels (`+sdown`, `-sdown`,
 * `+odown`, `-odown`, `+switch-master`, `+failover-end`, …) and records each
 * message with the time it arrived.
 *
 * @module
 */

import { Redis } from "ioredis";
import { closeRedis } from "../../lib/queue/mod.ts";
import type { Timeline } from "./timeline.ts";

/** The channels the watch subscribes to. */
export const WATCHED_CHANNELS: readonly string[] = [
  "+sdown",
  "-sdown",
  "+odown",
  "-odown",
  "+try-failover",
  "+elected-leader",
  "+promoted-slave",
  "+switch-master",
  "+failover-end",
  "+convert-to-slave",
];

/** One Sentinel message. */
export interface SentinelMessage {
  /** Arrival, ms since the drill started. */
  atMs: number;
  /** Channel, e.g. `+switch-master`. */
  type: string;
  /** Payload, e.g. `master qmtl 127.0.0.1 31379`. */
  message: string;
}

/** A running watch. */
export interface SentinelWatch {
  /** Messages so far, in arrival order. */
  readonly events: SentinelMessage[];
  /** The first message of a type that concerns the master (`master …` or `+switch-master`). */
  firstAboutMaster(type: string): SentinelMessage | undefined;
  /** Unsubscribe and close. */
  close(): Promise<void>;
}

/**
 * Subscribe to the Sentinel on `127.0.0.1:port`.
 *
 * @example
 * ```ts ignore
 * const watch = await watchSentinel(26379, clock);
 * // … later
 * console.log(watch.firstAboutMaster("+switch-master"));
 * await watch.close();
 * ```
 */
export async function watchSentinel(
  port: number,
  clock: Timeline,
): Promise<SentinelWatch> {
  const sub = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectionName: "qmtl-drill-sentinel-watch",
  });
  const events: SentinelMessage[] = [];
  sub.on("message", (channel: string, message: string) => {
    events.push({ atMs: clock.at(), type: channel, message });
  });
  sub.on("error", () => {}); // reconnects by itself; errors are not events
  await sub.connect();
  await sub.subscribe(...WATCHED_CHANNELS);
  return {
    events,
    firstAboutMaster: (type) =>
      events.find((e) =>
        e.type === type &&
        (type === "+switch-master" || e.message.startsWith("master "))
      ),
    async close() {
      await closeRedis(sub);
    },
  };
}
