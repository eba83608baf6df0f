// Dependency health: the watch (timeouts, sharing, caching, up/down
// bookkeeping, metrics), /readyz bodies, and the Redis probe against the
// REAL Sentinel stack: writes confirmed with WAIT 1 (one replica), not
// confirmable with WAIT 3.
import assert from "node:assert/strict";
import {
  closeRedis,
  createRedis,
  type RedisClient,
} from "../../lib/queue/mod.ts";
import {
  DependencyWatch,
  Metrics,
  redisProbe,
  runReadiness,
} from "../../lib/gateway/mod.ts";
import { redisTest } from "../queue/redis_env.ts";

Deno.test("health: a probe that hangs is bounded by the timeout and reported down", async () => {
  let aborted = false;
  const watch = new DependencyWatch({
    probes: {
      neo4j: (signal) =>
        new Promise((_, reject) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("aborted"));
          });
        }),
    },
    timeoutMs: 50,
  });
  const s = await watch.check("neo4j");
  assert.equal(s.up, false);
  assert.equal(s.ok, false);
  assert.equal(s.lastError, "no answer within 50 ms");
  assert.equal(s.detail, "unreachable: no answer within 50 ms");
  assert.ok(aborted, "the probe's signal was not aborted");
});

Deno.test("health: concurrent checks share one probe; a fresh result is reused", async () => {
  let calls = 0;
  let now = 1_000_000;
  const watch = new DependencyWatch({
    probes: {
      redis: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 10));
        return { up: true, detail: "PONG" };
      },
    },
    maxAgeMs: 1_000,
    clock: () => now,
  });
  await Promise.all([watch.check("redis"), watch.check("redis")]);
  assert.equal(calls, 1);
  now += 999;
  await watch.check("redis");
  assert.equal(calls, 1);
  now += 1;
  await watch.check("redis");
  assert.equal(calls, 2);
  await assert.rejects(() => watch.check("nope"), /no dependency named "nope"/);
});

Deno.test("health: since, lastError and the metrics follow the state", async () => {
  let now = Date.UTC(2026, 0, 1);
  let answer: Error | null = null;
  const metrics = new Metrics();
  const watch = new DependencyWatch({
    probes: {
      neo4j: () =>
        answer
          ? Promise.reject(answer)
          : Promise.resolve({ up: true, detail: "ok" }),
    },
    maxAgeMs: 0,
    clock: () => now,
    metrics,
  });
  assert.match(
    await metrics.render(),
    /^qmtl_dependency_up\{dependency="neo4j"\} 0$/m,
  ); // not checked yet
  const a = await watch.check("neo4j");
  assert.equal(a.since, new Date(now).toISOString());
  assert.match(
    await metrics.render(),
    /^qmtl_dependency_up\{dependency="neo4j"\} 1$/m,
  );
  now += 5_000;
  answer = new Error("connection refused");
  const b = await watch.check("neo4j");
  assert.equal(b.since, new Date(now).toISOString());
  now += 5_000;
  const c = await watch.check("neo4j");
  assert.equal(c.since, b.since, "since moved while still down");
  assert.equal(c.lastError, "connection refused");
  assert.match(
    await metrics.render(),
    /^qmtl_dependency_up\{dependency="neo4j"\} 0$/m,
  );
  answer = null;
  now += 1_000;
  const d = await watch.check("neo4j");
  assert.equal(d.ok, true);
  assert.equal(d.lastError, "connection refused"); // kept, with its time
  assert.equal(d.lastErrorAt, c.checkedAt);
  const r = await watch.readiness().neo4j();
  assert.equal(r.ok, true);
  assert.equal(r.lastError, "connection refused");
});

Deno.test("health: start() checks periodically, stop() ends it", async () => {
  let calls = 0;
  const watch = new DependencyWatch({
    probes: {
      redis: () => {
        calls++;
        return Promise.resolve({ up: true, detail: "ok" });
      },
    },
    intervalMs: 20,
    maxAgeMs: 0,
  });
  watch.start();
  await new Promise((r) => setTimeout(r, 150));
  await watch.stop();
  const n = calls;
  assert.ok(n >= 2, `only ${n} checks`);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(calls, n, "checks went on after stop()");
});

Deno.test("readyz: reasons name every failing check; a hanging check times out", async () => {
  const body = await runReadiness({
    ok: () => Promise.resolve({ ok: true, detail: "fine" }),
    down: () => Promise.resolve({ ok: false, detail: "refused" }),
    hangs: () => new Promise(() => {}),
    throws: () => {
      throw new Error("bug");
    },
  }, 50);
  assert.equal(body.status, "not ready");
  assert.deepEqual(body.reasons, [
    "down: refused",
    "hangs: check timed out after 50 ms",
    "throws: bug",
  ]);
  assert.deepEqual(body.checks.ok, { ok: true, detail: "fine" });
  const ready = await runReadiness({
    ok: () => Promise.resolve({ ok: true, detail: "fine" }),
  });
  assert.deepEqual(ready, {
    status: "ready",
    reasons: [],
    checks: { ok: { ok: true, detail: "fine" } },
  });
});

async function withProbeClient(
  url: string,
  fn: (redis: RedisClient) => Promise<void>,
): Promise<void> {
  const redis = createRedis(url, { connectionName: "qmtl-health-test" });
  try {
    await fn(redis);
  } finally {
    await closeRedis(redis);
  }
}

redisTest(
  "health: Redis probe on the real stack — WAIT 1 is met by the replica",
  async (url) => {
    await withProbeClient(url, async (redis) => {
      const r = await redisProbe({
        redis,
        waitReplicas: 1,
        waitTimeoutMs: 2_000,
        key: `qmtl:health:test:${crypto.randomUUID()}`,
      })(new AbortController().signal);
      assert.equal(r.up, true);
      assert.equal(r.writesConfirmed, true);
      assert.ok(r.replicasConfirmed! >= 1);
      assert.match(
        r.detail,
        /^writes confirmed by \d+ replica\(s\) \(WAIT 1\)$/,
      );
    });
  },
);

redisTest(
  "health: Redis probe on the real stack — WAIT 3 cannot be met, the watch says not ok and why",
  async (url) => {
    await withProbeClient(url, async (redis) => {
      const watch = new DependencyWatch({
        probes: {
          redis: redisProbe({ redis, waitReplicas: 3, waitTimeoutMs: 200 }),
        },
      });
      const s = await watch.check("redis");
      assert.equal(s.up, true);
      assert.equal(s.ok, false);
      assert.equal(s.writesConfirmed, false);
      assert.equal(s.replicasRequired, 3);
      assert.ok(s.replicasConfirmed! < 3);
      assert.match(
        s.detail,
        /^writes cannot be confirmed: [0-2] of 3 replica\(s\) acknowledged a write within 200 ms \(WAIT 3\)/,
      );
      assert.equal(s.lastError, s.detail);
      const body = await runReadiness(watch.readiness());
      assert.equal(body.status, "not ready");
      assert.match(body.reasons[0], /^redis: writes cannot be confirmed/);
    });
  },
);

redisTest(
  "health: Redis probe without confirmation required only PINGs",
  async (url) => {
    await withProbeClient(url, async (redis) => {
      const r = await redisProbe({
        redis,
        waitReplicas: 0,
        waitTimeoutMs: 100,
      })(
        new AbortController().signal,
      );
      assert.deepEqual(r, {
        up: true,
        detail: "PONG (replica confirmation not required)",
      });
    });
  },
);
