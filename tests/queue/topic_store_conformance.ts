// One conformance suite for every TopicStore backend.
import { TopicNotFoundError } from "../../lib/queue/errors.ts";
import type { TopicDefaults } from "../../lib/queue/memory_topic_store.ts";
import type { TopicStore } from "../../lib/queue/types.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import type { Register } from "./queue_conformance.ts";

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
  const withStore = (
    name: string,
    defaults: TopicDefaults,
    fn: (s: TopicStore) => Promise<void>,
  ) =>
    register(name, async () => {
      const f = await make(defaults);
      try {
        await fn(f.store);
      } finally {
        await f.cleanup();
      }
    });

  withStore(
    "create is idempotent and keeps the first metadata",
    {},
    async (s) => {
      assert(!(await s.exists(T)));
      assertEquals(await s.info(T), null);
      const a = await s.create(T, { retentionMs: 60_000, maxLen: 10 });
      assert(a.created);
      assertEquals([a.info.name, a.info.retentionMs, a.info.maxLen], [
        T,
        60_000,
        10,
      ]);
      const b = await s.create(T, { retentionMs: 1, maxLen: 1 });
      assert(!b.created);
      assertEquals(b.info, a.info);
      assert(await s.exists(T));
      assertEquals(await s.info(T), a.info);
      const c = await s.create("eth_Processing_ab12cd34_v1");
      assertEquals([c.info.retentionMs, c.info.maxLen], [
        7 * 86_400_000,
        100_000,
      ]);
      assertEquals(await s.list(), [
        "btc_Processing_ab12cd34_v1",
        "eth_Processing_ab12cd34_v1",
      ]);
    },
  );

  withStore("publish and read in order, after an id", {}, async (s) => {
    await s.create(T);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await s.publish(T, new Uint8Array([i, 255 - i])));
    }
    const all = await s.read(T);
    assertEquals(all.map((r) => r.id), ids);
    assertEquals(all[2].data, new Uint8Array([2, 253]));
    assertEquals((await s.read(T, { after: ids[2] })).map((r) => r.data[0]), [
      3,
      4,
    ]);
    assertEquals((await s.read(T, { count: 2 })).length, 2);
    assertEquals(await s.read(T, { after: ids[4] }), []);
  });

  withStore("maxLen bounds a topic", {}, async (s) => {
    await s.create(T, { maxLen: 20 });
    for (let i = 0; i < 300; i++) await s.publish(T, new Uint8Array([i & 255]));
    const all = await s.read(T, { count: 1_000 });
    assert(all.length >= 20 && all.length <= 120, `length ${all.length}`);
    assertEquals(all[all.length - 1].data, new Uint8Array([299 & 255]));
  });

  withStore("retentionMs drops old records on publish", {}, async (s) => {
    await s.create(T, { retentionMs: 100 });
    await s.publish(T, new Uint8Array([1]));
    await new Promise((r) => setTimeout(r, 150));
    await s.publish(T, new Uint8Array([2]));
    assertEquals((await s.read(T)).map((r) => r.data[0]), [2]);
  });

  withStore(
    "publish/read on a missing topic throw; delete removes",
    {},
    async (s) => {
      await assertRejects(
        () => s.publish(T, new Uint8Array([1])),
        TopicNotFoundError,
      );
      await assertRejects(() => s.read(T), TopicNotFoundError);
      await s.create(T);
      await s.publish(T, new Uint8Array([1]));
      assert(await s.delete(T));
      assert(!(await s.delete(T)));
      assert(!(await s.exists(T)));
      assertEquals(await s.list(), []);
      await assertRejects(
        () => s.publish(T, new Uint8Array([1])),
        TopicNotFoundError,
      );
      const again = await s.create(T);
      assert(again.created);
      assertEquals(await s.read(T), []);
    },
  );

  withStore("a blocked read wakes up on publish", {}, async (s) => {
    await s.create(T);
    const p = s.read(T, { blockMs: 3_000 });
    await new Promise((r) => setTimeout(r, 50));
    await s.publish(T, new Uint8Array([7]));
    assertEquals((await p).map((r) => r.data[0]), [7]);
  });
}
