import { MemoryTopicStore } from "../../lib/queue/memory_topic_store.ts";
import { topicStoreConformance } from "./topic_store_conformance.ts";

topicStoreConformance(
  (name, fn) => Deno.test(`MemoryTopicStore: ${name}`, fn),
  (defaults) => {
    const store = new MemoryTopicStore({ defaults });
    return Promise.resolve({ store, cleanup: () => store.close() });
  },
);
