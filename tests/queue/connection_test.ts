import { parseRedisUrl, redisOptions } from "../../lib/queue/connection.ts";
import { RedisUrlError } from "../../lib/queue/errors.ts";
import assert from "node:assert/strict";

Deno.test("parseRedisUrl: valid URIs", () => {
  const table: [string, Record<string, unknown>][] = [
    ["redis://127.0.0.1:6379/0", {
      mode: "standalone",
      tls: false,
      hosts: [{ host: "127.0.0.1", port: 6379 }],
      masterName: "",
      db: 0,
    }],
    ["redis://localhost", {
      mode: "standalone",
      tls: false,
      hosts: [{ host: "localhost", port: 6379 }],
      masterName: "",
      db: 0,
    }],
    ["rediss://user:p%40ss%2Fw@cache.example:6380/3", {
      mode: "standalone",
      tls: true,
      hosts: [{ host: "cache.example", port: 6380 }],
      masterName: "",
      db: 3,
      username: "user",
      password: "p@ss/w",
    }],
    ["redis://:secret@h:1/", {
      mode: "standalone",
      tls: false,
      hosts: [{ host: "h", port: 1 }],
      masterName: "",
      db: 0,
      password: "secret",
    }],
    ["redis://[::1]:6379/2", {
      mode: "standalone",
      tls: false,
      hosts: [{ host: "::1", port: 6379 }],
      masterName: "",
      db: 2,
    }],
    [
      "redis+sentinel://127.0.0.1:16389,127.0.0.1:16390,127.0.0.1:16391/qmtl/0",
      {
        mode: "sentinel",
        tls: false,
        hosts: [
          { host: "127.0.0.1", port: 16389 },
          { host: "127.0.0.1", port: 16390 },
          { host: "127.0.0.1", port: 16391 },
        ],
        masterName: "qmtl",
        db: 0,
      },
    ],
    ["REDISS+SENTINEL://a:b%3Ac@s1,s2:26380/my%20master", {
      mode: "sentinel",
      tls: true,
      hosts: [{ host: "s1", port: 26379 }, { host: "s2", port: 26380 }],
      masterName: "my master",
      db: 0,
      username: "a",
      password: "b:c",
    }],
    ["redis+sentinel://s1:26379/m/7/", {
      mode: "sentinel",
      tls: false,
      hosts: [{ host: "s1", port: 26379 }],
      masterName: "m",
      db: 7,
    }],
  ];
  for (const [uri, want] of table) {
    assert.deepEqual(parseRedisUrl(uri), want as never, uri);
  }
});

Deno.test("parseRedisUrl: bad URIs name the problem", () => {
  const table: [string, string][] = [
    ["", "empty"],
    ["127.0.0.1:6379", "missing scheme"],
    ["http://h:1/0", "unsupported scheme"],
    ["redis+cluster://h:1/0", "unsupported scheme"],
    ["redis://", "missing host"],
    ["redis:///0", "missing host"],
    ["redis://:6379/0", "missing host"],
    ["redis://h:abc/0", "bad port"],
    ["redis://h:0/0", "bad port"],
    ["redis://h:70000/0", "bad port"],
    ["redis://h:/0", "bad port"],
    ["redis://h:1/x", "not a non-negative integer"],
    ["redis://h:1/-1", "not a non-negative integer"],
    ["redis://h:1/1.5", "not a non-negative integer"],
    ["redis://h:1/0/extra", "too many path segments"],
    ["redis://a:1,b:2/0", "only allowed with redis+sentinel"],
    ["redis+sentinel://s1:26379", "missing master name"],
    ["redis+sentinel://s1:26379/", "missing master name"],
    ["redis+sentinel://s1:26379,,s2:1/m/0", "missing host"],
    ["redis+sentinel://s1:26379/m/zero", "not a non-negative integer"],
    ["redis+sentinel://s1:bad/m/0", "bad port"],
    ["redis://u:%zz@h:1/0", "percent-encoding"],
    ["redis://h:1/0?tls=true", "query strings"],
    ["redis://[::1/0", "unclosed"],
  ];
  for (const [uri, problem] of table) {
    assert.throws(
      () => parseRedisUrl(uri),
      (e: unknown) => e instanceof RedisUrlError && e.message.includes(problem),
      problem,
    );
  }
});

Deno.test("RedisUrlError masks the password", () => {
  assert.throws(
    () => parseRedisUrl("redis://u:hunter2@h:bad/0"),
    (e: unknown) => {
      assert.ok(e instanceof RedisUrlError);
      assert.ok(!e.message.includes("hunter2"), e.message);
      assert.ok(e.message.includes("u:***@"), e.message);
      assert.equal(e.code, "E_INVALID");
      return true;
    },
  );
});

Deno.test("redisOptions: Sentinel mode settings", () => {
  const o = redisOptions("redis+sentinel://:pw@s1:1,s2:2/qmtl/3");
  assert.deepEqual(o.sentinels, [{ host: "s1", port: 1 }, {
    host: "s2",
    port: 2,
  }]);
  assert.deepEqual([o.name, o.db, o.password, o.failoverDetector], [
    "qmtl",
    3,
    "pw",
    true,
  ]);
  assert.deepEqual(o.enableOfflineQueue, true);
  assert.ok(typeof o.sentinelRetryStrategy === "function");
  for (let i = 1; i < 50; i++) {
    const d = o.sentinelRetryStrategy!(i) as number;
    assert.ok(d > 0 && d <= 2_000, `sentinel retry ${d}`);
    const r = o.retryStrategy!(i) as number;
    assert.ok(r > 0 && r <= 2_000, `retry ${r}`);
  }
  const reconnect = o.reconnectOnError as (e: Error) => boolean | 1 | 2;
  assert.deepEqual(
    reconnect(
      new Error("READONLY You can't write against a read only replica."),
    ),
    2,
  );
  assert.deepEqual(reconnect(new Error("ERR other")), false);
  const s = redisOptions("rediss://h:7/1");
  assert.deepEqual([s.host, s.port, s.db, s.sentinels], ["h", 7, 1, undefined]);
  assert.ok(s.tls !== undefined);
});
