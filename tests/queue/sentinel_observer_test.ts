import {
  parseSentinelMessage,
  SentinelObserver,
} from "../../lib/queue/sentinel_observer.ts";
import { QueueError } from "../../lib/queue/errors.ts";
import { assertEquals, assertRejects } from "./assert.ts";
import { redisTest } from "./redis_env.ts";

const S = { host: "127.0.0.1", port: 16389 };

Deno.test("parseSentinelMessage parses every event kind", () => {
  assertEquals(
    parseSentinelMessage(
      "+switch-master",
      "qmtl 127.0.0.1 16379 127.0.0.1 16380",
      S,
      5,
    ),
    {
      type: "+switch-master",
      masterName: "qmtl",
      oldMaster: { host: "127.0.0.1", port: 16379 },
      newMaster: { host: "127.0.0.1", port: 16380 },
      sentinel: S,
      raw: "qmtl 127.0.0.1 16379 127.0.0.1 16380",
      atMs: 5,
    },
  );
  const odown = parseSentinelMessage(
    "+odown",
    "master qmtl 127.0.0.1 16379 #quorum 2/2",
    S,
    1,
  )!;
  assertEquals([
    odown.type,
    odown.masterName,
    odown.instanceType,
    odown.address,
  ], [
    "+odown",
    "qmtl",
    "master",
    { host: "127.0.0.1", port: 16379 },
  ]);
  const sdown = parseSentinelMessage(
    "+sdown",
    "slave 127.0.0.1:16380 127.0.0.1 16380 @ qmtl 127.0.0.1 16379",
    S,
    1,
  )!;
  assertEquals([
    sdown.masterName,
    sdown.instanceType,
    sdown.address,
    sdown.masterAddress,
  ], [
    "qmtl",
    "slave",
    { host: "127.0.0.1", port: 16380 },
    { host: "127.0.0.1", port: 16379 },
  ]);
  assertEquals(
    parseSentinelMessage("-sdown", "master qmtl 127.0.0.1 16379", S)?.type,
    "-sdown",
  );
  assertEquals(
    parseSentinelMessage("-odown", "master qmtl 127.0.0.1 16379", S)?.type,
    "-odown",
  );
  assertEquals(
    parseSentinelMessage("+failover-end", "master qmtl 127.0.0.1 16379", S)
      ?.masterName,
    "qmtl",
  );
  assertEquals(parseSentinelMessage("+tilt", "#tilt mode entered", S), null);
  assertEquals(
    parseSentinelMessage("+switch-master", "qmtl 127.0.0.1", S),
    null,
  );
});

Deno.test("SentinelObserver refuses a non-Sentinel URI", async () => {
  await assertRejects(
    () => new SentinelObserver("redis://127.0.0.1:6379/0"),
    QueueError,
    "redis+sentinel",
  );
});

redisTest(
  "SentinelObserver subscribes to every Sentinel and closes cleanly",
  async (url) => {
    if (!url.includes("+sentinel")) return;
    const obs = new SentinelObserver(url);
    try {
      assertEquals(
        await obs.ready(),
        url.split("//")[1].split("/")[0].split(",").length,
      );
      assertEquals(obs.counts["+switch-master"], 0);
    } finally {
      await obs.close();
    }
  },
);
