/**
 * The local stack's data story, as README and deploy/README.md tell it:
 * `deno task test` runs on a stack of its own (folder and ports), never the
 * one `deno task stack:up` gives a user; data persists across `down` +
 * `up`; `wipe` starts it empty. (Redis only: Neo4j keeps its store files
 * in the same folder, so `wipe` removes them the same way.)
 */
import assert from "node:assert/strict";
import { freeRedisPorts, redisStackEnv } from "../support/private_stack.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const STACK = `${ROOT}deploy/local/stack.sh`;

function withoutStackEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  for (const k of Object.keys(env)) if (k.startsWith("QMTL_")) delete env[k];
  return env;
}

async function sh(
  args: string[],
  env: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command("bash", {
    args,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `bash ${args.join(" ")} failed:\n${text}${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return text;
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]),
  );
}

function ports(e: Record<string, string>): string[] {
  return [
    ...e.QMTL_REDIS_URL.matchAll(/:(\d+)/g),
    ...e.QMTL_NEO4J_URL.matchAll(/:(\d+)/g),
  ].map((m) => m[1]);
}

Deno.test("deno task test uses a stack folder and ports of its own", async () => {
  const env = withoutStackEnv();
  const user = parseEnv(await sh([STACK, "env"], env));
  const tests = parseEnv(
    await sh([`${ROOT}deploy/local/test.sh`, "--stack-env"], env),
  );
  assert.equal(user.QMTL_STACK_DIR, "/tmp/qmtl-stack");
  assert.equal(tests.QMTL_STACK_DIR, "/tmp/qmtl-stack-test");
  const shared = ports(user).filter((p) => ports(tests).includes(p));
  assert.deepEqual(shared, [], "ports used by both stacks");
  // The README says which is which.
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assert.ok(readme.includes("/tmp/qmtl-stack-test"));
});

async function redisGet(port: number, key: string): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), "get", key],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test({
  name: "stack: data persists across down + up; wipe starts it empty",
  ignore: !(await hasRedis()),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "qmtl-stack-data-" });
    const ports = freeRedisPorts();
    const base = ports.redis;
    const env = { ...withoutStackEnv(), ...redisStackEnv(dir, ports) };
    try {
      await sh([STACK, "up", "--redis-only"], env);
      const set = await new Deno.Command("redis-cli", {
        args: ["-p", String(base), "set", "qmtl:stack-test", "kept"],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(set.stdout).trim(), "OK");
      await sh([STACK, "down"], env);
      await sh([STACK, "up", "--redis-only"], env);
      assert.equal(await redisGet(base, "qmtl:stack-test"), "kept");
      await sh([STACK, "wipe"], env);
      assert.equal(await Deno.stat(dir).catch(() => null), null);
      await sh([STACK, "up", "--redis-only"], env);
      assert.equal(await redisGet(base, "qmtl:stack-test"), "");
    } finally {
      await sh([STACK, "wipe"], env).catch((e) => console.error(String(e)));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("stack: wipe refuses a folder it did not make", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/precious.txt`, "x");
    await assert.rejects(
      sh([STACK, "wipe"], { ...withoutStackEnv(), QMTL_STACK_DIR: dir }),
      /does not look like a stack folder/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/precious.txt`), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function hasRedis(): Promise<boolean> {
  try {
    const out = await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    if (Deno.env.get("CI") === "true") {
      throw new Error("redis-server not found but CI=true");
    }
    return false;
  }
}
