/**
 * SDK ↔ Gateway integration, in process: `createGateway` on memory backends
 * served by `Deno.serve` on 127.0.0.1, driven only through `QmtlClient`.
 */
import assert from "node:assert/strict";
import { MemoryRegistry } from "../../lib/dag/mod.ts";
import { MemoryEventLog, MemoryQueue } from "../../lib/queue/mod.ts";
import { TEST_AUTH, token } from "../support/auth.ts";
import {
  createGateway,
  createLogger,
  type Gateway,
} from "../../lib/gateway/mod.ts";
import { QmtlClient, StrategyBuilder, ValidationError } from "../../sdk/mod.ts";
import { assertWaitSurvivesRestart, clientError, code } from "./helpers.ts";
import { input60, mean, step60 } from "./fixtures/nodes.ts";

interface Harness {
  gw: Gateway;
  url: string;
  port: number;
  logs: string[];
  serve(): void;
  stop(): Promise<void>;
  close(): Promise<void>;
}

function startGateway(): Harness {
  const registry = new MemoryRegistry();
  const queue = new MemoryQueue({ backoff: { baseMs: 50, maxMs: 500 } });
  const events = new MemoryEventLog();
  const logs: string[] = [];
  const gw = createGateway({
    registry,
    queue,
    events,
    auth: TEST_AUTH,
    policy: { subjects: { tiny: { maxNodes: 2 } } },
    logger: createLogger({ level: "warn", sink: (l) => logs.push(l) }),
    worker: { leaseMs: 5_000, sweepIntervalMs: 60_000 },
    // Streams end quickly so a graceful shutdown does not wait on them (the
    // SDK reconnects and resumes).
    sse: { maxDurationMs: 1_000, heartbeatMs: 500, pollMs: 100 },
  });
  let server: Deno.HttpServer | undefined;
  let port = 0;
  const h: Harness = {
    gw,
    url: "",
    port: 0,
    logs,
    serve() {
      server = Deno.serve(
        { hostname: "127.0.0.1", port, onListen: () => {} },
        gw.app.fetch,
      );
      port = (server.addr as Deno.NetAddr).port;
      h.port = port;
      h.url = `http://127.0.0.1:${port}`;
    },
    async stop() {
      await server?.shutdown();
      server = undefined;
    },
    async close() {
      await h.stop();
      await gw.close();
      await queue.close();
      await events.close();
      await registry.close();
    },
  };
  h.serve();
  return h;
}

function crossover(name = "sma_crossover", signalPeriod = 2): StrategyBuilder {
  const s = new StrategyBuilder(name);
  const price = input60(s, "btc_close", ["btc", "close"], { asset: "BTC" });
  const fast = step60(s, "sma_fast", [price], 5, mean, {
    params: { window: 5 },
  });
  const slow = step60(s, "sma_slow", [price], 20, mean, {
    params: { window: 20 },
  });
  step60(
    s,
    "crossover",
    [fast, slow],
    signalPeriod,
    (v) => Math.sign(v.inputs[0].last - v.inputs[1].last),
    { nodeType: "Signal" },
  );
  return s;
}

async function withGateway(
  fn: (h: Harness, submitter: QmtlClient) => Promise<void>,
) {
  const h = startGateway();
  try {
    const c = new QmtlClient({
      url: h.url,
      token: await token("alice", ["submitter", "reader"]),
      retry: { maxAttempts: 4, baseMs: 20, maxMs: 200 },
    });
    await fn(h, c);
  } finally {
    await h.close();
  }
}

Deno.test("in-process: submit, status, events, retire", async () => {
  await withGateway(async (_h, c) => {
    const s = crossover();
    const dag = s.build();
    const ack = await c.submit(s, { version: "1" });
    assert.ok(ack.strategyId);
    assert.equal(ack.duplicate, false);
    const done = await c.waitFor(ack.strategyId, "COMPLETED", {
      timeoutMs: 10_000,
    });
    assert.equal(done.state, "COMPLETED");
    assert.equal(ack.state, "QUEUED");
    assert.deepEqual(
      Object.keys(done.queueMap).sort(),
      dag.nodes.map((n) => n.nodeId).sort(),
    );
    assert.equal(done.created.length, 4);
    assert.equal(done.name, "sma_crossover");

    const again = await c.submit(s, { version: "1" });
    assert.equal(again.strategyId, ack.strategyId);
    assert.equal(again.duplicate, true);

    const seen = [];
    for await (
      const e of c.events(ack.strategyId, {
        signal: AbortSignal.timeout(5_000),
      })
    ) {
      seen.push(e);
      if (e.state === "COMPLETED") break;
    }
    assert.deepEqual(seen.map((e) => e.state), [
      "QUEUED",
      "PROCESSING",
      "COMPLETED",
    ]);
    assert.equal(seen[2].type, "qmtl.strategy.completed");
    assert.equal(seen[2].subject, ack.strategyId);
    assert.deepEqual(seen[2].data.queueMap, done.queueMap);

    // resume after the first event: only the later ones come back
    const resumed = [];
    for await (
      const e of c.events(ack.strategyId, {
        lastEventId: seen[0].cursor,
        signal: AbortSignal.timeout(5_000),
      })
    ) {
      resumed.push(e.state);
      if (e.state === "COMPLETED") break;
    }
    assert.deepEqual(resumed, ["PROCESSING", "COMPLETED"]);

    const retired = await c.retire(ack.strategyId);
    assert.equal(retired.state, "RETIRED");
    assert.equal(
      (await c.waitFor(ack.strategyId, "RETIRED", { timeoutMs: 5_000 })).state,
      "RETIRED",
    );
  });
});

