import {
  parseSentinelMessage,
  SentinelObserver,
} from "../../lib/queue/sentinel_observer.ts";

import assert from "node:assert/strict";
import { redisTest } from "./redis_env.ts";

const S = { host: "127.0.0.1", port: 16389 };

Deno.test("parseSentinelMessage parses every event kind", () => {
  assert.deepEqual(
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
  assert.deepEqual([
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
  assert.deepEqual([
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
  assert.deepEqual(
    parseSentinelMessage("-sdown", "master qmtl 127.0.0.1 16379", S)?.type,
    "-sdown",
  );
  assert.deepEqual(
    parseSentinelMessage("-odown", "master qmtl 127.0.0.1 16379", S)?.type,
    "-odown",
  );
  assert.deepEqual(
    parseSentinelMessage("+failover-end", "master qmtl 127.0.0.1 16379", S)
      ?.masterName,
    "qmtl",
  );
  assert.deepEqual(
    parseSentinelMessage("+tilt", "#tilt mode entered", S),
    null,
  );
  assert.deepEqual(
    parseSentinelMessage("+switch-master", "qmtl 127.0.0.1", S),
    null,
  );
});

Deno.test("SentinelObserver refuses a non-Sentinel URI", () => {
  assert.throws(
    () => new SentinelObserver("redis://127.0.0.1:6379/0"),
    { name: "QueueError", message: /redis\+sentinel/ },
  );
});

redisTest(
  "SentinelObserver subscribes to every Sentinel and closes cleanly",
  async (url) => {
    if (!url.includes("+sentinel")) return;
    const obs = new SentinelObserver(url);
    try {
      assert.deepEqual(
        await obs.ready(),
        url.split("//")[1].split("/")[0].split(",").length,
      );
      assert.deepEqual(obs.counts["+switch-master"], 0);
    } finally {
      await obs.close();
    }
  },
);
