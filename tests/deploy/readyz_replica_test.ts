// /readyz tells the truth about replica confirmation, on a REAL private
// Redis group (master + replica + 3 Sentinels, own ports and folder): the
// server is ready; the replica is killed → writes cannot be confirmed
// (WAIT 1), /readyz answers 503 and says why, a submission answers a
// retryable 503, the alerts reach a real HTTP sink (and the metrics say
// so); the replica returns → 200 again and the recovery alerts arrive.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/gateway/server/config.ts";
import { startServer } from "../../lib/gateway/server/start.ts";
import { createLogger } from "../../lib/gateway/mod.ts";
import { serviceUrl } from "../support/services.ts";
import { startPrivateRedis } from "../support/private_redis.ts";
import {
  dag,
  node,
  rpcRaw,
  SECRET,
  submitBytes,
  token,
} from "../gateway/helpers.ts";
import { pollUntil } from "../support/poll.ts";
import { httpReceiver } from "../support/http_receiver.ts";

// Same rule as every Redis test: needs the Redis binaries the local stack
// uses; skipped outside CI without a stack, a failure under CI.
const redis = serviceUrl("QMTL_REDIS_URL");

interface Alert {
  condition: string;
  status: string;
  severity: string;
  summary: string;
}

function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  return pollUntil(what, timeoutMs, fn, 150);
}

Deno.test({
  name:
    "/readyz: 503 with the reason when the replica stops (WAIT 1 unmet), alerts fire; 200 and recovery when it returns",
  ignore: redis.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sink = await httpReceiver<Alert>();
    const alerts = () => sink.got.map((r) => r.body);
    const group = await startPrivateRedis();
    let srv: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      srv = await startServer(
        loadConfig({
          QMTL_REDIS_URL: group.url,
          QMTL_REDIS_WAIT_TIMEOUT_MS: "300",
          QMTL_JWT_SECRET: SECRET,
          QMTL_PORT: "0",
          QMTL_ALERT_WEBHOOK_URL: `${sink.base}/alerts`,
          QMTL_ALERT_CHECK_INTERVAL_MS: "200",
        }),
        {
          quiet: true,
          logger: createLogger({ level: "error", sink: () => {} }),
        },
      );
      const url = srv.url;
      const readyz = async () => {
        const res = await fetch(`${url}/readyz`);
        return { status: res.status, body: await res.json() };
      };
      const op = await token("ops", ["operator"]);
      const metrics = async () =>
        await (await fetch(`${url}/metrics`, {
          headers: { authorization: `Bearer ${op}` },
        })).text();

      // ---- ready ----------------------------------------------------------
      // Ready once the fresh replica has synced (a busy machine can take a
      // few seconds): bounded wait, then the assertion.
      let r0 = await readyz();
      for (let i = 0; i < 80 && r0.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 250));
        r0 = await readyz();
      }
      assert.equal(r0.status, 200, JSON.stringify(r0.body));
      assert.equal(r0.body.status, "ready");
      assert.deepEqual(r0.body.reasons, []);
      assert.equal(r0.body.checks.redis.up, true);
      assert.equal(r0.body.checks.redis.writesConfirmed, true);
      assert.equal(r0.body.checks.redis.replicasRequired, 1);
      assert.equal(typeof r0.body.checks.redis.latencyMs, "number");
      assert.match(
        await metrics(),
        /^qmtl_redis_writes_confirmed\{dependency="redis"\} 1$/m,
      );

      // ---- replica gone -----------------------------------------------------
      await group.killReplica();
      const r1 = await waitUntil("/readyz 503", async () => {
        const r = await readyz();
        return r.status === 503 ? r : undefined;
      }, 20_000);
      assert.equal(r1.body.status, "not ready");
      const reason = r1.body.reasons.find((s: string) =>
        s.startsWith("redis: ")
      );
      assert.match(
        reason,
        /^redis: writes cannot be confirmed: 0 of 1 replica\(s\) acknowledged a write within 300 ms \(WAIT 1\)/,
      );
      assert.equal(r1.body.checks.redis.up, true); // reachable, not durable
      assert.equal(r1.body.checks.redis.writesConfirmed, false);
      assert.equal(r1.body.checks.redis.replicasConfirmed, 0);
      assert.match(
        r1.body.checks.redis.lastError,
        /writes cannot be confirmed/,
      );

      // A write now answers a retryable 503 (nothing acknowledged unconfirmed).
      const tok = await token("alice", ["submitter"]);
      const salt = crypto.randomUUID();
      const res = await rpcRaw(
        { app: { request: (p, i) => fetch(url + p, i) } },
        "SubmitStrategy",
        submitBytes({
          dag: dag("replica-down", [
            node(`n-${salt}`, { type: "StreamInput" }),
          ]),
          version: "1",
        }),
        tok,
      );
      const text = await res.text();
      assert.equal(res.status, 503, text);
      assert.match(text, /unavailable/);

      const firing = await waitUntil("alerts of the outage", () => {
        const w = alerts().find((a) =>
          a.condition === "redis_writes_unconfirmed" && a.status === "firing"
        );
        const r = alerts().find((a) =>
          a.condition === "redis_replica_down" && a.status === "firing"
        );
        return w && r ? [w, r] : undefined;
      }, 20_000);
      assert.equal(firing[0].severity, "critical");
      assert.match(firing[0].summary, /writes cannot be confirmed/);
      assert.equal(firing[1].severity, "warning");
      const m1 = await metrics();
      assert.match(
        m1,
        /^qmtl_redis_writes_confirmed\{dependency="redis"\} 0$/m,
      );
      assert.match(
        m1,
        /^qmtl_alerts_total\{condition="redis_writes_unconfirmed",severity="critical"\} 1$/m,
      );
      assert.match(
        m1,
        /^qmtl_redis_sentinel_events_total\{type="\+sdown"\} [1-9]/m,
      );
      assert.match(
        m1,
        /^qmtl_alert_deliveries_total\{sink="webhook",outcome="ok"\} [1-9]/m,
      );

      // ---- replica back -----------------------------------------------------
      await group.restartReplica();
      const r2 = await waitUntil("/readyz 200", async () => {
        const r = await readyz();
        return r.status === 200 ? r : undefined;
      }, 30_000);
      assert.equal(r2.body.checks.redis.writesConfirmed, true);
      await waitUntil("recovery alerts", () => {
        const w = alerts().find((a) =>
          a.condition === "redis_writes_unconfirmed" && a.status === "resolved"
        );
        const r = alerts().find((a) =>
          a.condition === "redis_replica_down" && a.status === "resolved"
        );
        return w && r ? true : undefined;
      }, 20_000);
      // One firing alert per condition for the one outage.
      assert.equal(
        alerts().filter((a) =>
          a.condition === "redis_writes_unconfirmed" && a.status === "firing"
        ).length,
        1,
      );
    } finally {
      await srv?.stop();
      await group.down();
      await sink.close();
    }
  },
});
