// One conformance suite for every EventLog backend.
import { create } from "@bufbuild/protobuf";
import { type Event, EventSchema } from "../../lib/contracts/messages.ts";
import {
  APPEND_DEDUP_WINDOW,
  type EventLog,
  LINKED_DEDUP_WINDOW,
} from "../../lib/queue/types.ts";
import assert from "node:assert/strict";
import { onFreshFixture, type Register } from "./queue_conformance.ts";

/** A fresh event log for one test. */
export interface EventLogFixture {
  log: EventLog;
  /** Closes the log and deletes its data. */
  cleanup(): Promise<void>;
}

/** Builds an event with distinct fields. */
export function sampleEvent(n: number, data?: Uint8Array): Event {
  return create(EventSchema, {
    id: `ev-${n}`,
    source: "/qmtl/gateway",
    specVersion: "1.0",
    type: "qmtl.strategy.queued",
    subject: "st_1",
    time: new Date(1_700_000_000_000 + n).toISOString(),
    dataContentType: "application/json",
    data: data ?? new TextEncoder().encode(`{"n":${n}}`),
  });
}

/** Registers the event log suite. */
export function eventLogConformance(
  register: Register,
  make: (opts: { maxLen: number }) => Promise<EventLogFixture>,
): void {
  const onFixture = onFreshFixture(register, make);
  const withLog = (
    name: string,
    maxLen: number,
    fn: (log: EventLog) => Promise<void>,
  ) => onFixture(name, { maxLen }, (f) => fn(f.log));

  withLog("append then read returns every field", 1_000, async (log) => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const id = await log.append("st_1", sampleEvent(1, bytes));
    assert.ok(/^\d+-\d+$/.test(id), id);
    const got = await log.read("st_1");
    assert.deepEqual(got, [{ id, event: sampleEvent(1, bytes) }]);
    assert.deepEqual(await log.read("nope"), []);
    assert.deepEqual(await log.length("st_1"), 1);
    assert.deepEqual(await log.length("nope"), 0);
  });

  withLog(
    "read after an id resumes exclusively (Last-Event-ID)",
    1_000,
    async (log) => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        ids.push(
          await log.append("st_1", sampleEvent(i)),
        );
      }
      const key = (id: string) => id.split("-").map(Number);
      for (let i = 1; i < ids.length; i++) {
        const [a, b] = [key(ids[i - 1]), key(ids[i])];
        assert.ok(
          b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]),
          `${ids[i]} after ${ids[i - 1]}`,
        );
      }
      const first = await log.read("st_1", { count: 4 });
      assert.deepEqual(first.map((e) => e.event.id), [
        "ev-0",
        "ev-1",
        "ev-2",
        "ev-3",
      ]);
      const rest = await log.read("st_1", { after: first[3].id });
      assert.deepEqual(rest.map((e) => e.event.id), [
        "ev-4",
        "ev-5",
        "ev-6",
        "ev-7",
        "ev-8",
        "ev-9",
      ]);
      assert.deepEqual(await log.read("st_1", { after: ids[9] }), []);
      // Streams are independent.
      await log.append("st_2", sampleEvent(99));
      assert.deepEqual((await log.read("st_2")).map((e) => e.event.id), [
        "ev-99",
      ]);
      await assert.rejects(
        () => log.read("st_1", { after: "not-an-id" }),
      );
    },
  );

  withLog(
    "a blocked read wakes up on append, and is bounded",
    1_000,
    async (log) => {
      const t0 = Date.now();
      assert.deepEqual(await log.read("st_1", { blockMs: 100 }), []);
      assert.ok(Date.now() - t0 >= 90);
      const last = await log.append("st_1", sampleEvent(0));
      const p = log.read("st_1", { after: last, blockMs: 3_000 });
      await new Promise((r) => setTimeout(r, 50));
      const t1 = Date.now();
      await log.append("st_1", sampleEvent(1));
      const got = await p;
      assert.deepEqual(got.map((e) => e.event.id), ["ev-1"]);
      assert.ok(Date.now() - t1 < 1_000);
    },
  );

  withLog(
    "append is idempotent per event id within the last APPEND_DEDUP_WINDOW entries",
    1_000,
    async (log) => {
      const first = await log.append("st_dup", sampleEvent(1));
      await log.append("st_dup", sampleEvent(2));
      // A retried append of event 1 (its first attempt landed): no new entry.
      assert.equal(await log.append("st_dup", sampleEvent(1)), first);
      assert.equal(await log.length("st_dup"), 2);
      // Other streams are separate.
      await log.append("st_other", sampleEvent(1));
      assert.equal(await log.length("st_other"), 1);
      // Beyond the window the id is not searched: a new entry.
      for (let n = 3; n < 3 + APPEND_DEDUP_WINDOW; n++) {
        await log.append("st_dup", sampleEvent(n));
      }
      assert.notEqual(await log.append("st_dup", sampleEvent(1)), first);
      assert.equal(await log.length("st_dup"), 3 + APPEND_DEDUP_WINDOW);
      const ids = (await log.read("st_dup", { count: 100 })).map((e) =>
        e.event.id
      );
      assert.deepEqual(ids.slice(0, 2), ["ev-1", "ev-2"]);
    },
  );

  withLog(
    "appendLinked appends to both streams or, on a retry, to neither",
    1_000,
    async (log) => {
      const r = await log.appendLinked("st_a", "all", sampleEvent(1));
      assert.equal(r.appended, true);
      assert.deepEqual(await log.read("st_a"), [{
        id: r.id,
        event: sampleEvent(1),
      }]);
      assert.deepEqual(await log.read("all"), [{
        id: r.alsoId,
        event: sampleEvent(1),
      }]);
      await log.appendLinked("st_b", "all", sampleEvent(2));
      // A retry of event 1 (its first attempt landed): nothing new anywhere,
      // though "all" has another event after it.
      assert.deepEqual(
        await log.appendLinked("st_a", "all", sampleEvent(1)),
        { appended: false, id: r.id, alsoId: "" },
      );
      assert.equal(await log.length("st_a"), 1);
      assert.deepEqual(
        (await log.read("all")).map((e) => e.event.id),
        ["ev-1", "ev-2"],
      );
      // The dedup is by the first stream: event 1 is new to st_b.
      assert.equal(
        (await log.appendLinked("st_b", "all", sampleEvent(1))).appended,
        true,
      );
      assert.equal(await log.length("all"), 3);
    },
  );

  withLog(
    "appendLinked searches the first stream's last LINKED_DEDUP_WINDOW entries",
    10_000,
    async (log) => {
      const first = await log.appendLinked("st_w", "all", sampleEvent(0));
      // more than the single-stream window of later events
      for (let n = 1; n <= APPEND_DEDUP_WINDOW + 4; n++) {
        await log.append("st_w", sampleEvent(n));
      }
      const retry = await log.appendLinked("st_w", "all", sampleEvent(0));
      assert.deepEqual(retry, { appended: false, id: first.id, alsoId: "" });
      for (let n = APPEND_DEDUP_WINDOW + 5; n <= LINKED_DEDUP_WINDOW; n++) {
        await log.append("st_w", sampleEvent(n));
      }
      // now beyond the window: appended again
      const late = await log.appendLinked("st_w", "all", sampleEvent(0));
      assert.equal(late.appended, true);
      assert.equal(await log.length("all"), 2);
    },
  );

  withLog(
    "appendLinked refuses a stream linked to itself or a bad name and appends nothing",
    1_000,
    async (log) => {
      await assert.rejects(
        log.appendLinked("st_s", "st_s", sampleEvent(1)),
        (e: Error & { code?: string }) =>
          e.code === "E_INVALID" && /also/.test(e.message),
      );
      await assert.rejects(
        log.appendLinked("st_s", "", sampleEvent(1)),
        (e: Error & { code?: string }) => e.code === "E_INVALID",
      );
      await assert.rejects(
        log.appendLinked("", "all", sampleEvent(1)),
        (e: Error & { code?: string }) => e.code === "E_INVALID",
      );
      assert.equal(await log.length("st_s"), 0);
      assert.equal(await log.length("all"), 0);
    },
  );

  withLog("retention is bounded by maxLen", 50, async (log) => {
    let last = "";
    for (let i = 0; i < 400; i++) {
      last = await log.append("st_1", sampleEvent(i));
    }
    const len = await log.length("st_1");
    assert.ok(
      len >= 50 && len <= 150,
      `length ${len} not within the MAXLEN ~ 50 bound`,
    );
    const all = await log.read("st_1", { count: 1_000 });
    assert.deepEqual(all.length, len);
    assert.deepEqual(all[all.length - 1].id, last);
    assert.deepEqual(all[all.length - 1].event.id, "ev-399");
  });

  withLog(
    "consumer group delivers each entry once across consumers",
    1_000,
    async (log) => {
      await log.ensureGroup("st_1", "webhooks");
      await log.ensureGroup("st_1", "webhooks"); // idempotent
      for (let i = 0; i < 6; i++) await log.append("st_1", sampleEvent(i));
      const a = await log.readGroup("st_1", "webhooks", "c1", { count: 4 });
      const b = await log.readGroup("st_1", "webhooks", "c2", { count: 4 });
      assert.deepEqual(a.map((e) => e.event.id), [
        "ev-0",
        "ev-1",
        "ev-2",
        "ev-3",
      ]);
      assert.deepEqual(b.map((e) => e.event.id), ["ev-4", "ev-5"]);
      assert.deepEqual(await log.readGroup("st_1", "webhooks", "c1"), []);
      assert.deepEqual(
        await log.ackGroup("st_1", "webhooks", a.map((e) => e.id)),
        4,
      );
      assert.deepEqual(
        await log.ackGroup("st_1", "webhooks", a.map((e) => e.id)),
        0,
      );
      // c2 "crashes" without acking: after the idle time c3 claims its entries.
      await new Promise((r) => setTimeout(r, 120));
      const claimed = await log.readGroup("st_1", "webhooks", "c3", {
        claimIdleMs: 100,
      });
      assert.deepEqual(claimed.map((e) => e.event.id), ["ev-4", "ev-5"]);
      assert.deepEqual(
        await log.ackGroup("st_1", "webhooks", claimed.map((e) => e.id)),
        2,
      );
      // A second group sees history; a "$" group only new entries.
      await log.ensureGroup("st_1", "audit");
      assert.deepEqual(
        (await log.readGroup("st_1", "audit", "x", { count: 100 })).length,
        6,
      );
      await log.ensureGroup("st_1", "live", { startId: "$" });
      assert.deepEqual(await log.readGroup("st_1", "live", "x"), []);
      await log.append("st_1", sampleEvent(6));
      assert.deepEqual(
        (await log.readGroup("st_1", "live", "x")).map((e) => e.event.id),
        ["ev-6"],
      );
      await assert.rejects(
        () => log.readGroup("st_1", "missing", "x"),
      );
    },
  );

  withLog(
    "a group read refuses bad options with E_INVALID naming the option, and delivers nothing",
    1_000,
    async (log) => {
      await log.ensureGroup("st_1", "g", { startId: "0" });
      await log.append("st_1", sampleEvent(1));
      for (
        const [opts, name] of [
          [{ claimIdleMs: -1 }, "claimIdleMs"],
          [{ claimIdleMs: 1.5 }, "claimIdleMs"],
          [{ count: 0 }, "count"],
        ] as const
      ) {
        await assert.rejects(
          () => log.readGroup("st_1", "g", "c", opts),
          (e: unknown) => {
            assert.equal((e as { code?: string }).code, "E_INVALID");
            assert.match((e as Error).message, new RegExp(name));
            return true;
          },
          JSON.stringify(opts),
        );
      }
      // Nothing was delivered by the refused reads.
      assert.deepEqual(
        (await log.readGroup("st_1", "g", "c")).map((e) => e.event.id),
        ["ev-1"],
      );
    },
  );

  withLog("a blocked group read wakes up on append", 1_000, async (log) => {
    await log.ensureGroup("st_1", "g", { startId: "$" });
    const p = log.readGroup("st_1", "g", "c", { blockMs: 3_000 });
    await new Promise((r) => setTimeout(r, 50));
    await log.append("st_1", sampleEvent(1));
    assert.deepEqual((await p).map((e) => e.event.id), ["ev-1"]);
  });
}
