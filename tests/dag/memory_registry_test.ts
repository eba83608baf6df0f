import { MemoryRegistry } from "../../lib/dag/mod.ts";
import { registryConformance } from "./conformance.ts";

registryConformance({
  name: "memory",
  factory: () => {
    const registry = new MemoryRegistry();
    return Promise.resolve({ registry, cleanup: () => registry.close() });
  },
});
