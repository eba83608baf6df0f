// Redis chaos on a PRIVATE group (master + replica + 3 Sentinels, own
// ports and folder; Sentinel down-after 1500 ms rather than 1000 so that a
// slow answer on this loaded machine is not taken for a dead master) with
// the reference server and the shared Neo4j:
// 1. the master is SIGKILLed five times in a row under submit load (the
//    group healed in between: the dead member returns as a replica);
// 2. the killed master is left down: the promoted replica has no replica,
//    so writes cannot be confirmed — submissions answer 503, /readyz fails
//    with the reason, the alert metric is set; healed, all recovers.
// Checked each time: every acknowledged submission COMPLETED exactly once,
// no 409, registry consistent, the gateway never restarted.
import assert from "node:assert/strict";
import { realStack } from "../support/services.ts";
import {
  type PrivateRedis,
  startPrivateRedis,
} from "../support/private_redis.ts";
import { token } from "../gateway/helpers.ts";
import {
  assertNoneRestarted,
  checkAll,
  dumpLogs,
  freshNamespace,
  type GatewayProcess,
  getJson,
  type Inspect,
  inspect,
  loadDag,
  metrics,
  settle,
  sleep,
  startGateway,
  submitLoad,
} from "./harness.ts";
import { pollUntil } from "../support/poll.ts";

// Redis: the binaries are there; Neo4j: the server's registry.
const { neo4j, ignore } = realStack();

function serverEnv(group: PrivateRedis, ns: string): Record<string, string> {
  return {
    QMTL_REDIS_URL: group.url,
    QMTL_NEO4J_URL: neo4j.url!,
    QMTL_NEO4J_MIGRATE: "auto",
    QMTL_NAMESPACE: ns,
    QMTL_REDIS_WAIT_TIMEOUT_MS: "500",
    QMTL_ALERT_CHECK_INTERVAL_MS: "300",
    // A lease a failover could not confirm hands out no job; the job comes
    // back when the lease expires (30 s by default).
    QMTL_DIFF_LEASE_MS: "4000",
  };
}

/**
 * Runs `fn` with a private Redis group, a fresh namespace, the reference
 * server on them and an inspector of the namespace; on failure the
 * server's logs are printed; everything is stopped afterwards.
 */
async function onPrivateGroup(
  prefix: string,
  fn: (
    group: PrivateRedis,
    ns: string,
    gw: GatewayProcess,
    check: Inspect,
  ) => Promise<void>,
): Promise<void> {
  const group = await startPrivateRedis({ downAfterMs: 1500 });
  const ns = freshNamespace(prefix);
  let gw: GatewayProcess | undefined;
  const check = inspect(group.url, ns);
  try {
    gw = await startGateway(serverEnv(group, ns));
    await fn(group, ns, gw, check);
  } catch (e) {
    dumpLogs([gw]);
    throw e;
  } finally {
    await gw?.stop();
    await check.close();
    await group.down();
  }
}

Deno.test({
  name:
    "chaos: Redis master killed 5 times in a row under submit load — every acknowledged strategy COMPLETED once, no 409, registry consistent",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    onPrivateGroup("chaosfo", async (group, ns, gw, check) => {
      const tok = await token("alice", ["submitter", "reader"]);
      const url = gw.url;
      const loading = submitLoad({
        urls: () => [url],
        dags: Array.from({ length: 100 }, (_, i) => loadDag(ns, i)),
        token: tok,
        concurrency: 3,
        retries: 200,
        retryMs: 250,
        timeoutMs: 8_000,
        deadlineMs: 40_000,
      });
      const kills: { killed: number; master: number }[] = [];
      for (let round = 0; round < 5; round++) {
        await sleep(500);
        kills.push(await group.killMaster(20_000));
        await group.heal();
      }
      const load = await loading;
      // Five masters died in a row, each replaced by the other member.
      assert.equal(kills.length, 5);
      for (const k of kills) assert.notEqual(k.killed, k.master);
      assert.ok(load.acked.size >= 30, JSON.stringify(load.answers));
      await settle(check, 30_000);
      await checkAll({
        load,
        inspect: check,
        neo4jUrl: neo4j.url!,
        namespace: ns,
      });
      assertNoneRestarted([gw]);
      const ready = await getJson(`${url}/readyz`);
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
    }),
});

Deno.test({
  name:
    "chaos: Redis master killed and left down — writes answer 503, /readyz fails with the reason, the alert metric is set; healed, everything acknowledged completes",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    onPrivateGroup("chaosdown", async (group, ns, gw, check) => {
      const url = gw.url;
      const tok = await token("alice", ["submitter", "reader"]);
      const op = await token("ops", ["operator"]);
      const before = await submitLoad({
        urls: () => [url],
        dags: Array.from({ length: 10 }, (_, i) => loadDag(ns, i)),
        token: tok,
        concurrency: 2,
        deadlineMs: 15_000,
      });
      assert.equal(before.acked.size, 10);

      await group.killMaster(20_000); // promoted; no replica left
      // ("unreachable" while Sentinel promotes, then this reason.)
      const down = await waitUntil(
        async () => {
          const r = await getJson(`${url}/readyz`);
          return r.status === 503 &&
              (r.body.reasons as string[]).some((s) =>
                s.startsWith("redis: writes cannot be confirmed")
              )
            ? r
            : undefined;
        },
        20_000,
        "/readyz 503 (writes cannot be confirmed)",
      );
      const reasons = down.body.reasons as string[];
      assert.ok(
        reasons.some((s) => /^redis: writes cannot be confirmed/.test(s)),
        JSON.stringify(reasons),
      );
      const during = await submitLoad({
        urls: () => [url],
        dags: Array.from({ length: 4 }, (_, i) => loadDag(ns, 100 + i)),
        token: tok,
        concurrency: 2,
        retries: 0,
        deadlineMs: 15_000,
      });
      assert.equal(during.acked.size, 0, JSON.stringify(during.answers));
      assert.equal(during.answers["503"], 4, JSON.stringify(during.answers));
      const m = await waitUntil(
        async () => {
          const text = await metrics(url, op);
          return /^qmtl_alerts_total\{condition="redis_writes_unconfirmed",severity="critical"\} [1-9]/m
              .test(text)
            ? text
            : undefined;
        },
        20_000,
        "the alert",
      );
      assert.match(m, /^qmtl_redis_writes_confirmed\{dependency="redis"\} 0$/m);

      await group.heal();
      await waitUntil(
        async () => {
          const r = await getJson(`${url}/readyz`);
          return r.status === 200 ? r : undefined;
        },
        30_000,
        "/readyz 200",
      );
      const after = await submitLoad({
        urls: () => [url],
        dags: Array.from({ length: 10 }, (_, i) => loadDag(ns, 200 + i)),
        token: tok,
        concurrency: 2,
        deadlineMs: 15_000,
      });
      assert.equal(after.acked.size, 10);
      await settle(check, 30_000);
      await checkAll({
        load: {
          acked: new Map([...before.acked, ...after.acked]),
          answers: {},
          conflicts: [
            ...before.conflicts,
            ...during.conflicts,
            ...after.conflicts,
          ],
          duplicates: 0,
        },
        inspect: check,
        neo4jUrl: neo4j.url!,
        namespace: ns,
      });
      assertNoneRestarted([gw]);
    }),
});

function waitUntil<T>(
  fn: () => Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  return pollUntil(what, ms, fn, 200);
}
