// Alerts: every condition fires once and not again inside the window
// (injected clock), recoveries, per-sink rate limit, a hanging sink never
// delays a request, and delivery to REAL local sinks: an HTTP server
// (webhook and Slack formats) and an SMTP server (smtp-server npm) on
// 127.0.0.1.
import { create } from "@bufbuild/protobuf";
import assert from "node:assert/strict";
import { EventSchema } from "../../lib/contracts/mod.ts";
import { SMTPServer } from "smtp-server";
import { MemoryRegistry } from "../../lib/dag/mod.ts";
import {
  type Event,
  MemoryEventLog,
  MemoryQueue,
  parseSentinelMessage,
  type SentinelEvent,
} from "../../lib/queue/mod.ts";
import {
  type Alert,
  ALERT_CONDITIONS,
  Alerter,
  type AlertSink,
  createGateway,
  createLogger,
  deadLetterAlerts,
  dependencyAlerts,
  DependencyWatch,
  durabilityAlerts,
  emailSink,
  failedStrategyAlerts,
  GLOBAL_STREAM,
  LeaseTakeoverRecorder,
  Metrics,
  type ProbeResult,
  schemaAlerts,
  sentinelAlerts,
  slackSink,
  webhookSink,
} from "../../lib/gateway/mod.ts";
import { TEST_AUTH } from "../support/auth.ts";
import { httpReceiver } from "../support/http_receiver.ts";

const WINDOW = 60_000;

