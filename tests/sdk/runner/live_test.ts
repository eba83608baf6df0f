import assert from "node:assert/strict";
import { MemoryTopicStore } from "../../../lib/queue/mod.ts";
import {
  type LiveEvent,
  type LiveNodeStats,
  type LiveRun,
  storeTopicIO,
  type TopicIO,
} from "../../../sdk/mod.ts";
import { live } from "../../../sdk/runner/live.ts";
import {
  barTimes,
  expected,
  overlapping,
  price,
  queueMapOf,
} from "./fixtures/strategies.ts";

const PREFIX = "t";
const topic = (name: string) => `${PREFIX}_${name}`;

async function setup() {
  const store = new MemoryTopicStore();
  const queueMap = queueMapOf(PREFIX);
  for (const t of new Set(Object.values(queueMap))) await store.create(t);
  return { store, queueMap, io: storeTopicIO(store) };
}

async function until(what: string, ok: () => Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function byName(
  stats: Record<string, LiveNodeStats>,
): Record<string, LiveNodeStats> {
  return Object.fromEntries(Object.values(stats).map((s) => [s.name, s]));
}

/** Bar times of node `name`'s topic; asserts none is stored twice. */
const barTimesOf = (io: TopicIO, name: string) => barTimes(io, topic(name));

Deno.test("live: two runs with overlapping strategies compute every shared node once per bar", async () => {
  const { store, queueMap, io } = await setup();
  const opts = { io, queueMap, leaseMs: 2_000, renewMs: 100, waitMs: 200 };
  const a = await live(overlapping("a"), { ...opts, holder: "run-a" });
  const b = await live(overlapping("b"), { ...opts, holder: "run-b" });
  const bars = 20;
  for (let i = 0; i < bars; i++) {
    await io.publish(topic("px"), [{ barTs: i * 60, value: price(i) }], "");
    if (i % 5 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  const last = (bars - 1) * 60;
  await until(
    "both signals",
    async () =>
      (await store.lastBarTs(topic("signal_a"))) === last &&
      (await store.lastBarTs(topic("signal_b"))) === last,
  );
  const sa = byName(await a.stop());
  const sb = byName(await b.stop());
  // sma3 is in both strategies: exactly one of them computed each bar.
  assert.equal(sa.sma3.evaluations + sb.sma3.evaluations, bars - 2);
  assert.ok(
    (sa.sma3.evaluations === 0) !== (sb.sma3.evaluations === 0),
    "one producer for sma3",
  );
  assert.equal(sa.signal_a.evaluations, bars - 2);
  assert.equal(sb.signal_b.evaluations, bars - 2);
  assert.deepEqual(await barTimesOf(io, "sma3"), expected(2, bars - 1));
  assert.deepEqual(await barTimesOf(io, "signal_a"), expected(2, bars - 1));
  const [sma] = await io.tail([topic("sma3")], 1);
  const m = (price(bars - 3) + price(bars - 2) + price(bars - 1)) / 3;
  assert.equal(sma.bars[0].value, m);
  await store.close();
});

/** A TopicIO that can be cut off, as when its process dies. */
function killable(io: TopicIO): { io: TopicIO; kill(): void } {
  let dead = false;
  const never = () => new Promise<never>(() => {});
  const guard =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> => dead ? never() : f(...a);
  return {
    io: {
      publish: guard(io.publish),
      read: guard(io.read),
      tail: guard(io.tail),
      acquire: guard(io.acquire),
      release: guard(io.release),
    },
    kill: () => dead = true,
  };
}

Deno.test("live: a dead producer is replaced within one lease period, no bar lost or doubled", async () => {
  const { store, queueMap, io } = await setup();
  const leaseMs = 600;
  const renewMs = 100;
  const dying = killable(io);
  const events: (LiveEvent & { at: number })[] = [];
  const a = await live(overlapping("a"), {
    io: dying.io,
    queueMap,
    holder: "run-a",
    leaseMs,
    renewMs,
    waitMs: 100,
  });
  const b = await live(overlapping("b"), {
    io,
    queueMap,
    holder: "run-b",
    leaseMs,
    renewMs,
    waitMs: 100,
    onEvent: (e) => events.push({ ...e, at: Date.now() }),
  });
  assert.equal(byName(a.stats()).sma3.role, "producer");
  assert.equal(byName(b.stats()).sma3.role, "standby");
  let i = 0;
  const publish = async (n: number) => {
    for (const end = i + n; i < end; i++) {
      await io.publish(topic("px"), [{ barTs: i * 60, value: price(i) }], "");
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await publish(10);
  await until(
    "a's sma3",
    async () => (await store.lastBarTs(topic("sma3"))) === 9 * 60,
  );
  const killedAt = Date.now();
  dying.kill();
  await publish(30); // inputs keep coming while nobody produces sma3 for a while
  await until(
    "takeover",
    () =>
      Promise.resolve(
        events.some((e) => e.type === "lease_acquired" && e.node === "sma3"),
      ),
  );
  const takeover = events.find((e) =>
    e.type === "lease_acquired" && e.node === "sma3"
  )!;
  assert.equal(takeover.takeover, true);
  assert.equal(takeover.holder, "run-a");
  assert.ok(
    takeover.at - killedAt <= leaseMs + renewMs + 200,
    `taken over after ${takeover.at - killedAt} ms`,
  );
  await until(
    "b's sma3",
    async () => (await store.lastBarTs(topic("sma3"))) === (i - 1) * 60,
  );
  assert.deepEqual(await barTimesOf(io, "sma3"), expected(2, i - 1));
  assert.equal(byName(b.stats()).sma3.takeovers, 1);
  await b.stop();
  void a; // its I/O hangs forever, as a dead process's would
  await store.close();
});

Deno.test("live: a restarted run resumes after the last published bar", async () => {
  const { store, queueMap, io } = await setup();
  const opts = { io, queueMap, leaseMs: 1_000, renewMs: 100, waitMs: 100 };
  const pub = async (from: number, to: number) => {
    for (let k = from; k < to; k++) {
      await io.publish(topic("px"), [{ barTs: k * 60, value: price(k) }], "");
    }
  };
  let run: LiveRun = await live(overlapping("a"), { ...opts, holder: "first" });
  await pub(0, 10);
  await until(
    "first run",
    async () => (await store.lastBarTs(topic("signal_a"))) === 9 * 60,
  );
  await run.stop();
  await pub(10, 15); // nobody runs
  run = await live(overlapping("a"), { ...opts, holder: "second" });
  await until(
    "catch-up",
    async () => (await store.lastBarTs(topic("signal_a"))) === 14 * 60,
  );
  await pub(15, 17);
  await until(
    "live again",
    async () => (await store.lastBarTs(topic("signal_a"))) === 16 * 60,
  );
  const s = byName(await run.stop());
  assert.equal(s.sma3.evaluations, 7, "bars 10..16 only: nothing recomputed");
  assert.equal(s.sma3.takeovers, 0, "the first run released its leases");
  assert.deepEqual(await barTimesOf(io, "sma3"), expected(2, 16));
  assert.deepEqual(await barTimesOf(io, "signal_a"), expected(2, 16));
  await store.close();
});

Deno.test("live: the signal stops the run and releases the leases", async () => {
  const { store, queueMap, io } = await setup();
  const ac = new AbortController();
  const run = await live(overlapping("a"), {
    io,
    queueMap,
    holder: "x",
    signal: ac.signal,
    renewMs: 50,
  });
  ac.abort();
  const stats = await run.done;
  assert.ok(Object.values(stats).every((s) => s.role !== "producer"));
  const g = await store.acquireLease(topic("sma3"), "y", 1_000);
  assert.ok(g.granted && !g.takeover);
  await store.close();
});
