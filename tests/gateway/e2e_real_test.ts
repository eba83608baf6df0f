import assert from "node:assert/strict";
import { StrategyState } from "../../lib/contracts/mod.ts";
import { loadConfig } from "../../lib/gateway/server/config.ts";
import { startServer } from "../../lib/gateway/server/start.ts";
import { createLogger, strategyStream } from "../../lib/gateway/mod.ts";
import { RedisEventLog } from "../../lib/queue/mod.ts";
import { realStack } from "../support/services.ts";
import { readBefore } from "../support/poll.ts";
import {
  chain,
  client,
  dag,
  node,
  readSse,
  remote,
  SECRET,
  submitDag,
  submitReusing,
  token,
  waitFor,
  waitForState,
} from "./helpers.ts";
import { namespaceKeys } from "../../lib/gateway/store/namespace.ts";

const { neo4j, redis, ignore } = realStack();

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    QMTL_NEO4J_URL: neo4j.url!,
    QMTL_REDIS_URL: redis.url!,
    QMTL_NEO4J_MIGRATE: "auto",
    QMTL_JWT_SECRET: SECRET,
    QMTL_PORT: "0",
    ...extra,
  };
}

Deno.test({
  name:
    "e2e (Neo4j + Redis Sentinel): submit → COMPLETED, topic reuse, SSE, retire",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const salt = crypto.randomUUID();
    const srv = await startServer(
      loadConfig(env({ QMTL_NAMESPACE: `gwtest-${salt}` })),
      {
        quiet: true,
        logger: createLogger({ level: "error", sink: () => {} }),
      },
    );
    try {
      const gw = remote(srv.url);
      const tok = await token("alice", ["submitter", "reader"]);
      const src = node(`src-${salt}`, {
        type: "StreamInput",
        params: { symbol: "BTC", salt },
      });
      const shared = chain(`s-${salt}-`, 3, src);
      const a = await submitDag(gw, tok, dag("A", [src, ...shared]));
      assert.equal(a.state, StrategyState.QUEUED);
      const sA = await waitForState(
        gw,
        a.strategyId,
        StrategyState.COMPLETED,
        tok,
        30_000,
      );
      assert.equal(sA.created.length, 4);
      const { extra } = await submitReusing(
        gw,
        tok,
        sA,
        src,
        shared,
        `x-${salt}`,
        30_000,
      );
      const sse = await fetch(`${srv.url}/v1/events?strategy=${a.strategyId}`, {
        headers: { authorization: `Bearer ${tok}` },
      });
      const evs = await readSse(sse, (e) => e.length >= 3, 10_000);
      assert.deepEqual(evs.map((e) => e.event), [
        "qmtl.strategy.queued",
        "qmtl.strategy.processing",
        "qmtl.strategy.completed",
      ]);
      const r =
        (await client(gw, tok).retireStrategy({ strategyId: a.strategyId }))
          .status!;
      assert.equal(r.state, StrategyState.RETIRED);
      const rest = await fetch(`${srv.url}/v1/nodes/${extra.nodeId}`, {
        headers: { authorization: `Bearer ${await token("r", ["reader"])}` },
      });
      assert.equal(rest.status, 200);
      assert.equal((await rest.json()).refCount, 1);
      const ready = await fetch(`${srv.url}/readyz`);
      assert.equal(
        ready.status,
        200,
        JSON.stringify(await ready.clone().json()),
      );
      await ready.body?.cancel();
    } finally {
      await srv.stop();
    }
  },
});

function spawnChild(extraEnv: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./fixtures/gateway_child.ts", import.meta.url).pathname,
    ],
    env: env(extraEnv),
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const waitLine = async (re: RegExp, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const m = re.exec(buf);
      if (m) {
        buf = buf.slice(m.index + m[0].length);
        return m;
      }
      const r = await readBefore(lines, end);
      if (r.done) break;
      buf += r.value;
    }
    throw new Error(`child: timed out waiting for ${re}; output: ${buf}`);
  };
  return { child, lines, waitLine };
}

Deno.test({
  name:
    "recovery: SIGKILL the server mid-diff, restart, the strategy completes exactly once",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const salt = crypto.randomUUID();
    const namespace = `gwtest-${salt}`;
    const tok = await token("alice", ["submitter", "reader"]);
    const first = spawnChild({
      GW_TEST_DIFF_DELAY_MS: "60000",
      QMTL_NAMESPACE: namespace,
    });
    let second: ReturnType<typeof spawnChild> | undefined;
    try {
      const url1 = (await first.waitLine(/LISTENING (\S+)/, 30_000))[1];
      const ack = await submitDag(
        remote(url1),
        tok,
        dag("R", chain(`r-${salt}-`, 3)),
      );
      await first.waitLine(
        new RegExp(`DIFF_STARTED ${ack.strategyId}`),
        20_000,
      );
      first.child.kill("SIGKILL");
      await first.child.status;
      await first.lines.cancel().catch(() => {});

      second = spawnChild({ QMTL_NAMESPACE: namespace });
      const url2 = (await second.waitLine(/LISTENING (\S+)/, 30_000))[1];
      const done = await waitFor(
        async () => {
          const s = (await client(remote(url2), tok).getStrategy({
            strategyId: ack.strategyId,
          })).status!;
          return s.state === StrategyState.COMPLETED ? s : undefined;
        },
        30_000,
        "COMPLETED after restart",
      );
      assert.equal(Object.keys(done.queueMap).length, 3);
      assert.ok(done.attempts >= 2, `attempts ${done.attempts}`);
      // Exactly one COMPLETED transition in the event log. The killed
      // process may have held the claim on the strategy's events (its
      // PROCESSING event is published while the diff runs): then the
      // events wait for that claim to lapse and the recovery sweep.
      const log = new RedisEventLog({
        url: redis.url!,
        keyPrefix: namespaceKeys(namespace).eventPrefix,
      });
      const completed = async () =>
        (await log.read(strategyStream(ack.strategyId), { count: 100 }))
          .filter((e) => e.event.type === "qmtl.strategy.completed").length;
      try {
        await waitFor(
          async () => (await completed()) > 0 || undefined,
          40_000,
          "the COMPLETED event",
        );
        assert.equal(await completed(), 1);
      } finally {
        await log.close();
      }
    } finally {
      try {
        first.child.kill("SIGKILL");
      } catch { /* already gone */ }
      if (second) {
        second.child.kill("SIGTERM");
        await second.child.status;
        await second.lines.cancel().catch(() => {});
      }
    }
  },
});