class Clock {
  now = Date.UTC(2026, 0, 1);
  readonly fn = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

class FakeSentinel {
  #listeners = new Set<(e: SentinelEvent) => void>();
  constructor(readonly clock: Clock) {}
  on(l: (e: SentinelEvent) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  emit(channel: string, message: string): void {
    const e = parseSentinelMessage(
      channel,
      message,
      { host: "127.0.0.1", port: 26379 },
      this.clock.now,
    );
    assert.ok(e, `unparsable ${channel} ${message}`);
    for (const l of this.#listeners) l(e);
  }
}

function memorySink(name = "memory"): AlertSink & { got: Alert[] } {
  const got: Alert[] = [];
  return {
    name,
    got,
    send(a) {
      got.push(a);
      return Promise.resolve();
    },
  };
}

/** An Alerter whose log lines (debug and up) and metrics the test reads. */
function observed(
  options: Omit<
    ConstructorParameters<typeof Alerter>[0] & object,
    "metrics" | "logger"
  >,
): { alerter: Alerter; lines: string[]; metrics: Metrics } {
  const lines: string[] = [];
  const metrics = new Metrics();
  const logger = createLogger({ level: "debug", sink: (l) => lines.push(l) });
  return {
    alerter: new Alerter({ ...options, metrics, logger }),
    lines,
    metrics,
  };
}

/** qmtl_alert_deliveries_total of one sink and outcome. */
function deliveries(metrics: Metrics, sink: string, outcome: string): number {
  return metrics.counter("qmtl_alert_deliveries_total", { sink, outcome });
}

interface Env {
  clock: Clock;
  alerter: Alerter;
  sink: ReturnType<typeof memorySink>;
  metrics: Metrics;
  cleanup: (() => Promise<void> | void)[];
}

function env(): Env {
  const clock = new Clock();
  const sink = memorySink();
  const metrics = new Metrics();
  const alerter = new Alerter({
    sinks: [sink],
    dedupWindowMs: WINDOW,
    rateLimitPerMinute: 100,
    clock: clock.fn,
    metrics,
    logger: createLogger({ level: "error", sink: () => {} }),
  });
  return { clock, alerter, sink, metrics, cleanup: [] };
}

/** A watch over one probe whose answer the test sets. */
function controlledWatch(clock: Clock, name: string) {
  let answer: ProbeResult | Error = { up: true, detail: "ok" };
  const watch = new DependencyWatch({
    probes: {
      [name]: () =>
        answer instanceof Error
          ? Promise.reject(answer)
          : Promise.resolve(answer),
    },
    maxAgeMs: 0,
    clock: clock.fn,
  });
  return {
    watch,
    set(a: ProbeResult | Error) {
      answer = a;
    },
    check: () => watch.check(name),
  };
}

async function deadLetterOne(q: MemoryQueue, key: string): Promise<void> {
  await q.enqueue("diff", new Uint8Array([1]), {
    idempotencyKey: key,
    maxAttempts: 1,
  });
  const [j] = await q.lease(1, { leaseMs: 10_000 });
  await q.nack(j.id, j.leaseToken, { error: "boom" });
}

function failedEvent(strategyId: string, n: number): Event {
  return create(EventSchema, {
    id: `ev-${strategyId}-${n}`,
    source: "/qmtl/gateway",
    specVersion: "1.0",
    type: "qmtl.strategy.failed",
    subject: strategyId,
    time: new Date().toISOString(),
    dataContentType: "application/json",
    data: new TextEncoder().encode(JSON.stringify({
      strategyId,
      state: "FAILED",
      error: { code: "E_INVALID", message: "unknown input" },
    })),
  });
}

/**
 * For each condition: set up its real source on `e` and return a function
 * that makes the condition occur once more (each call a new occurrence).
 */
const OCCUR: Record<string, (e: Env) => () => Promise<void> | void> = {
  redis_failover(e) {
    const s = new FakeSentinel(e.clock);
    sentinelAlerts(e.alerter, s);
    return () =>
      s.emit("+switch-master", "qmtl 127.0.0.1 16379 127.0.0.1 16380");
  },
  redis_master_down(e) {
    const s = new FakeSentinel(e.clock);
    sentinelAlerts(e.alerter, s);
    return () => {
      s.emit("+odown", "master qmtl 127.0.0.1 16379 #quorum 2/2");
      s.emit("-odown", "master qmtl 127.0.0.1 16379");
    };
  },
  redis_replica_down(e) {
    const s = new FakeSentinel(e.clock);
    sentinelAlerts(e.alerter, s);
    return () => {
      s.emit(
        "+sdown",
        "slave 127.0.0.1:16380 127.0.0.1 16380 @ qmtl 127.0.0.1 16379",
      );
      s.emit(
        "-sdown",
        "slave 127.0.0.1:16380 127.0.0.1 16380 @ qmtl 127.0.0.1 16379",
      );
    };
  },
  redis_writes_unconfirmed(e) {
    const w = controlledWatch(e.clock, "redis");
    dependencyAlerts(e.alerter, w.watch, { clock: e.clock.fn });
    return async () => {
      w.set({
        up: true,
        detail: "writes cannot be confirmed: 0 of 1",
        writesConfirmed: false,
        replicasConfirmed: 0,
        replicasRequired: 1,
      });
      await w.check();
      w.set({
        up: true,
        detail: "writes confirmed",
        writesConfirmed: true,
        replicasConfirmed: 1,
        replicasRequired: 1,
      });
      await w.check();
    };
  },
  dependency_unreachable(e) {
    const w = controlledWatch(e.clock, "neo4j");
    dependencyAlerts(e.alerter, w.watch, {
      downAfterMs: 1_000,
      clock: e.clock.fn,
    });
    return async () => {
      w.set(new Error("connection refused"));
      await w.check();
      e.clock.advance(1_000);
      await w.check();
      w.set({ up: true, detail: "ok" });
      await w.check();
    };
  },
  dead_letters(e) {
    const q = new MemoryQueue();
    e.cleanup.push(() => q.close());
    const check = deadLetterAlerts(e.alerter, {
      queues: { diff: q },
      metrics: e.metrics,
    });
    let n = 0;
    return async () => {
      await check(); // baseline (first call)
      await deadLetterOne(q, `k${n++}`);
      await check();
    };
  },
  strategies_failing(e) {
    const log = new MemoryEventLog();
    e.cleanup.push(() => log.close());
    const check = failedStrategyAlerts(e.alerter, {
      events: log,
      threshold: 3,
      windowMs: 600_000,
      clock: e.clock.fn,
      after: "0-0",
    });
    let n = 0;
    return async () => {
      for (let i = 0; i < 3; i++) {
        await log.append(GLOBAL_STREAM, failedEvent(`st_${i}`, n++));
      }
      await check();
    };
  },
  neo4j_schema_missing(e) {
    return () => {
      schemaAlerts(e.alerter, [
        { object: { name: "qmtl_tag_uid" }, problem: "missing" },
      ]);
    };
  },
  runner_lease_takeover(e) {
    const rec = new LeaseTakeoverRecorder(e.alerter, e.metrics);
    return () =>
      rec.record({ nodeId: "sha256:aa", previousOwner: "r1", newOwner: "r2" });
  },
};

Deno.test("alerts: every declared condition has a source test", () => {
  assert.deepEqual(
    ALERT_CONDITIONS.map((c) => c.id).sort(),
    Object.keys(OCCUR).sort(),
  );
});

for (const c of ALERT_CONDITIONS) {
  Deno.test(`alerts: ${c.id} fires once, not again inside the window, again after it`, async () => {
    const e = env();
    try {
      const occur = OCCUR[c.id](e);
      const firing = () =>
        e.sink.got.filter((a) => a.condition === c.id && a.status === "firing");
      await occur();
      await e.alerter.idle();
      assert.equal(firing().length, 1, "first occurrence not delivered");
      assert.equal(firing()[0].severity, c.severity);
      assert.equal(
        e.metrics.counter("qmtl_alerts_total", {
          condition: c.id,
          severity: c.severity,
        }),
        1,
      );
      await occur();
      await e.alerter.idle();
      assert.equal(firing().length, 1, "sent again inside the window");
      assert.ok(
        e.metrics.counter("qmtl_alerts_suppressed_total", {
          condition: c.id,
        }) >=
          1,
      );
      e.clock.advance(WINDOW + 1);
      await occur();
      await e.alerter.idle();
      assert.equal(firing().length, 2, "not sent again after the window");
      assert.equal(
        deliveries(e.metrics, "memory", "ok"),
        e.sink.got.length,
      );
    } finally {
      await e.alerter.close();
      for (const f of e.cleanup) await f();
    }
  });
}

Deno.test("alerts: recoveries — resolved once per outage, severity info", async () => {
  const e = env();
  try {
    const w = controlledWatch(e.clock, "redis");
    dependencyAlerts(e.alerter, w.watch, {
      downAfterMs: 5_000,
      clock: e.clock.fn,
    });
    // Down for less than the threshold: nothing, and no recovery either.
    w.set(new Error("ECONNREFUSED"));
    await w.check();
    e.clock.advance(4_000);
    await w.check();
    w.set({ up: true, detail: "ok" });
    await w.check();
    await e.alerter.idle();
    assert.equal(e.sink.got.length, 0);
    // Down past the threshold: one firing, however many checks.
    w.set(new Error("ECONNREFUSED"));
    await w.check();
    e.clock.advance(5_000);
    await w.check();
    e.clock.advance(5_000);
    await w.check();
    w.set({ up: true, detail: "ok" });
    await w.check();
    await w.check();
    await e.alerter.idle();
    assert.deepEqual(
      e.sink.got.map((a) => [a.condition, a.status, a.severity]),
      [
        ["dependency_unreachable", "firing", "critical"],
        ["dependency_unreachable", "resolved", "info"],
      ],
    );
    assert.match(
      e.sink.got[0].summary,
      /redis has not answered for 5 s: ECONNREFUSED/,
    );
    assert.equal(e.sink.got[0].details.lastError, "ECONNREFUSED");

    const s = new FakeSentinel(e.clock);
    sentinelAlerts(e.alerter, s);
    s.emit("+odown", "master qmtl 127.0.0.1 16379 #quorum 2/2");
    s.emit("-odown", "master qmtl 127.0.0.1 16379");
    await e.alerter.idle();
    assert.deepEqual(
      e.sink.got.slice(2).map((a) => [a.condition, a.status]),
      [["redis_master_down", "firing"], ["redis_master_down", "resolved"]],
    );
    assert.equal(
      e.metrics.counter("qmtl_alerts_total", {
        condition: "redis_master_down",
        severity: "info",
      }),
      1,
    );
  } finally {
    await e.alerter.close();
  }
});

Deno.test("alerts: Sentinel events that are not alerts are ignored", async () => {
  const e = env();
  try {
    const s = new FakeSentinel(e.clock);
    sentinelAlerts(e.alerter, s);
    s.emit("+sdown", "master qmtl 127.0.0.1 16379"); // +odown follows if real
    s.emit(
      "+sdown",
      "sentinel 127.0.0.1:26380 127.0.0.1 26380 @ qmtl 127.0.0.1 16379",
    );
    s.emit("+failover-end", "master qmtl 127.0.0.1 16379");
    await e.alerter.idle();
    assert.deepEqual(e.sink.got, []);
  } finally {
    await e.alerter.close();
  }
});

Deno.test("alerts: unconfirmed writes (DurabilityError counts) raise redis_writes_unconfirmed", async () => {
  const e = env();
  try {
    let n = 0;
    const check = durabilityAlerts(e.alerter, { unconfirmedWrites: () => n });
    check();
    await e.alerter.idle();
    assert.equal(e.sink.got.length, 0);
    n = 3;
    check();
    check();
    await e.alerter.idle();
    assert.equal(e.sink.got.length, 1);
    assert.equal(e.sink.got[0].details.newUnconfirmedWrites, 3);
  } finally {
    await e.alerter.close();
  }
});

Deno.test("alerts: a queue with dead letters at start-up alerts once; the counter counts growth", async () => {
  const e = env();
  const q = new MemoryQueue();
  try {
    await deadLetterOne(q, "a");
    await deadLetterOne(q, "b");
    const check = deadLetterAlerts(e.alerter, {
      queues: { diff: q },
      metrics: e.metrics,
    });
    await check();
    await check();
    await e.alerter.idle();
    assert.equal(e.sink.got.length, 1);
    assert.equal(e.sink.got[0].details.deadLetters, 2);
    assert.equal(
      e.metrics.counter("qmtl_dead_letters_total", { queue: "diff" }),
      0,
    );
    await deadLetterOne(q, "c");
    await check();
    assert.equal(
      e.metrics.counter("qmtl_dead_letters_total", { queue: "diff" }),
      1,
    );
  } finally {
    await e.alerter.close();
    await q.close();
  }
});

Deno.test("alerts: per-sink rate limit (injected clock), counted as rate_limited", async () => {
  const clock = new Clock();
  const metrics = new Metrics();
  const limited = memorySink("limited");
  const alerter = new Alerter({
    sinks: [limited],
    rateLimitPerMinute: 2,
    clock: clock.fn,
    metrics,
    logger: createLogger({ level: "error", sink: () => {} }),
  });
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal(
        alerter.raise({
          condition: "dead_letters",
          summary: `q${i}`,
          subject: `q${i}`,
        }),
        "raised",
      );
    }
    await alerter.idle();
    assert.deepEqual(limited.got.map((a) => a.summary), ["q0", "q1"]);
    assert.equal(
      deliveries(metrics, "limited", "rate_limited"),
      1,
    );
    clock.advance(59_999);
    alerter.raise({ condition: "dead_letters", summary: "q3", subject: "q3" });
    clock.advance(1);
    alerter.raise({ condition: "dead_letters", summary: "q4", subject: "q4" });
    await alerter.idle();
    assert.deepEqual(limited.got.map((a) => a.summary), ["q0", "q1", "q4"]);
    // Every raised alert is logged and counted, sent or not.
    assert.equal(
      metrics.counter("qmtl_alerts_total", {
        condition: "dead_letters",
        severity: "warning",
      }),
      5,
    );
  } finally {
    await alerter.close();
  }
});

Deno.test("alerts: a hanging sink does not delay a request, is timed out and counted", async () => {
  let called = 0;
  let settled = false;
  const hanging: AlertSink = {
    name: "hanging",
    send() {
      called++;
      return new Promise<void>(() => {}).finally(() => settled = true); // never settles, ignores the signal
    },
  };
  const ok = memorySink("ok");
  const metrics = new Metrics();
  const alerter = new Alerter({
    sinks: [hanging, ok],
    sinkTimeoutMs: 300,
    attempts: 1,
    metrics,
    logger: createLogger({ level: "error", sink: () => {} }),
  });
  const watch = new DependencyWatch({
    probes: {
      redis: () =>
        Promise.resolve({
          up: true,
          detail:
            "writes cannot be confirmed: 0 of 1 replica(s) acknowledged a write within 1000 ms",
          writesConfirmed: false,
          replicasConfirmed: 0,
          replicasRequired: 1,
        }),
    },
    maxAgeMs: 0,
  });
  dependencyAlerts(alerter, watch);
  const queue = new MemoryQueue();
  const events = new MemoryEventLog();
  const gw = createGateway({
    registry: new MemoryRegistry(),
    queue,
    events,
    auth: TEST_AUTH,
    worker: { autoStart: false },
    readiness: watch.readiness(),
    logger: createLogger({ level: "error", sink: () => {} }),
  });
  try {
    const res = await gw.app.request("/readyz");
    // The alert was raised during the request and handed to the hanging
    // sink, which has not answered: the request did not wait for it.
    assert.equal(called, 1);
    assert.equal(settled, false);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, "not ready");
    assert.ok(
      body.reasons.some((r: string) =>
        r.startsWith("redis: writes cannot be confirmed")
      ),
      JSON.stringify(body.reasons),
    );
    assert.equal(body.checks.redis.writesConfirmed, false);
    await alerter.idle();
    assert.equal(ok.got.length, 1);
    assert.equal(
      deliveries(metrics, "hanging", "timeout"),
      1,
    );
    // raise() itself is synchronous: it returns before any sink runs.
    const before = called;
    assert.equal(
      alerter.raise({ condition: "dead_letters", summary: "x" }),
      "raised",
    );
    assert.equal(called, before + 1); // send started (and hangs)
  } finally {
    await alerter.close(200);
    await gw.close();
    await queue.close();
    await events.close();
  }
});

