// Drill command lines and clean-up order.
import assert from "node:assert/strict";
import {
  Cleanup,
  parseDrillArgs,
  UsageError,
} from "../../../deploy/drills/cli.ts";
import { chooseRegistry } from "../../../deploy/drills/common.ts";
import { withoutQmtl } from "../../../deploy/drills/server_process.ts";

Deno.test("parseDrillArgs: defaults, flags, bad options", () => {
  assert.deepEqual(parseDrillArgs([]), {
    short: false,
    json: false,
    keep: false,
    help: false,
    redis: "private",
  });
  assert.equal(parseDrillArgs(["--redis=env"]).redis, "env");
  assert.throws(() => parseDrillArgs(["--redis=shared"]), UsageError);
  assert.throws(() => parseDrillArgs(["extra"]), UsageError);
});

Deno.test("Cleanup: runs steps last-in first-out, once, and goes on after a failing step", async () => {
  const order: string[] = [];
  const logs: string[] = [];
  const c = new Cleanup();
  c.add("stack", () => order.push("stack"));
  c.add("server", () => {
    throw new Error("boom");
  });
  c.add("load", async () => {
    await Promise.resolve();
    order.push("load");
  });
  await Promise.all([c.run((l) => logs.push(l)), c.run((l) => logs.push(l))]);
  assert.deepEqual(order, ["load", "stack"]);
  assert.deepEqual(logs, ['clean-up "server" failed: boom']);
});

Deno.test("chooseRegistry: memory unless QMTL_NEO4J_URL is set and the server has namespaces", () => {
  assert.deepEqual(chooseRegistry({}).env, {});
  const without = chooseRegistry(
    { QMTL_NEO4J_URL: "bolt://127.0.0.1:7687" },
    "x1",
    false,
  );
  assert.deepEqual(without.env, {});
  assert.match(without.description, /^memory .*QMTL_NEO4J_NAMESPACE/);
  const withNs = chooseRegistry(
    { QMTL_NEO4J_URL: "bolt://127.0.0.1:7687", QMTL_NEO4J_USER: "neo4j" },
    "x1",
    true,
  );
  assert.equal(withNs.namespace, "drill_x1");
  assert.deepEqual(withNs.env, {
    QMTL_NEO4J_URL: "bolt://127.0.0.1:7687",
    QMTL_NEO4J_NAMESPACE: "drill_x1",
    QMTL_NEO4J_MIGRATE: "auto",
    QMTL_NEO4J_USER: "neo4j",
  });
});

Deno.test("the server subprocess inherits no QMTL_* variable of the caller", () => {
  assert.deepEqual(
    withoutQmtl({
      PATH: "/bin",
      HOME: "/h",
      QMTL_NEO4J_URL: "bolt://x",
      QMTL_TOKEN: "t",
    }),
    { PATH: "/bin", HOME: "/h" },
  );
});
