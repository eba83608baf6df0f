import { Neo4jRegistry } from "../../lib/dag/mod.ts";
import { registryConformance } from "./conformance.ts";
import { freshNamespace, testNeo4j } from "./helpers.ts";

const cfg = testNeo4j();

registryConformance({
  name: "neo4j",
  ignore: cfg === null,
  sanitize: false,
  factory: async () => {
    const registry = await Neo4jRegistry.connect({
      ...cfg!,
      namespace: freshNamespace("conf"),
      migrate: "auto",
    });
    return {
      registry,
      cleanup: async () => {
        try {
          await registry.purgeNamespace();
        } finally {
          await registry.close();
        }
      },
    };
  },
});
