/**
 * SDK ↔ reference server integration: `deno task serve` as a subprocess
 * (QMTL_PORT=0; URL and dev token parsed from its output), driven only
 * through `QmtlClient`.
 */
import assert from "node:assert/strict";
import { TEST_AUTH, token } from "../support/auth.ts";
import { QmtlClient, StrategyBuilder } from "../../sdk/mod.ts";
import { realStack } from "../support/services.ts";
import { freePort, startServe } from "../support/server_process.ts";
import { assertWaitSurvivesRestart, code } from "./helpers.ts";
import { input60, step60 } from "./fixtures/nodes.ts";

const SECRET = TEST_AUTH.secret;

const RETRY = { maxAttempts: 4, baseMs: 50, maxMs: 500 };

function strategy(name: string): StrategyBuilder {
  const s = new StrategyBuilder(name);
  const p = input60(s, "price", ["btc", "close"], { asset: "BTC" });
  step60(
    s,
    "sma",
    [p],
    10,
    (v) => v.values.reduce((a: number, b: number) => a + b, 0) / v.length,
    { params: { window: 10 } },
  );
  return s;
}

Deno.test("subprocess (dev mode): submit, status, events, retire with the printed token", async () => {
  const srv = await startServe();
  try {
    assert.ok(srv.token, "dev token printed");
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const c = new QmtlClient({ url: srv.url, token: srv.token, retry: RETRY });
    const ack = await c.submit(strategy("sub_dev"), { version: "1" });
    const done = await c.waitFor(ack.strategyId, "COMPLETED", {
      timeoutMs: 20_000,
    });
    assert.equal(Object.keys(done.queueMap).length, 2);
    assert.equal((await c.get(ack.strategyId)).state, "COMPLETED");
    const states = [];
    for await (
      const e of c.events(ack.strategyId, {
        signal: AbortSignal.timeout(10_000),
      })
    ) {
      states.push(e.state);
      if (e.state === "COMPLETED") break;
    }
    assert.deepEqual(states, ["QUEUED", "PROCESSING", "COMPLETED"]);
    assert.equal((await c.retire(ack.strategyId)).state, "RETIRED");

    const bad = new QmtlClient({
      url: srv.url,
      token: srv.token + "x",
      retry: RETRY,
    });
    await assert.rejects(
      () => bad.get(ack.strategyId),
      code("E_UNAUTHENTICATED"),
    );
    const none = new QmtlClient({ url: srv.url, retry: RETRY });
    await assert.rejects(
      () => none.submit(strategy("x"), { version: "1" }),
      code("E_UNAUTHENTICATED"),
    );
    const old = new QmtlClient({
      url: srv.url,
      token: srv.token,
      schemaVersion: "0.9.0",
      retry: RETRY,
    });
    const e = await old.get(ack.strategyId).then(() => undefined, (e) => e);
    assert.ok(code("E_SCHEMA_INCOMPATIBLE")(e), String(e));
    assert.ok(e.accepted.length > 0);
  } finally {
    await srv.stop();
  }
});

Deno.test("subprocess (JWT secret): ACL refuses a reader's submission", async () => {
  const srv = await startServe({ env: { QMTL_JWT_SECRET: SECRET } });
  try {
    assert.equal(srv.token, undefined, "no dev token outside dev mode");
    const reader = new QmtlClient({
      url: srv.url,
      token: await token("rita", ["reader"]),
    });
    await assert.rejects(
      () => reader.submit(strategy("acl"), { version: "1" }),
      code("E_FORBIDDEN"),
    );
    const submitter = new QmtlClient({
      url: srv.url,
      token: await token("sam", ["submitter", "reader"]),
    });
    const ack = await submitter.submit(strategy("acl"), { version: "1" });
    await submitter.waitFor(ack.strategyId, "COMPLETED", { timeoutMs: 20_000 });
    // readers see every strategy; a submitter-only token may not retire others'
    assert.equal(
      (await reader.get(ack.strategyId)).state,
      "COMPLETED",
    );
    const other = new QmtlClient({
      url: srv.url,
      token: await token("otto", ["submitter"]),
    });
    await assert.rejects(
      () => other.retire(ack.strategyId),
      code("E_FORBIDDEN", "E_NOT_FOUND"),
    );
    await assert.rejects(
      () => reader.retire(ack.strategyId),
      code("E_FORBIDDEN"),
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("subprocess (memory backends): waitFor rides out a restart, then reports the server's answer", async () => {
  // The in-memory server forgets everything on restart, so after it comes
  // back the strategy is unknown: the wait must keep going through the
  // outage (no E_UNAVAILABLE error) and then surface E_NOT_FOUND.
  const port = String(freePort());
  const env = { QMTL_JWT_SECRET: SECRET, QMTL_PORT: port };
  let srv = await startServe({ env });
  try {
    const c = new QmtlClient({
      url: srv.url,
      token: await token("alice", ["submitter", "reader", "operator"]),
      retry: { maxAttempts: 2, baseMs: 50, maxMs: 200 },
    });
    const ack = await c.submit(strategy("restart_mem"), { version: "1" });
    await c.waitFor(ack.strategyId, "COMPLETED", { timeoutMs: 20_000 });
    const t0 = Date.now();
    const waiting = c.waitFor(ack.strategyId, "RETIRED", {
      timeoutMs: 60_000,
      pollMs: 100,
    })
      .then(() => undefined, (e) => e);
    await new Promise((r) => setTimeout(r, 300));
    await srv.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 1_000));
    srv = await startServe({ env });
    const e = await waiting;
    assert.ok(code("E_NOT_FOUND")(e), `expected E_NOT_FOUND, got ${e}`);
    assert.ok(
      Date.now() - t0 >= downAt - t0 + 1_000,
      "waited through the outage",
    );
  } finally {
    await srv.stop();
  }
});

const stack = realStack();

Deno.test({
  name:
    "subprocess (Neo4j + Redis): waitFor survives a server restart mid-wait",
  ignore: stack.ignore,
  fn: async () => {
    const port = String(freePort());
    const env = {
      QMTL_JWT_SECRET: SECRET,
      QMTL_PORT: port,
      QMTL_NEO4J_MIGRATE: "auto",
    };
    let srv = await startServe({ env, keepBackends: true });
    try {
      const c = new QmtlClient({
        url: srv.url,
        token: await token(`restart-${crypto.randomUUID()}`, [
          "submitter",
          "reader",
        ]),
        retry: { maxAttempts: 3, baseMs: 100, maxMs: 1000 },
      });
      await assertWaitSurvivesRestart(
        c,
        strategy(`restart_${Date.now()}`),
        {
          stop: () => srv.stop(),
          start: async () => {
            srv = await startServe({ env, keepBackends: true });
          },
        },
        {
          completed: 60_000,
          retired: 90_000,
          poll: 200,
          beforeStop: 300,
          down: 1_000,
        },
      );
    } finally {
      await srv.stop();
    }
  },
});
