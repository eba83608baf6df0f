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

Deno.test("wiring: enableNoDelay finds the driver's channel factory", async () => {
  const { enableNoDelay } = await import("../../lib/dag/neo4j/driver.ts");
  const driver = neo4j.driver("bolt://127.0.0.1:1");
  try {
    // a neo4j-driver upgrade that moves these internals fails here
    assert.equal(enableNoDelay(driver), true);
    assert.equal(enableNoDelay(driver), true); // idempotent
  } finally {
    await driver.close();
  }
});

Deno.test({
  name:
    "wiring: a multi-chunk request pays no Nagle/delayed-ACK stall (TCP_NODELAY)",
  ignore: svc.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { createNeo4jDriver } = await import(
      "../../lib/dag/neo4j/driver.ts"
    );
    const user = Deno.env.get("QMTL_NEO4J_USER");
    const driver = createNeo4jDriver({
      url: svc.url!,
      user,
      password: Deno.env.get("QMTL_NEO4J_PASSWORD"),
    });
    const session = driver.session();
    try {
      // ≈ 6 KB of parameters: several 1,400-byte Bolt chunks
      const xs = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(60, "x"));
      const times: number[] = [];
      for (let i = 0; i < 11; i++) {
        const t0 = performance.now();
        await session.run("UNWIND $xs AS x RETURN count(*) AS c", { xs });
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      // with Nagle on, every such request waits ≥ 40 ms for a delayed ACK;
      // without, it takes a few ms even on a loaded box
      assert.ok(times[5] < 30, `median ${times[5].toFixed(1)} ms`);
    } finally {
      await session.close();
      await driver.close();
    }
  },
});
