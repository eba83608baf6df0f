import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { StrategyState } from "../../lib/contracts/mod.ts";
import {
  SIGNATURE_HEADER,
  strategyStream,
  verifySignature,
} from "../../lib/gateway/mod.ts";
import { MemoryQueue } from "../../lib/queue/mod.ts";
import {
  client,
  closeAll,
  dag,
  memoryGateway,
  node,
  token,
  waitFor,
} from "./helpers.ts";

const HOOK_SECRET = "webhook-secret-for-tests";

interface Delivery {
  path: string;
  eventId: string;
  attempt: number;
  at: number;
  signatureOk: boolean;
  independentSigOk: boolean;
  contentType: string;
  body: Record<string, unknown>;
}

/**
 * HMAC-SHA256 computed here with node:crypto, independently of the
 * gateway's helper (Web Crypto).
 */
function hmacHex(secret: string, body: Uint8Array): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * A real receiver on 127.0.0.1: `/ok/…` answers 204, `/flaky/…` fails the
 * first two attempts of each event with 503, `/dead/…` always answers 500.
 */
function receiver(): {
  url: string;
  deliveries: Delivery[];
  close: () => Promise<void>;
} {
  const deliveries: Delivery[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const raw = new Uint8Array(await req.arrayBuffer());
      const sig = req.headers.get(SIGNATURE_HEADER) ?? "";
      const path = new URL(req.url).pathname;
      const d: Delivery = {
        path,
        eventId: req.headers.get("qmtl-event-id") ?? "",
        attempt: Number(req.headers.get("qmtl-delivery-attempt")),
        at: performance.now(),
        signatureOk: await verifySignature(HOOK_SECRET, raw, sig),
        independentSigOk: sig === `sha256=${hmacHex(HOOK_SECRET, raw)}`,
        contentType: req.headers.get("content-type") ?? "",
        body: JSON.parse(new TextDecoder().decode(raw)),
      };
      deliveries.push(d);
      if (path.startsWith("/dead/")) return new Response("no", { status: 500 });
      if (path.startsWith("/flaky/")) {
        const seen = deliveries.filter((x) =>
          x.path === path && x.eventId === d.eventId
        ).length;
        if (seen <= 2) return new Response("later", { status: 503 });
      }
      return new Response(null, { status: 204 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    deliveries,
    close: () => server.shutdown(),
  };
}

Deno.test("webhooks e2e: signed delivery of every lifecycle event, retries with backoff, dead letters", async () => {
  const hook = receiver();
  const webhookQueue = new MemoryQueue({ backoff: { baseMs: 40, maxMs: 200 } });
  const gw = memoryGateway({
    webhookQueue,
    webhookSecret: HOOK_SECRET,
    // The receiver is on 127.0.0.1: refused unless allow-listed (SSRF guard).
    webhooks: { maxAttempts: 3, timeoutMs: 2_000, allowHosts: ["127.0.0.1"] },
  });
  try {
    const alice = await token("alice", ["submitter", "reader"]);
    const submit = async (salt: string, callbackUrl: string) => {
      const src = node(`src-${salt}`, {
        type: "StreamInput",
        params: { salt },
      });
      const n1 = node(`sma-${salt}`, { inputs: [src.nodeId] });
      const ack = await client(gw, alice).submitStrategy({
        dag: dag(salt, [src, n1]),
        version: "1",
        callbackUrl,
        metadata: {},
      });
      await waitFor(
        async () =>
          (await gw.service.store.get(ack.strategyId))?.status.state ===
            StrategyState.COMPLETED,
        10_000,
        `${salt} COMPLETED`,
      );
      return ack.strategyId;
    };
    const ok = await submit("ok", `${hook.url}/ok/a`);
    const flaky = await submit("flaky", `${hook.url}/flaky/b`);
    const dead = await submit("dead", `${hook.url}/dead/c`);

    const to = (path: string) => hook.deliveries.filter((d) => d.path === path);
    const delivered = (path: string, n: number) =>
      waitFor(
        () => Promise.resolve(to(path).length >= n),
        10_000,
        `${n} deliveries to ${path}`,
      );
    const logged = async (id: string) =>
      (await gw.events.read(strategyStream(id), { count: 100 })).map((e) =>
        e.event
      );
    const types = [
      "qmtl.strategy.queued",
      "qmtl.strategy.processing",
      "qmtl.strategy.completed",
    ];

    // 1. Every lifecycle event POSTed once, signed, as a structured CloudEvent.
    await delivered("/ok/a", 3);
    const okEvents = await logged(ok);
    assert.deepEqual(okEvents.map((e) => e.type), types);
    const okDeliveries = to("/ok/a");
    assert.deepEqual(
      okDeliveries.map((d) => d.eventId).sort(),
      okEvents.map((e) => e.id).sort(),
    );
    for (const d of okDeliveries) {
      assert.ok(d.signatureOk, "verifySignature accepts the signature");
      assert.ok(d.independentSigOk, "signature is HMAC-SHA256 of the body");
      assert.equal(d.attempt, 1);
      assert.equal(d.contentType, "application/cloudevents+json");
      assert.equal(d.body.specversion, "1.0");
      assert.equal(d.body.id, d.eventId);
      assert.equal(d.body.subject, ok);
      assert.equal((d.body.data as { strategyId: string }).strategyId, ok);
    }
    const completed = okDeliveries.find((d) =>
      d.body.type === "qmtl.strategy.completed"
    )!;
    assert.equal(
      Object.keys((completed.body.data as { queueMap: object }).queueMap)
        .length,
      2,
    );

    // 2. A receiver failing twice per event: attempts 1, 2 (503), 3 (ok).
    await delivered("/flaky/b", 9);
    const flakyEvents = await logged(flaky);
    for (const e of flakyEvents) {
      const tries = to("/flaky/b").filter((d) => d.eventId === e.id);
      assert.deepEqual(tries.map((d) => d.attempt), [1, 2, 3], e.type);
      assert.ok(tries.every((d) => d.signatureOk && d.independentSigOk));
      // Backoff: each retry waits at least half the base delay (jitter).
      for (let i = 1; i < tries.length; i++) {
        assert.ok(
          tries[i].at - tries[i - 1].at >= 15,
          `retry ${i} of ${e.type} after ${tries[i].at - tries[i - 1].at} ms`,
        );
      }
    }

    // 3. A receiver that always fails: dead-lettered after maxAttempts.
    const deadEvents = await logged(dead);
    const deadJobs = await waitFor(
      async () => {
        const jobs = (await webhookQueue.listDead()).filter((j) =>
          new TextDecoder().decode(j.payload).includes("/dead/c")
        );
        return jobs.length >= 3 ? jobs : undefined;
      },
      10_000,
      "3 dead letters",
    );
    assert.equal(deadJobs.length, 3);
    for (const j of deadJobs) {
      assert.equal(j.attempts, 3);
      assert.equal(j.lastError, "HTTP 500");
    }
    const deadIds = deadJobs.map((j) =>
      (JSON.parse(new TextDecoder().decode(j.payload)) as {
        event: { id: string };
      }).event.id
    ).sort();
    assert.deepEqual(deadIds, deadEvents.map((e) => e.id).sort());
    for (const e of deadEvents) {
      assert.equal(to("/dead/c").filter((d) => d.eventId === e.id).length, 3);
    }
    // Nothing of /ok or /flaky is dead.
    assert.equal((await webhookQueue.listDead()).length, 3);
  } finally {
    await closeAll(gw);
    await webhookQueue.close();
    await hook.close();
  }
});