Deno.test("alerts: close() flushes within its bound and drops what is left", async () => {
  const metrics = new Metrics();
  const slow: AlertSink = {
    name: "slow",
    send: (_a, signal) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(resolve, 50);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(new Error("aborted"));
        });
      }),
  };
  const alerter = new Alerter({
    sinks: [slow],
    metrics,
    logger: createLogger({ level: "error", sink: () => {} }),
  });
  for (let i = 0; i < 5; i++) {
    alerter.raise({
      condition: "dead_letters",
      summary: `${i}`,
      subject: `${i}`,
    });
  }
  await alerter.close(120); // 2 delivered in 120 ms at 50 ms each
  const okN = deliveries(metrics, "slow", "ok");
  const rest = deliveries(metrics, "slow", "dropped") +
    deliveries(metrics, "slow", "timeout") +
    deliveries(metrics, "slow", "error");
  assert.ok(okN >= 1 && okN < 5, `ok=${okN}`);
  assert.equal(okN + rest, 5);
  assert.equal(
    alerter.raise({ condition: "dead_letters", summary: "late" }),
    "closed",
  );
});

Deno.test("alerts: input without a condition is refused, never thrown", async () => {
  const e = env();
  try {
    assert.equal(
      e.alerter.raise({ condition: "", summary: "x" }),
      "invalid",
    );
    assert.equal(
      e.alerter.raise(
        null as unknown as { condition: string; summary: string },
      ),
      "invalid",
    );
    await e.alerter.idle();
    assert.equal(e.sink.got.length, 0);
  } finally {
    await e.alerter.close();
  }
});

