// deploy/operations.ts wires the alert sources of the server: missing Neo4j
// schema at start-up, dead letters, failing strategies, Sentinel events,
// lease takeovers; sinks come from QMTL_ALERT_*; secrets are never logged.
import { create } from "@bufbuild/protobuf";
import assert from "node:assert/strict";
import { EventSchema } from "../../../lib/contracts/mod.ts";
import { loadConfig } from "../../../lib/gateway/server/config.ts";
import {
  alertSinks,
  createOperations,
} from "../../../lib/gateway/server/operations.ts";
import { MemoryRegistry } from "../../../lib/dag/mod.ts";
import {
  MemoryEventLog,
  MemoryQueue,
  parseSentinelMessage,
  type SentinelEvent,
} from "../../../lib/queue/mod.ts";
import {
  type Alert,
  type AlertSink,
  createLogger,
  GLOBAL_STREAM,
  Metrics,
} from "../../../lib/gateway/mod.ts";

function memorySink(): AlertSink & { got: Alert[] } {
  const got: Alert[] = [];
  return {
    name: "memory",
    got,
    send(a) {
      got.push(a);
      return Promise.resolve();
    },
  };
}

async function until(what: string, fn: () => boolean, ms = 5_000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("operations: sinks from the configuration", () => {
  const names = (env: Record<string, string>) =>
    alertSinks(loadConfig(env).alerts).map((s) => s.name);
  assert.deepEqual(names({}), []);
  assert.deepEqual(
    names({
      QMTL_ALERT_WEBHOOK_URL: "https://a.example/h",
      QMTL_ALERT_SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/X",
      QMTL_ALERT_SMTP_HOST: "smtp.example.com",
      QMTL_ALERT_SMTP_FROM: "q@example.com",
      QMTL_ALERT_SMTP_TO: "o@example.com",
    }),
    ["webhook", "slack", "email"],
  );
});

Deno.test("operations: start-up schema, dead letters, failing strategies, Sentinel and lease takeovers reach the sinks", async () => {
  const sink = memorySink();
  const lines: string[] = [];
  const queue = new MemoryQueue();
  const webhookQueue = new MemoryQueue();
  const events = new MemoryEventLog();
  const listeners = new Set<(e: SentinelEvent) => void>();
  const registry = Object.assign(new MemoryRegistry(), {
    startup: {
      mode: "check",
      missing: [{ object: { name: "qmtl_tag_uid" }, problem: "missing" }],
    },
  });
  const metrics = new Metrics();
  const ops = createOperations({
    cfg: loadConfig({
      QMTL_ALERT_CHECK_INTERVAL_MS: "100",
      QMTL_ALERT_FAILED_STRATEGIES: "2",
      QMTL_ALERT_WEBHOOK_URL: "http://127.0.0.1:9/hook/TOKEN-IN-URL",
    }),
    logger: createLogger({ level: "debug", sink: (l) => lines.push(l) }),
    metrics,
    registry,
    observer: {
      on: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
    queues: { diff: queue, webhook: webhookQueue },
    events,
    sinks: [sink],
  });
  try {
    await ops.start();
    const has = (c: string) => sink.got.some((a) => a.condition === c);
    await until("neo4j_schema_missing", () => has("neo4j_schema_missing"));
    assert.match(
      sink.got.find((a) => a.condition === "neo4j_schema_missing")!.summary,
      /qmtl_tag_uid \(missing\).*deno task migrate/,
    );

    // A dead letter.
    await queue.enqueue("diff", new Uint8Array([1]), {
      idempotencyKey: "k",
      maxAttempts: 1,
    });
    const [j] = await queue.lease(1, { leaseMs: 10_000 });
    await queue.nack(j.id, j.leaseToken, { error: "boom" });
    await until("dead_letters", () => has("dead_letters"));
    assert.equal(
      sink.got.find((a) => a.condition === "dead_letters")!.details.queue,
      "diff",
    );

    // Two strategies fail.
    for (const id of ["st_a", "st_b"]) {
      await events.append(
        GLOBAL_STREAM,
        create(EventSchema, {
          id: `e-${id}`,
          source: "/qmtl/gateway",
          specVersion: "1.0",
          type: "qmtl.strategy.failed",
          subject: id,
          time: new Date().toISOString(),
          dataContentType: "application/json",
          data: new TextEncoder().encode(
            JSON.stringify({ error: { code: "E_CYCLE", message: "cycle" } }),
          ),
        }),
      );
    }
    await until("strategies_failing", () => has("strategies_failing"));
    const f = sink.got.find((a) => a.condition === "strategies_failing")!;
    assert.equal(f.details.strategies, "st_a, st_b");
    assert.equal(f.details.lastError, "E_CYCLE: cycle");

    // A failover reported by Sentinel.
    const e = parseSentinelMessage(
      "+switch-master",
      "qmtl 127.0.0.1 16379 127.0.0.1 16380",
      { host: "127.0.0.1", port: 26379 },
    )!;
    for (const l of listeners) l(e);
    await until("redis_failover", () => has("redis_failover"));

    // The runner's hook.
    ops.leaseTakeovers.record({
      nodeId: "sha256:ab",
      previousOwner: "r1",
      newOwner: "r2",
    });
    await until("runner_lease_takeover", () => has("runner_lease_takeover"));
    assert.equal(metrics.counter("qmtl_runner_lease_takeovers_total"), 1);

    // Memory backends: no dependency to watch.
    assert.deepEqual(ops.watch.names, []);
  } finally {
    await ops.close();
    await queue.close();
    await webhookQueue.close();
    await events.close();
  }
  const all = lines.join("\n");
  assert.match(all, /"msg":"alerting","sinks":\["webhook","memory"\]/);
  assert.ok(!all.includes("TOKEN-IN-URL"), "a sink URL was logged");
});
