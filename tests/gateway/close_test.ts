/**
 * Backends are explicit and `close()` releases what the gateway opened:
 * a durable queue without a store is refused; a process that closes its
 * gateway (and the backends it opened) exits right away, on memory and on
 * Redis Sentinel + Neo4j.
 */
import assert from "node:assert/strict";
import { createGateway } from "../../lib/gateway/mod.ts";
import { MemoryRegistry } from "../../lib/dag/mod.ts";
import {
  createRedis,
  MemoryEventLog,
  MemoryQueue,
  RedisQueue,
} from "../../lib/queue/mod.ts";
import { MAX_EXIT_LAG_MS, runTimed } from "../support/exit_timing.ts";
import { realStack } from "../support/services.ts";
import { TEST_AUTH } from "../support/auth.ts";

const ROOT = new URL("../../", import.meta.url);
const auth = TEST_AUTH;

Deno.test("createGateway: a durable queue without store, webhookQueue, topics is refused, naming them", () => {
  const redis = createRedis("redis://127.0.0.1:1", { lazyConnect: true });
  try {
    const queue = new RedisQueue({ redis, name: "diff" });
    assert.throws(
      () =>
        createGateway({
          registry: new MemoryRegistry(),
          queue,
          events: new MemoryEventLog(),
          auth,
          worker: { autoStart: false },
        }),
      (e: Error) =>
        e instanceof TypeError &&
        /queue is a RedisQueue, but store, webhookQueue, topics were not given/
          .test(e.message) &&
        /openBackends/.test(e.message),
    );
  } finally {
    redis.disconnect();
  }
});

Deno.test("createGateway: memory queue and events get in-memory defaults; close() closes them but not what it was given", async () => {
  const queue = new MemoryQueue();
  const events = new MemoryEventLog();
  const registry = new MemoryRegistry();
  const gw = createGateway({
    registry,
    queue,
    events,
    auth,
    worker: { autoStart: false },
  });
  await gw.close();
  // Given backends stay usable.
  assert.equal((await queue.stats()).ready, 0);
  assert.deepEqual(await events.read("qmtl.strategies", { count: 1 }), []);
  assert.equal((await registry.health()).ok, true);
  // The topics it created were closed.
  await assert.rejects(
    gw.topics.publish("t", [{ barTs: 60, data: new Uint8Array([1]) }], ""),
    /closed/,
  );
  await queue.close();
  await events.close();
  await registry.close();
});

Deno.test("a process that closes its gateway exits at once (memory defaults)", async () => {
  const run = await runTimed(
    ["run", "-A", "tests/gateway/fixtures/close_child.ts", "memory"],
    { cwd: ROOT, timeoutMs: 30_000 },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.stdout, ["healthz 200", "closed"]);
  assert.ok(
    run.exitLagMs < MAX_EXIT_LAG_MS,
    `exited ${Math.round(run.exitLagMs)} ms after "closed"`,
  );
});

const stack = realStack();
Deno.test({
  name:
    "a process that closes its gateway and openBackends() exits at once (Redis Sentinel + Neo4j)",
  ignore: stack.ignore,
  async fn() {
    const run = await runTimed(
      ["run", "-A", "tests/gateway/fixtures/close_child.ts", "backends"],
      { cwd: ROOT, timeoutMs: 60_000 },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout, [
      "healthz 200",
      "given queue still open number",
      "closed",
    ]);
    assert.ok(
      run.exitLagMs < MAX_EXIT_LAG_MS,
      `exited ${Math.round(run.exitLagMs)} ms after "closed"`,
    );
  },
});