// ---- real sinks ------------------------------------------------------------

Deno.test("alerts: webhook and Slack sinks POST to a real local HTTP server", async () => {
  const rx = await httpReceiver();
  const alerter = new Alerter({
    sinks: [
      webhookSink({ url: `${rx.base}/hook` }),
      slackSink({ url: `${rx.base}/services/T000/B000/SECRETTOKEN` }),
    ],
    logger: createLogger({ level: "error", sink: () => {} }),
  });
  try {
    alerter.raise({
      condition: "redis_failover",
      summary: "Redis master qmtl failed over from 127.0.0.1:1 to 127.0.0.1:2",
      subject: "qmtl",
      details: { master: "qmtl", newMaster: "127.0.0.1:2" },
    });
    await alerter.idle();
    const hook = rx.got.find((r) => r.path === "/hook");
    const slack = rx.got.find((r) => r.path.startsWith("/services/"));
    assert.ok(hook && slack, JSON.stringify(rx.got));
    assert.equal(hook.contentType, "application/json");
    assert.equal(hook.body.source, "qmtl");
    assert.equal(hook.body.condition, "redis_failover");
    assert.equal(hook.body.severity, "critical");
    assert.equal(hook.body.status, "firing");
    assert.deepEqual(hook.body.details, {
      master: "qmtl",
      newMaster: "127.0.0.1:2",
    });
    assert.equal(hook.body.runbook, "docs/operations.md#redis_failover");
    assert.equal(typeof hook.body.time, "string");
    assert.equal(
      slack.body.text,
      "[CRITICAL] redis_failover: Redis master qmtl failed over from 127.0.0.1:1 to 127.0.0.1:2",
    );
    const blocks = slack.body.blocks as { type: string }[];
    assert.deepEqual(blocks.map((b) => b.type), [
      "section",
      "section",
      "context",
    ]);
  } finally {
    await alerter.close();
    await rx.close();
  }
});

