// QMTL_NAMESPACE: two deployments on one Redis keep their own queues,
// stores, events and topics (neither takes the other's jobs), and a
// gateway whose registry disagrees with the namespace's marker refuses to
// start, saying why.
import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/gateway/server/config.ts";
import {
  type RunningServer,
  startServer,
} from "../../../lib/gateway/server/start.ts";
import { StrategyState } from "../../../lib/contracts/mod.ts";
import {
  createLogger,
  NamespaceMismatchError,
} from "../../../lib/gateway/mod.ts";
import { createRedis, RedisQueue } from "../../../lib/queue/mod.ts";
import { realStack } from "../../support/services.ts";
import {
  chain,
  client,
  dag,
  remote,
  SECRET,
  submitDag,
  token,
  waitForState,
} from "../helpers.ts";
import {
  claimNamespace,
  namespaceKeys,
} from "../../../lib/gateway/store/namespace.ts";

const { neo4j, redis, ignore } = realStack();

function start(env: Record<string, string>): Promise<RunningServer> {
  return startServer(
    loadConfig({
      QMTL_REDIS_URL: redis.url!,
      QMTL_JWT_SECRET: SECRET,
      QMTL_PORT: "0",
      ...env,
    }),
    { quiet: true, logger: createLogger({ level: "error", sink: () => {} }) },
  );
}

Deno.test("namespace: keys derive from one name; the default keeps the library prefixes", () => {
  assert.deepEqual(namespaceKeys("blue"), {
    namespace: "blue",
    storePrefix: "blue:gw:",
    eventPrefix: "blue:ev",
    topicPrefix: "{blue:topics}",
    diffQueue: { name: "diff", keyPrefix: "{blue:q:diff}" },
    webhookQueue: { name: "webhook", keyPrefix: "{blue:q:webhook}" },
    marker: "blue:gw:namespace",
  });
  assert.equal(namespaceKeys().diffQueue.keyPrefix, "{qmtl:q:diff}");
  assert.throws(() => namespaceKeys("a b"), /namespace must be/);
});

Deno.test({
  name: "namespace: the marker admits the same registry and refuses another",
  ignore: redis.ignore,
  async fn() {
    const r = createRedis(redis.url!, { connectionName: "ns-test" });
    try {
      const keys = namespaceKeys(`nstest-${crypto.randomUUID()}`);
      const m = await claimNamespace(
        r,
        keys,
        "neo4j database neo4j, namespace a",
      );
      assert.equal(m.registry, "neo4j database neo4j, namespace a");
      const again = await claimNamespace(
        r,
        keys,
        "neo4j database neo4j, namespace a",
      );
      assert.equal(again.createdAtMs, m.createdAtMs);
      const err = await claimNamespace(
        r,
        keys,
        "neo4j database neo4j, namespace b",
      ).then(() => undefined, (e) => e);
      assert.ok(err instanceof NamespaceMismatchError);
      assert.match(
        err.message,
        /belongs to the registry "neo4j database neo4j, namespace a"/,
      );
      assert.match(err.message, /uses "neo4j database neo4j, namespace b"/);
      assert.match(err.message, /QMTL_NAMESPACE/);
      await r.del(keys.marker);
    } finally {
      await r.quit();
    }
  },
});

Deno.test({
  name:
    "namespace: two servers on one Redis in two namespaces never take each other's jobs; a third with another registry refuses to start",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const salt = crypto.randomUUID().slice(0, 8);
    const nsA = `nsa-${salt}`;
    const nsB = `nsb-${salt}`;
    const env = {
      QMTL_NEO4J_URL: neo4j.url!,
      QMTL_NEO4J_MIGRATE: "auto",
    };
    const a = await start({ ...env, QMTL_NAMESPACE: nsA });
    const b = await start({ ...env, QMTL_NAMESPACE: nsB });
    try {
      const tok = await token("alice", ["submitter", "reader"]);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const ack = await submitDag(
          remote(a.url),
          tok,
          dag(`ns${i}`, chain(`ns${salt}${i}-`, 2)),
        );
        ids.push(ack.strategyId);
      }
      for (const id of ids) {
        await waitForState(
          remote(a.url),
          id,
          StrategyState.COMPLETED,
          tok,
          20_000,
        );
      }
      // B's queue saw none of A's jobs; B's store knows none of them.
      const rq = new RedisQueue({
        url: redis.url!,
        ...namespaceKeys(nsB).diffQueue,
      });
      try {
        assert.deepEqual(await rq.stats(), {
          ready: 0,
          delayed: 0,
          leased: 0,
          done: 0,
          dead: 0,
        });
      } finally {
        await rq.close();
      }
      const unknown = await client(remote(b.url), tok).getStrategy({
        strategyId: ids[0],
      }).then(() => "found", (e) => String(e));
      assert.match(unknown, /not_found/);

      // Same namespace as A, another Neo4j namespace: refused at start-up.
      const refused = await start({
        ...env,
        QMTL_NAMESPACE: nsA,
        QMTL_NEO4J_NAMESPACE: `other-${salt}`,
      }).then(async (s) => {
        await s.stop();
        return undefined;
      }, (e) => e as Error);
      assert.ok(refused instanceof NamespaceMismatchError, String(refused));
      assert.match(
        refused.message,
        new RegExp(
          `namespace ${nsA}".*uses "neo4j database neo4j, namespace other-${salt}"`,
        ),
      );
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});
