import { registryConformance } from "./conformance.ts";
import { freshNamespace, testNeo4j } from "./helpers.ts";
import { dropRegistry, openRegistry } from "./neo4j_env.ts";

const cfg = testNeo4j();

registryConformance({
  name: "neo4j",
  ignore: cfg === null,
  sanitize: false,
  factory: async () => {
    const registry = await openRegistry(cfg!, freshNamespace("conf"));
    return { registry, cleanup: () => dropRegistry(registry) };
  },
});