Deno.test("alerts: a failing webhook is retried, counted as error, and its URL never logged", async () => {
  const rx = await httpReceiver(500);
  // A second sink on a port nobody listens on: connection refused.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const { alerter, lines, metrics } = observed({
    sinks: [
      webhookSink({ url: `${rx.base}/hook/SECRETTOKEN1` }),
      slackSink({ url: `http://127.0.0.1:${deadPort}/services/SECRETTOKEN2` }),
    ],
    attempts: 2,
    retryDelayMs: 10,
  });
  try {
    alerter.raise({ condition: "dead_letters", summary: "3 jobs" });
    await alerter.idle();
    assert.equal(rx.got.length, 2); // two attempts
    for (const sink of ["webhook", "slack"]) {
      assert.equal(
        deliveries(metrics, sink, "error"),
        1,
      );
    }
    const failed = lines.filter((l) => l.includes("alert delivery failed"));
    assert.equal(failed.length, 2);
    assert.match(failed.join("\n"), /answered HTTP 500/);
    const all = lines.join("\n");
    assert.ok(!all.includes("SECRETTOKEN"), all);
    assert.match(all, /"msg":"alert"/);
  } finally {
    await alerter.close();
    await rx.close();
  }
});

/** Quoted-printable body → text (RFC 2045 soft breaks and =XX escapes). */
function qpDecode(s: string): string {
  return s.replace(/=\r\n/g, "").replace(
    /=([0-9A-F]{2})/g,
    (_, h) => String.fromCharCode(parseInt(h, 16)),
  );
}

