// A worker process leases a job and is SIGKILLed mid-job: the job comes back
// after its lease expires and another worker completes it exactly once.
import { RedisQueue } from "../../lib/queue/redis_queue.ts";
import assert from "node:assert/strict";
import { redisTest, testPrefix } from "./redis_env.ts";
import { readBefore } from "../support/poll.ts";

const FIXTURE =
  new URL("./fixtures/lease_and_hang.ts", import.meta.url).pathname;

redisTest(
  "RedisQueue: a job leased by a killed worker process is re-leased and completed once",
  async (url) => {
    const keyPrefix = testPrefix("crash");
    const q = new RedisQueue({ url, keyPrefix });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", FIXTURE, url, keyPrefix, "1500"],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let killed = false;
    try {
      const { job } = await q.enqueue(
        "diff",
        new TextEncoder().encode("work"),
        { idempotencyKey: "crash-1" },
      );
      // Wait (bounded) for the child to report its lease.
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let out = "";
      const until = Date.now() + 20_000;
      while (!out.includes("\n") && Date.now() < until) {
        const r = await readBefore(reader, until);
        if (r.done) break;
        out += r.value;
      }
      assert.ok(out.startsWith(`LEASED ${job.id} 1`), `child said: ${out}`);
      const t0 = Date.now();
      child.kill("SIGKILL");
      killed = true;
      const status = await child.status;
      assert.deepEqual(status.signal, "SIGKILL");
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      assert.deepEqual((await q.get(job.id))?.state, "leased");
      // Another worker: nothing until the dead worker's lease expires.
      let processed = 0;
      let attempts = 0;
      while (Date.now() - t0 < 10_000 && processed === 0) {
        for (const j of await q.lease(5, { leaseMs: 5_000, blockMs: 300 })) {
          processed++;
          attempts = j.attempts;
          await q.ack(j.id, j.leaseToken);
        }
      }
      const waited = Date.now() - t0;
      assert.deepEqual(processed, 1);
      assert.deepEqual(attempts, 2);
      assert.ok(
        waited >= 1_000,
        `re-leased after ${waited} ms, before the lease expired`,
      );
      const done = await q.get(job.id);
      assert.deepEqual([done?.state, done?.lastError], [
        "done",
        "lease expired",
      ]);
      assert.deepEqual(await q.lease(5, { leaseMs: 1_000 }), []);
      const s = await q.stats();
      assert.deepEqual([s.done, s.ready, s.leased, s.dead], [1, 0, 0, 0]);
    } finally {
      if (!killed) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await child.status;
        await child.stdout.cancel().catch(() => {});
      }
      await q.purge();
      await q.close();
    }
  },
);
