/**
 * The live runner of the latency benchmark: px → sma3 → signal on a
 * RedisTopicStore (args: keyPrefix, topic prefix). Prints `ready` when warm.
 *
 * @module
 */

import { RedisTopicStore } from "../../lib/queue/mod.ts";
import { live, storeTopicIO } from "../../sdk/mod.ts";
import { chain, chainQueueMap } from "./live_strategy.ts";

const [keyPrefix, topicPrefix] = Deno.args;
const store = new RedisTopicStore({
  url: Deno.env.get("QMTL_REDIS_URL")!,
  keyPrefix,
});
const run = await live(chain(), {
  io: storeTopicIO(store),
  queueMap: chainQueueMap(topicPrefix),
  leaseMs: 10_000,
  waitMs: 5_000,
});
console.log("ready");
Deno.addSignalListener("SIGTERM", async () => {
  await run.stop();
  await store.close();
  Deno.exit(0);
});