interface Mail {
  from: string;
  to: string[];
  user?: string;
  raw: string;
}

async function smtpReceiver(opts: { tls: boolean }) {
  const got: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: opts.tls ? [] : ["STARTTLS"],
    allowInsecureAuth: !opts.tls,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === "qmtl" && auth.password === "s3cret-pw") {
        cb(null, { user: auth.username });
      } else cb(new Error("Invalid username or password"));
    },
    onData(stream, session, cb) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(c));
      stream.on("end", () => {
        got.push({
          from: session.envelope.mailFrom
            ? session.envelope.mailFrom.address
            : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: new TextDecoder().decode(
            chunks.reduce((a, c) => {
              const o = new Uint8Array(a.length + c.length);
              o.set(a);
              o.set(c, a.length);
              return o;
            }, new Uint8Array()),
          ),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.server.address() as { port: number }).port;
  return {
    got,
    port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

for (const mode of ["none", "starttls"] as const) {
  Deno.test(`alerts: e-mail through a real local SMTP server (nodemailer, ${mode}, AUTH)`, async () => {
    const rx = await smtpReceiver({ tls: mode === "starttls" });
    const { alerter, lines, metrics } = observed({
      sinks: [emailSink({
        host: "127.0.0.1",
        port: rx.port,
        tls: mode,
        user: "qmtl",
        password: "s3cret-pw",
        from: "qmtl@example.test",
        to: ["oncall@example.test", "lead@example.test"],
        timeoutMs: 5_000,
        // smtp-server's built-in certificate is self-signed.
        tlsOptions: { rejectUnauthorized: false },
      })],
    });
    try {
      alerter.raise({
        condition: "redis_writes_unconfirmed",
        summary: "redis: writes cannot be confirmed: 0 of 1 replica(s)",
        subject: "redis",
        details: { replicasConfirmed: 0, replicasRequired: 1 },
      });
      await alerter.idle();
      assert.equal(
        deliveries(metrics, "email", "ok"),
        1,
        lines.join("\n"),
      );
      assert.equal(rx.got.length, 1);
      const m = rx.got[0];
      assert.equal(m.user, "qmtl");
      assert.equal(m.from, "qmtl@example.test");
      assert.deepEqual(m.to, ["oncall@example.test", "lead@example.test"]);
      const unfolded = m.raw.replace(/\r\n[ \t]+/g, " ");
      const body = qpDecode(m.raw.slice(m.raw.indexOf("\r\n\r\n") + 4));
      assert.match(
        unfolded,
        /^Subject: \[qmtl\] \[CRITICAL\] redis_writes_unconfirmed: redis: writes cannot be confirmed: 0 of 1 replica\(s\)\r$/m,
      );
      assert.match(m.raw, /^X-QMTL-Condition: redis_writes_unconfirmed\r$/mi);
      assert.match(
        body,
        /^\[CRITICAL\] redis_writes_unconfirmed: redis: writes cannot be confirmed: 0 of 1 replica\(s\)\r$/m,
      );
      assert.match(body, /^ {2}replicasRequired: 1\r$/m);
      assert.match(
        body,
        /What it means and what to do: docs\/operations\.md#redis_writes_unconfirmed/,
      );
      assert.ok(!lines.join("\n").includes("s3cret-pw"));
    } finally {
      await alerter.close();
      await rx.close();
    }
  });
}

Deno.test("alerts: a wrong SMTP password is a counted failure, not an exception, and not logged", async () => {
  const rx = await smtpReceiver({ tls: false });
  const { alerter, lines, metrics } = observed({
    sinks: [emailSink({
      host: "127.0.0.1",
      port: rx.port,
      tls: "none",
      user: "qmtl",
      password: "wrong-pw-value",
      from: "qmtl@example.test",
      to: ["oncall@example.test"],
    })],
    attempts: 1,
  });
  try {
    alerter.raise({ condition: "dead_letters", summary: "x" });
    await alerter.idle();
    assert.equal(rx.got.length, 0);
    assert.equal(
      deliveries(metrics, "email", "error"),
      1,
    );
    assert.ok(!lines.join("\n").includes("wrong-pw-value"));
  } finally {
    await alerter.close();
    await rx.close();
  }
});

Deno.test("alerts: sinks refuse bad settings with a clear message", () => {
  assert.throws(
    () => webhookSink({ url: "ftp://x/hook" }),
    /webhook: the URL must be http: or https:/,
  );
  assert.throws(
    () => slackSink({ url: "not a url" }),
    /slack: the URL is not a valid URL/,
  );
  assert.throws(
    () => emailSink({ host: "h", from: "nope", to: ["a@b.c"] }),
    /email: "nope" is not an e-mail address/,
  );
  assert.throws(
    () => emailSink({ host: "h", from: "a@b.c", to: [] }),
    /at least one recipient/,
  );
  assert.throws(
    () => emailSink({ host: "h", from: "a@b.c", to: ["x@y.z"], password: "p" }),
    /a password needs a user/,
  );
  assert.throws(
    () => new Alerter({ sinks: [memorySink("a"), memorySink("a")] }),
    /two sinks are named "a"/,
  );
});
