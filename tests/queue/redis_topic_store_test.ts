import { RedisTopicStore } from "../../lib/queue/redis_topic_store.ts";
import { topicStoreConformance } from "./topic_store_conformance.ts";
import { freshPrefixed, redisTest } from "./redis_env.ts";

topicStoreConformance(
  (name, fn) => redisTest(`RedisTopicStore: ${name}`, () => fn()),
  (defaults) => {
    const { backend: store, cleanup } = freshPrefixed(
      "topics",
      (url, keyPrefix) => new RedisTopicStore({ url, keyPrefix, defaults }),
    );
    return Promise.resolve({ store, cleanup });
  },
);
