import { RedisEventLog } from "../../lib/queue/redis_event_log.ts";
import { eventLogConformance } from "./event_log_conformance.ts";
import { closeAndDeletePrefix, redisTest, testPrefix } from "./redis_env.ts";

eventLogConformance(
  (name, fn) => redisTest(`RedisEventLog: ${name}`, () => fn()),
  ({ maxLen }) => {
    const url = Deno.env.get("QMTL_REDIS_URL")!;
    const keyPrefix = testPrefix("ev");
    const log = new RedisEventLog({ url, keyPrefix, maxLen });
    return Promise.resolve({
      log,
      cleanup: () => closeAndDeletePrefix(url, keyPrefix, log),
    });
  },
);
