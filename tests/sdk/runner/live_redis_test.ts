// Live runs on the real stack: runner processes on Redis (Sentinel) topics.
// Two processes with overlapping strategies compute every shared node once per
// bar; killing the producer (SIGKILL) hands its nodes to the other within a
// lease period, with no bar lost or stored twice; a restarted process resumes.
import assert from "node:assert/strict";
import { closeRedis, RedisTopicStore } from "../../../lib/queue/mod.ts";
import { storeTopicIO } from "../../../sdk/mod.ts";
import {
  deletePrefix,
  redisTest,
  testClient,
  testPrefix,
} from "../../queue/redis_env.ts";
import {
  barTimes,
  expected,
  price,
  queueMapOf,
} from "./fixtures/strategies.ts";

const CHILD = new URL("./fixtures/live_child.ts", import.meta.url).pathname;
const LEASE_MS = 1_500;

interface Child {
  proc: Deno.ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<Deno.CommandStatus>;
}

function spawn(
  which: "a" | "b",
  keyPrefix: string,
  topicPrefix: string,
  holder: string,
): Child {
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CHILD,
      which,
      keyPrefix,
      topicPrefix,
      holder,
      String(LEASE_MS),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  (async () => {
    const dec = new TextDecoderStream();
    let buf = "";
    for await (const chunk of proc.stdout.pipeThrough(dec)) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          // not ours
        }
      }
    }
  })();
  return { proc, lines, exited: proc.status };
}

async function until(
  what: string,
  ok: () => Promise<boolean> | boolean,
  ms = 30_000,
) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(
  c: Child,
): Promise<{ name: string; evaluations: number; published: number }[]> {
  c.proc.kill("SIGTERM");
  await c.exited;
  const last = c.lines.find((l) => "stats" in l) as {
    stats: { name: string; evaluations: number; published: number }[];
  } | undefined;
  assert.ok(last, "the child printed its stats");
  return last.stats;
}

const evals = (stats: { name: string; evaluations: number }[], name: string) =>
  stats.find((s) => s.name === name)?.evaluations ?? 0;

async function fixture(url: string) {
  const keyPrefix = testPrefix("live");
  const topicPrefix = `p${crypto.randomUUID().slice(0, 6)}`;
  const store = new RedisTopicStore({ url, keyPrefix });
  for (const t of new Set(Object.values(queueMapOf(topicPrefix)))) {
    await store.create(t);
  }
  const io = storeTopicIO(store);
  const topic = (n: string) => `${topicPrefix}_${n}`;
  let next = 0;
  return {
    keyPrefix,
    topicPrefix,
    store,
    io,
    topic,
    get next() {
      return next;
    },
    async publish(n: number, gapMs = 0) {
      for (const end = next + n; next < end; next++) {
        await io.publish(topic("px"), [{
          barTs: next * 60,
          value: price(next),
        }], "");
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    },
    async cleanup() {
      await store.close();
      const r = testClient(url);
      await deletePrefix(r, keyPrefix);
      await closeRedis(r);
    },
  };
}

redisTest(
  "live on Redis: two processes with overlapping strategies compute each shared node once per bar",
  async (url) => {
    const f = await fixture(url);
    const a = spawn("a", f.keyPrefix, f.topicPrefix, "proc-a");
    const b = spawn("b", f.keyPrefix, f.topicPrefix, "proc-b");
    try {
      await until(
        "both ready",
        () => a.lines.some((l) => l.ready) && b.lines.some((l) => l.ready),
      );
      const bars = 30;
      await f.publish(bars, 5);
      const last = (bars - 1) * 60;
      await until(
        "both signals",
        async () =>
          (await f.store.lastBarTs(f.topic("signal_a"))) === last &&
          (await f.store.lastBarTs(f.topic("signal_b"))) === last,
      );
      const sa = await stop(a);
      const sb = await stop(b);
      assert.equal(
        evals(sa, "sma3") + evals(sb, "sma3"),
        bars - 2,
        "sma3: once per bar across both processes",
      );
      assert.equal(evals(sa, "signal_a"), bars - 2);
      assert.equal(evals(sb, "signal_b"), bars - 2);
      assert.deepEqual(
        await barTimes(f.io, f.topic("sma3")),
        expected(2, bars - 1),
      );
    } finally {
      for (const c of [a, b]) {
        try {
          c.proc.kill("SIGKILL");
        } catch { /* already gone */ }
        await c.exited;
      }
      await f.cleanup();
    }
  },
);

redisTest(
  "live on Redis: kill -9 the producer — the other process takes over within a lease period, no bar lost or doubled; a restart resumes",
  async (url) => {
    const f = await fixture(url);
    const a = spawn("a", f.keyPrefix, f.topicPrefix, "proc-a");
    await until("a ready", () => a.lines.some((l) => l.ready));
    const b = spawn("b", f.keyPrefix, f.topicPrefix, "proc-b");
    let c: Child | undefined;
    try {
      await until("b ready", () => b.lines.some((l) => l.ready));
      const role = (ch: Child, node: string) =>
        ((ch.lines.find((l) => l.ready) as { roles: [string, string][] }).roles
          .find((r) => r[0] === node) ?? [])[1];
      assert.equal(
        role(a, "sma3"),
        "producer",
        "a started first: it produces the shared node",
      );
      assert.equal(role(b, "sma3"), "standby");
      await f.publish(10, 10);
      await until(
        "a's sma3",
        async () => (await f.store.lastBarTs(f.topic("sma3"))) === 9 * 60,
      );
      a.proc.kill("SIGKILL");
      const killedAt = Date.now();
      await a.exited;
      await f.publish(20, 20);
      await until(
        "takeover",
        () =>
          b.lines.some((l) =>
            l.event === "lease_acquired" && l.node === "sma3"
          ),
      );
      const t = b.lines.find((l) =>
        l.event === "lease_acquired" && l.node === "sma3"
      ) as { at: number; takeover: boolean };
      assert.equal(t.takeover, true);
      const within = t.at - killedAt;
      assert.ok(
        within <= LEASE_MS + LEASE_MS / 5 + 500,
        `taken over ${within} ms after the kill`,
      );
      const last = (f.next - 1) * 60;
      await until(
        "sma3 caught up",
        async () => (await f.store.lastBarTs(f.topic("sma3"))) === last,
      );
      assert.deepEqual(
        await barTimes(f.io, f.topic("sma3")),
        expected(2, f.next - 1),
      );
      // signal_a had no other producer: a restarted "a" resumes it from its last bar.
      const before = await f.store.lastBarTs(f.topic("signal_a"));
      assert.ok(before !== null && before < last);
      c = spawn("a", f.keyPrefix, f.topicPrefix, "proc-a2");
      await until(
        "signal_a resumed",
        async () => (await f.store.lastBarTs(f.topic("signal_a"))) === last,
        30_000,
      );
      assert.deepEqual(
        await barTimes(f.io, f.topic("signal_a")),
        expected(2, f.next - 1),
      );
      const sc = await stop(c);
      assert.equal(
        evals(sc, "signal_a"),
        (last - before) / 60,
        "only the missing bars were computed",
      );
      await stop(b);
    } finally {
      for (const ch of [a, b, c]) {
        if (!ch) continue;
        try {
          ch.proc.kill("SIGKILL");
        } catch { /* already gone */ }
        await ch.exited;
      }
      await f.cleanup();
    }
  },
);
