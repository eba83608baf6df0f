import { RedisEventLog } from "../../lib/queue/redis_event_log.ts";
import { eventLogConformance } from "./event_log_conformance.ts";
import { freshPrefixed, redisTest } from "./redis_env.ts";

eventLogConformance(
  (name, fn) => redisTest(`RedisEventLog: ${name}`, () => fn()),
  ({ maxLen }) => {
    const { backend: log, cleanup } = freshPrefixed(
      "ev",
      (url, keyPrefix) => new RedisEventLog({ url, keyPrefix, maxLen }),
    );
    return Promise.resolve({ log, cleanup });
  },
);
