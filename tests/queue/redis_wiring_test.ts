import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { serviceUrl } from "../support/services.ts";

const svc = serviceUrl("QMTL_REDIS_URL");

/** Minimal parse of the sentinel URI, independent of lib/queue on purpose. */
function sentinelsOf(
  uri: string,
): { sentinels: { host: string; port: number }[]; name: string } {
  const m = /^redis\+sentinel:\/\/(?:[^@]*@)?([^/]+)\/([^/]+)/.exec(uri);
  assert.ok(
    m,
    `QMTL_REDIS_URL must be a redis+sentinel:// URI for this test, got ${uri}`,
  );
  return {
    sentinels: m[1].split(",").map((hp) => {
      const [host, port] = hp.split(":");
      return { host, port: Number(port) };
    }),
    name: m[2],
  };
}

Deno.test({
  name: "wiring: PING reaches the Redis master through Sentinel",
  ignore: svc.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { sentinels, name } = sentinelsOf(svc.url!);
    const redis = new Redis({
      sentinels,
      name,
      lazyConnect: true,
      maxRetriesPerRequest: 2,
    });
    try {
      await redis.connect();
      assert.equal(await redis.ping(), "PONG");
      const role = await redis.call("ROLE") as unknown[];
      assert.equal(role[0], "master");
    } finally {
      redis.disconnect();
    }
  },
});
