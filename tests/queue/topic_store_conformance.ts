// One conformance suite for every TopicStore backend.
import { QueueError, TopicNotFoundError } from "../../lib/queue/errors.ts";
import type { TopicDefaults } from "../../lib/queue/memory_topic_store.ts";
import type { TopicStore } from "../../lib/queue/types.ts";
import assert from "node:assert/strict";
import { onFreshFixture, type Register } from "./queue_conformance.ts";

/** A fresh topic store for one test. */
export interface TopicStoreFixture {
  store: TopicStore;
  /** Closes the store and deletes its data. */
  cleanup(): Promise<void>;
}

const T = "btc_Processing_ab12cd34_v1";

/** Registers the topic store suite. */
export function topicStoreConformance(
  register: Register,
  make: (defaults: TopicDefaults) => Promise<TopicStoreFixture>,
): void {
  const onFixture = onFreshFixture(register, make);
  const withStore = (
    name: string,
    defaults: TopicDefaults,
    fn: (s: TopicStore) => Promise<void>,
  ) => onFixture(name, defaults, (f) => fn(f.store));

  withStore(
    "create is idempotent and keeps the first metadata",
    {},
    async (s) => {
      assert.ok(!(await s.exists(T)));
      assert.deepEqual(await s.info(T), null);
      const a = await s.create(T, { retentionMs: 60_000, maxLen: 10 });
      assert.ok(a.created);
      assert.deepEqual([a.info.name, a.info.retentionMs, a.info.maxLen], [
        T,
        60_000,
        10,
      ]);
      const b = await s.create(T, { retentionMs: 1, maxLen: 1 });
      assert.ok(!b.created);
      assert.deepEqual(b.info, a.info);
      assert.ok(await s.exists(T));
      assert.deepEqual(await s.info(T), a.info);
      const c = await s.create("eth_Processing_ab12cd34_v1");
      assert.deepEqual([c.info.retentionMs, c.info.maxLen], [
        7 * 86_400_000,
        100_000,
      ]);
      assert.deepEqual(await s.list(), [
        "btc_Processing_ab12cd34_v1",
        "eth_Processing_ab12cd34_v1",
      ]);
    },
  );

  const bar = (barTs: number, ...bytes: number[]) => ({
    barTs,
    data: new Uint8Array(bytes.length ? bytes : [barTs & 255]),
  });
  const times = (bars: { barTs: number }[]) => bars.map((b) => b.barTs);

  withStore(
    "append keeps bar times strictly increasing: bars at or before the last are dropped and counted",
    {},
    async (s) => {
      await s.create(T);
      assert.deepEqual(await s.lastBarTs(T), null);
      let r = await s.append(T, [bar(60, 1, 2), bar(120), bar(180)]);
      assert.deepEqual(r, { accepted: 3, dropped: 0, lastBarTs: 180 });
      r = await s.append(T, [bar(120), bar(180), bar(240)]);
      assert.deepEqual(r, { accepted: 1, dropped: 2, lastBarTs: 240 });
      r = await s.append(T, [bar(0)]);
      assert.deepEqual(r, { accepted: 0, dropped: 1, lastBarTs: 240 });
      const all = await s.read(T);
      assert.deepEqual(times(all), [60, 120, 180, 240]);
      assert.deepEqual(all[0].data, new Uint8Array([1, 2]));
      assert.deepEqual(await s.lastBarTs(T), 240);
      // fractional seconds keep millisecond precision
      await s.append(T, [bar(240.5)]);
      assert.deepEqual(await s.lastBarTs(T), 240.5);
    },
  );

  withStore("read: after a bar, limit, and the newest n", {}, async (s) => {
    await s.create(T);
    await s.append(T, Array.from({ length: 10 }, (_, i) => bar(i * 60)));
    assert.deepEqual(times(await s.read(T, { afterBarTs: 420 })), [480, 540]);
    assert.deepEqual(times(await s.read(T, { afterBarTs: 400 })), [
      420,
      480,
      540,
    ]);
    assert.deepEqual(times(await s.read(T, { limit: 2 })), [0, 60]);
    assert.deepEqual(times(await s.read(T, { tail: 3 })), [420, 480, 540]);
    assert.deepEqual(
      times(await s.read(T, { tail: 3, afterBarTs: 480 })),
      [540],
    );
    assert.deepEqual(await s.read(T, { afterBarTs: 540 }), []);
  });

  withStore(
    "bad bars are refused whole: nothing is appended",
    {},
    async (s) => {
      await s.create(T);
      for (
        const bad of [
          [bar(60), bar(60)],
          [bar(120), bar(60)],
          [bar(-60)],
          [bar(0.0001)],
          [{ barTs: Number.NaN, data: new Uint8Array() }],
          [{ barTs: 60, data: "x" }],
        ]
      ) {
        await assert.rejects(
          () => s.append(T, bad as never),
          QueueError,
        );
      }
      assert.deepEqual(await s.read(T), []);
    },
  );

  withStore("maxLen bounds a topic", {}, async (s) => {
    await s.create(T, { maxLen: 20 });
    for (let i = 0; i < 30; i++) {
      await s.append(T, Array.from({ length: 10 }, (_, k) => bar(i * 10 + k)));
    }
    const all = await s.read(T, { limit: 1_000 });
    assert.ok(all.length >= 20 && all.length <= 120, `length ${all.length}`);
    assert.deepEqual(all[all.length - 1].barTs, 299);
  });

  withStore(
    "retention drops bars older than the newest bar minus retention",
    {},
    async (s) => {
      await s.create(T, { retentionMs: 120_000 });
      await s.append(T, [bar(0), bar(60), bar(120)]);
      assert.deepEqual(times(await s.read(T)), [0, 60, 120]);
      await s.append(T, [bar(240)]);
      assert.deepEqual(times(await s.read(T)), [120, 240]);
    },
  );

  withStore(
    "append/read on a missing topic throw; delete removes bars and lease",
    {},
    async (s) => {
      await assert.rejects(
        () => s.append(T, [bar(1)]),
        TopicNotFoundError,
      );
      await assert.rejects(
        () => s.read(T),
        TopicNotFoundError,
      );
      await assert.rejects(
        () => s.lastBarTs(T),
        TopicNotFoundError,
      );
      await assert.rejects(
        () => s.acquireLease(T, "a", 1_000),
        TopicNotFoundError,
      );
      await assert.rejects(
        () => s.readMany([{ topic: T }]),
        TopicNotFoundError,
      );
      await s.create(T);
      await s.append(T, [bar(1)]);
      const g = await s.acquireLease(T, "a", 60_000);
      assert.ok(await s.delete(T));
      assert.ok(!(await s.delete(T)));
      assert.ok(!(await s.exists(T)));
      assert.deepEqual(await s.list(), []);
      await assert.rejects(
        () => s.append(T, [bar(2)]),
        TopicNotFoundError,
      );
      const again = await s.create(T);
      assert.ok(again.created);
      assert.deepEqual(await s.read(T), []);
      const g2 = await s.acquireLease(T, "b", 60_000);
      assert.ok(
        g2.granted && !g2.takeover,
        "the old lease went with the topic",
      );
      assert.ok(!(await s.releaseLease(T, g.token)));
    },
  );

  withStore(
    "readMany: new bars per topic, waits for one, wakes on append",
    {},
    async (s) => {
      const U = "eth_Processing_ab12cd34_v1";
      await s.create(T);
      await s.create(U);
      await s.append(T, [bar(60), bar(120)]);
      let got = await s.readMany([{ topic: T, afterBarTs: 60 }, { topic: U }]);
      assert.deepEqual(got.map((t) => [t.topic, times(t.bars)]), [[T, [120]]]);
      const t0 = Date.now();
      got = await s.readMany([{ topic: T, afterBarTs: 120 }], { waitMs: 150 });
      assert.deepEqual(got, []);
      assert.ok(Date.now() - t0 >= 140, "waited");
      const pending = s.readMany(
        [{ topic: T, afterBarTs: 120 }, { topic: U }],
        { waitMs: 5_000 },
      );
      await new Promise((r) => setTimeout(r, 50));
      const t1 = Date.now();
      await s.append(U, [bar(180)]);
      got = await pending;
      assert.ok(Date.now() - t1 < 1_000, `woke in ${Date.now() - t1} ms`);
      assert.deepEqual(got.map((t) => [t.topic, times(t.bars)]), [[U, [180]]]);
      const ac = new AbortController();
      const aborted = s.readMany([{ topic: T, afterBarTs: 120 }], {
        waitMs: 10_000,
        signal: ac.signal,
      });
      setTimeout(() => ac.abort(), 30);
      assert.deepEqual(await aborted, []);
    },
  );

  withStore(
    "leases: one holder, renewal, refusal names the holder",
    {},
    async (s) => {
      await s.create(T);
      const a = await s.acquireLease(T, "runner-a", 60_000);
      assert.ok(a.granted && a.token !== "" && !a.takeover);
      assert.deepEqual(a.holder, "runner-a");
      const b = await s.acquireLease(T, "runner-b", 60_000);
      assert.ok(!b.granted);
      assert.deepEqual([b.holder, b.token], ["runner-a", ""]);
      assert.ok(b.ttlMs > 0 && b.ttlMs <= 60_000);
      const renewed = await s.acquireLease(T, "runner-a", 30_000, a.token);
      assert.ok(renewed.granted);
      assert.deepEqual(renewed.token, a.token);
      const wrong = await s.acquireLease(
        T,
        "runner-a",
        30_000,
        "not-the-token",
      );
      assert.ok(!wrong.granted, "a wrong token does not renew");
      assert.ok(!(await s.releaseLease(T, "not-the-token")));
      assert.ok(await s.releaseLease(T, a.token));
      const c = await s.acquireLease(T, "runner-b", 60_000);
      assert.ok(c.granted && !c.takeover, "after a release it is no takeover");
    },
  );

  withStore(
    "leases: an expired grant is taken over; the old holder is fenced",
    {},
    async (s) => {
      await s.create(T);
      const a = await s.acquireLease(T, "runner-a", 150);
      await s.append(T, [bar(60)], { fence: { token: a.token } });
      await new Promise((r) => setTimeout(r, 250));
      const b = await s.acquireLease(T, "runner-b", 60_000);
      assert.ok(b.granted && b.takeover);
      assert.deepEqual(b.previousHolder, "runner-a");
      await assert.rejects(
        () => s.append(T, [bar(120)], { fence: { token: a.token } }),
        { name: "TopicLeaseError", holder: "runner-b" },
      );
      assert.deepEqual(
        times(await s.read(T)),
        [60],
        "nothing appended when fenced",
      );
      const r = await s.append(T, [bar(60), bar(120)], {
        fence: { token: b.token },
      });
      assert.deepEqual([r.accepted, r.dropped], [1, 1]);
      // Appends without a fence (stream inputs fed by adapters) are not leased.
      await s.append(T, [bar(180)]);
      assert.deepEqual(await s.lastBarTs(T), 180);
    },
  );
}
