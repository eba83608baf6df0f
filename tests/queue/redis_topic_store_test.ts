import { RedisTopicStore } from "../../lib/queue/redis_topic_store.ts";
import { topicStoreConformance } from "./topic_store_conformance.ts";
import { closeAndDeletePrefix, redisTest, testPrefix } from "./redis_env.ts";

topicStoreConformance(
  (name, fn) => redisTest(`RedisTopicStore: ${name}`, () => fn()),
  (defaults) => {
    const url = Deno.env.get("QMTL_REDIS_URL")!;
    const keyPrefix = testPrefix("topics");
    const store = new RedisTopicStore({ url, keyPrefix, defaults });
    return Promise.resolve({
      store,
      cleanup: () => closeAndDeletePrefix(url, keyPrefix, store),
    });
  },
);
