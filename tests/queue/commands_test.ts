// The Lua commands: the generated module is current, the build rules hold,
// every script compiles on Redis under its SHA-1, the NOSCRIPT fallback keeps
// writes confirmed, and the package runs without reading files.
import assert from "node:assert/strict";
import {
  loadCommands,
  renderFromDirectory,
} from "../../lib/queue/commands/generate.ts";
import { COMMANDS } from "../../lib/queue/commands/mod.gen.ts";
import { closeRedis } from "../../lib/queue/connection.ts";
import { scriptReissues } from "../../lib/queue/redis_commands.ts";
import { JOB_FIELDS, RedisQueue } from "../../lib/queue/redis_queue.ts";
import { redisTest, testClient, testPrefix } from "./redis_env.ts";

const DIR = new URL("../../lib/queue/commands/", import.meta.url);

Deno.test("commands: mod.gen.ts matches the .lua files (run `deno task lua`)", async () => {
  const fresh = await renderFromDirectory(DIR);
  const current = await Deno.readTextFile(new URL("mod.gen.ts", DIR));
  assert.equal(
    current,
    fresh,
    "lib/queue/commands/mod.gen.ts is stale: run `deno task lua`",
  );
});

Deno.test("commands: each file name gives the KEYS count its header documents", async () => {
  for (const [name, c] of Object.entries(COMMANDS)) {
    const file = `${name}-${c.numberOfKeys}.lua`;
    const text = await Deno.readTextFile(new URL(file, DIR));
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(text)?.[1] ?? "";
    const keys = [...header.matchAll(/^\s*KEYS\[(\d+)\]/gm)].length;
    assert.equal(keys, c.numberOfKeys, file);
    assert.match(header, /Returns/, `${file}: header says what it returns`);
  }
});

Deno.test("commands: JOB_FIELDS is the list of includes/jobFields.lua", async () => {
  const lua = await Deno.readTextFile(new URL("includes/jobFields.lua", DIR));
  const list = /JOB_FIELDS = \{([^}]*)\}/.exec(lua)?.[1] ?? "";
  const names = [...list.matchAll(/'([a-z]+)'/g)].map((m) => m[1]);
  assert.deepEqual(names, [...JOB_FIELDS]);
});

function files(map: Record<string, string>) {
  return {
    names: Object.keys(map).filter((f) => !f.includes("/")),
    read: (p: string) =>
      p in map
        ? Promise.resolve(map[p])
        : Promise.reject(new Error("no such file")),
  };
}

const HEADER = (keys: number) =>
  `--[[\n  t\n${
    Array.from({ length: keys }, (_, i) => `  KEYS[${i + 1}] k\n`).join("")
  }  ARGV[1] a\n  Returns x\n]]\n`;

Deno.test("commands: includes are inlined once, nested, in order", async () => {
  const f = files({
    "two-1.lua": HEADER(1) +
      "-- @include includes/a.lua\n-- @include includes/b.lua\n" +
      "-- @include includes/a.lua\nreturn A + B\n",
    "includes/a.lua": "local A = 1\n",
    "includes/b.lua": "-- @include includes/a.lua\nlocal B = A + 1\n",
  });
  const [c] = await loadCommands(f.names, f.read);
  assert.equal(c.name, "two");
  assert.equal(c.numberOfKeys, 1);
  assert.equal(c.lua.match(/local A = 1/g)?.length, 1);
  assert.ok(c.lua.indexOf("local A = 1") < c.lua.indexOf("local B = A + 1"));
  assert.ok(c.lua.endsWith("return A + B\n"));
  assert.match(c.sha1, /^[0-9a-f]{40}$/);
});

Deno.test("commands: bad files are refused with the file named", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ "Bad_name.lua": HEADER(0) }, /Bad_name\.lua: a command file is named/],
    [{ "x-1.lua": "return 1\n" }, /x-1\.lua: must start with a --\[\[/],
    [
      { "x-2.lua": HEADER(1) + "return 1\n" },
      /x-2\.lua: the header documents KEYS \[1\], the file name says 2/,
    ],
    [
      {
        "x-0.lua": HEADER(0) + "-- @include includes/a.lua\n",
        "includes/a.lua": "-- @include includes/a.lua\n",
      },
      /include cycle/,
    ],
    [
      { "x-0.lua": HEADER(0) + "-- @include ../etc.lua\n" },
      /x-0\.lua: include "\.\.\/etc\.lua" must be includes/,
    ],
    [
      { "x-0.lua": HEADER(0) + "-- @include includes/none.lua\n" },
      /x-0\.lua: cannot read includes\/none\.lua/,
    ],
  ];
  for (const [map, re] of cases) {
    const f = files(map);
    await assert.rejects(() => loadCommands(f.names, f.read), re);
  }
});

redisTest(
  "commands: every script compiles on Redis under its SHA-1",
  async (url) => {
    const redis = testClient(url);
    try {
      for (const [name, c] of Object.entries(COMMANDS)) {
        assert.equal(await redis.script("LOAD", c.lua), c.sha1, name);
      }
    } finally {
      await closeRedis(redis);
    }
  },
);

redisTest(
  "commands: after SCRIPT FLUSH a write falls back to EVAL and is still confirmed",
  async (url) => {
    const redis = testClient(url);
    const q = new RedisQueue({ redis, keyPrefix: testPrefix("noscript") });
    try {
      await q.enqueue("k", new Uint8Array([1]));
      const before = scriptReissues(redis);
      await redis.script("FLUSH");
      const { job, created } = await q.enqueue("k", new Uint8Array([2]));
      assert.ok(created);
      assert.equal(scriptReissues(redis), before + 1);
      assert.equal(q.unconfirmedWrites, 0);
      assert.equal((await q.get(job.id))?.state, "ready");
    } finally {
      await q.purge();
      await q.close();
      await closeRedis(redis);
    }
  },
);

redisTest(
  "commands: the queue runs without permission to read files (as imported from JSR)",
  async (url) => {
    const prefix = testPrefix("noread");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-env",
        new URL("./fixtures/no_read_roundtrip.ts", import.meta.url).pathname,
        prefix,
      ],
      env: { QMTL_REDIS_URL: url },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /^ok [0-9a-f]{32}$/m);
  },
);
