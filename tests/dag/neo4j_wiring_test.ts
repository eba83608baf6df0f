import assert from "node:assert/strict";
import neo4j from "neo4j-driver";
import { serviceUrl } from "../support/services.ts";

const svc = serviceUrl("QMTL_NEO4J_URL");

Deno.test({
  name: "wiring: the real Neo4j answers RETURN 1 over Bolt",
  ignore: svc.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const user = Deno.env.get("QMTL_NEO4J_USER");
    const driver = neo4j.driver(
      svc.url!,
      user
        ? neo4j.auth.basic(user, Deno.env.get("QMTL_NEO4J_PASSWORD") ?? "")
        : undefined,
      { connectionTimeout: 5000 },
    );
    try {
      const res = await driver.executeQuery("RETURN 1 AS one");
      assert.equal(res.records[0].get("one").toNumber(), 1);
      const info = await driver.getServerInfo();
      assert.match(info.protocolVersion?.toString() ?? "", /^5\.|^\d/);
    } finally {
      await driver.close();
    }
  },
});