Deno.test("in-process: a second strategy reuses the shared SMA topics", async () => {
  await withGateway(async (_h, c) => {
    const first = await c.submit(crossover("first", 2), { version: "1" });
    const a = await c.waitFor(first.strategyId, "COMPLETED", {
      timeoutMs: 10_000,
    });
    const second = await c.submit(crossover("second", 3), { version: "1" });
    const b = await c.waitFor(second.strategyId, "COMPLETED", {
      timeoutMs: 10_000,
    });
    const shared = crossover("x").build().nodes.filter((n) =>
      n.name !== "crossover"
    );
    for (const n of shared) {
      assert.ok(b.reused.includes(n.nodeId), `${n.name} reused`);
      assert.equal(
        b.queueMap[n.nodeId],
        a.queueMap[n.nodeId],
        `${n.name} same topic`,
      );
    }
    assert.equal(b.created.length, 1);
    const nodes = await c.nodesByTags(["btc"], { matchMode: "any" });
    assert.ok(
      nodes.some((r) => r.node.name === "btc_close" && r.refCount === 2),
    );
    const page = await c.listNodes({ pageSize: 100 });
    assert.equal(page.nodes.length, 5);
  });
});

Deno.test("in-process: auth, ACL, policy, schema and not-found failures are typed", async () => {
  await withGateway(async (h, c) => {
    const s = crossover();
    const anon = new QmtlClient({ url: h.url });
    await assert.rejects(
      () => anon.submit(s, { version: "1" }),
      code("E_UNAUTHENTICATED"),
    );
    const forged = new QmtlClient({ url: h.url, token: "not.a.jwt" });
    await assert.rejects(() => forged.get("st_x"), code("E_UNAUTHENTICATED"));
    const expired = new QmtlClient({
      url: h.url,
      token: await token("alice", ["submitter"], -120),
    });
    await assert.rejects(
      () => expired.get("st_x"),
      code("E_UNAUTHENTICATED"),
    );

    const reader = new QmtlClient({
      url: h.url,
      token: await token("rita", ["reader"]),
    });
    const acl = await clientError(reader.submit(s, { version: "1" }));
    assert.equal(acl.code, "E_FORBIDDEN");
    assert.equal(acl.connectCode, "permission_denied");
    assert.equal(acl.status, 403);

    const tiny = new QmtlClient({
      url: h.url,
      token: await token("tiny", ["submitter"]),
    });
    const pol = await clientError(tiny.submit(s, { version: "1" }));
    assert.equal(pol.code, "E_POLICY");

    const future = new QmtlClient({
      url: h.url,
      token: await token("alice", ["submitter"]),
      schemaVersion: "3.0.0",
    });
    const sch = await clientError(future.submit(s, { version: "1" }));
    assert.equal(sch.code, "E_SCHEMA_INCOMPATIBLE");
    assert.equal(sch.connectCode, "failed_precondition");
    assert.equal(sch.status, 400);
    assert.ok(sch.accepted?.includes("2.0.0"), JSON.stringify(sch.accepted));
    assert.equal(sch.serverVersion, "2.0.0");

    await assert.rejects(
      () => c.get("st_does_not_exist"),
      code("E_NOT_FOUND"),
    );
  });
});

Deno.test("in-process: the gateway rejects a tampered DAG with node + field", async () => {
  await withGateway(async (_h, c) => {
    const dag = crossover().build();
    dag.nodes[2] = { ...dag.nodes[2], period: 21 }; // ID no longer matches
    const e = await c.submit(dag, { version: "1" }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(e instanceof ValidationError, String(e));
    assert.equal(e.code, "E_NODE_ID_MISMATCH");
    assert.equal(e.node, "sma_slow");
    assert.match(e.field ?? "", /nodes\[2\]/);
  });
});

Deno.test("in-process: waitFor survives a server restart mid-wait", async () => {
  await withGateway(async (h, c) => {
    await assertWaitSurvivesRestart(
      c,
      crossover(),
      { stop: () => h.stop(), start: () => h.serve() },
      {
        completed: 10_000,
        retired: 20_000,
        poll: 100,
        beforeStop: 200,
        down: 500,
      },
    );
  });
});
