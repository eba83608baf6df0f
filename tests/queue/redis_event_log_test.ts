import { closeRedis } from "../../lib/queue/connection.ts";
import { RedisEventLog } from "../../lib/queue/redis_event_log.ts";
import { eventLogConformance } from "./event_log_conformance.ts";
import {
  deletePrefix,
  redisTest,
  testClient,
  testPrefix,
} from "./redis_env.ts";

eventLogConformance(
  (name, fn) => redisTest(`RedisEventLog: ${name}`, () => fn()),
  ({ maxLen }) => {
    const url = Deno.env.get("QMTL_REDIS_URL")!;
    const keyPrefix = testPrefix("ev");
    const log = new RedisEventLog({ url, keyPrefix, maxLen });
    return Promise.resolve({
      log,
      cleanup: async () => {
        await log.close();
        const redis = testClient(url);
        await deletePrefix(redis, keyPrefix);
        await closeRedis(redis);
      },
    });
  },
);
