import { MemoryEventLog } from "../../lib/queue/memory_event_log.ts";
import { eventLogConformance } from "./event_log_conformance.ts";

eventLogConformance(
  (name, fn) => Deno.test(`MemoryEventLog: ${name}`, fn),
  ({ maxLen }) => {
    const log = new MemoryEventLog({ maxLen });
    return Promise.resolve({ log, cleanup: () => log.close() });
  },
);
