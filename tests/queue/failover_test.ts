// Failover: a PRIVATE Redis stack (master + 2 replicas + 3 Sentinels on free
// ports, own folder) so that killing its master never disturbs other tests.
// Producers and workers run; the master is SIGKILLed; Sentinel promotes a
// replica; the same workers carry on. Checked: every job acknowledged to a
// producer is processed; no job is processed by two workers at once; every
// duplicate is a re-delivery of a job whose ack was not confirmed.
import { DurabilityError, LeaseLostError } from "../../lib/queue/errors.ts";
import { RedisQueue } from "../../lib/queue/redis_queue.ts";
import {
  type SentinelEvent,
  SentinelObserver,
} from "../../lib/queue/sentinel_observer.ts";
import assert from "node:assert/strict";
import { redisTest } from "./redis_env.ts";
import {
  freeRedisPorts,
  redisCli as cli,
  redisStackEnv,
  run,
  STACK,
} from "../support/private_stack.ts";

const JOBS = 1_200; // bounded
const DEADLINE_MS = 60_000; // bounded
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

redisTest(
  "RedisQueue: Sentinel failover (kill -9 master) loses no acknowledged job",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "qmtl-failover-" });
    const ports = freeRedisPorts(2);
    const env = redisStackEnv(dir, ports);
    const replica2Port = ports.redis + 2;
    const replica2Pid = `${dir}/redis/replica2.pid`;
    const handles: RedisQueue[] = [];
    let observer: SentinelObserver | undefined;
    try {
      await run("bash", [STACK, "up", "--redis-only"], env);
      // A second replica, so that after the failover the new master still has
      // one to confirm WAIT 1 (the production topology: master + 2 replicas).
      await run("redis-server", [
        "--bind",
        "127.0.0.1",
        "--port",
        String(replica2Port),
        "--daemonize",
        "yes",
        "--pidfile",
        replica2Pid,
        "--dir",
        `${dir}/redis`,
        "--dbfilename",
        "replica2.rdb",
        "--logfile",
        `${dir}/redis/replica2.log`,
        "--appendonly",
        "no",
        "--save",
        "",
        "--replica-announce-ip",
        "127.0.0.1",
        "--replicaof",
        "127.0.0.1",
        String(ports.redis),
      ], {});
      const until = Date.now() + 20_000;
      while (true) {
        const known = await cli(ports.sentinel, "sentinel", "replicas", "qmtl");
        const n = (known.match(/^name$/gm) ?? []).length;
        const synced = (await cli(replica2Port, "info", "replication"))
          .includes("master_link_status:up");
        if (n >= 2 && synced) break;
        if (Date.now() > until) {
          throw new Error(
            `sentinels know ${n} replicas; replica2 synced=${synced}`,
          );
        }
        await sleep(250);
      }
      const url =
        `redis+sentinel://127.0.0.1:${ports.sentinel},127.0.0.1:${
          ports.sentinel + 1
        },` +
        `127.0.0.1:${ports.sentinel + 2}/qmtl/0`;
      observer = new SentinelObserver(url);
      const events: SentinelEvent[] = [];
      observer.on((e) => events.push(e));
      assert.deepEqual(await observer.ready(), 3);

      const keyPrefix = "{qmtl:failover-test}";
      const open = () => {
        const q = new RedisQueue({
          url,
          keyPrefix,
          waitReplicas: 1,
          waitTimeoutMs: 500,
        });
        handles.push(q);
        return q;
      };
      const producerQ = [open(), open()];
      const workerQ = [open(), open()];
      const t0 = Date.now();
      const acknowledged = new Set<string>(); // enqueue resolved
      let enqueueRetries = 0;
      let killedAt = 0;
      let firstAfterKill = 0;
      const holding = new Set<string>();
      const processed = new Map<string, number>();
      const confirmedAck = new Set<string>();
      const uncertain = new Set<string>(); // processings whose ack was not confirmed
      let concurrent = 0;
      let leaseErrors = 0;
      let producersDone = false;

      const producer = async (q: RedisQueue, from: number, to: number) => {
        for (let i = from; i < to && Date.now() - t0 < DEADLINE_MS; i++) {
          const key = `job-${i}`;
          while (Date.now() - t0 < DEADLINE_MS) {
            try {
              await q.enqueue("failover", new TextEncoder().encode(key), {
                idempotencyKey: key,
              });
              acknowledged.add(key);
              break;
            } catch (_e) {
              enqueueRetries++; // DurabilityError or connection error: retry, same key
              await sleep(50);
            }
          }
          await sleep(6);
        }
      };
      const worker = async (q: RedisQueue) => {
        while (Date.now() - t0 < DEADLINE_MS) {
          if (
            producersDone &&
            [...acknowledged].every((k) =>
              confirmedAck.has(k) || uncertain.has(k)
            )
          ) {
            // Drained? (an uncertain ack may have been lost: its job comes back)
            try {
              const s = await q.stats();
              if (s.ready + s.delayed + s.leased === 0) return;
            } catch { /* failing over: try again */ }
            await sleep(100);
          }
          let jobs;
          // Only a job leased after the kill proves the workers carried on
          // against the new master (an ack in flight at the kill does not).
          const leasedAfterKill = killedAt > 0;
          try {
            jobs = await q.lease(4, { leaseMs: 3_000, blockMs: 200 });
          } catch (_e) {
            leaseErrors++;
            await sleep(50);
            continue;
          }
          for (const j of jobs) {
            const key = new TextDecoder().decode(j.payload);
            if (holding.has(key)) concurrent++;
            holding.add(key);
            processed.set(key, (processed.get(key) ?? 0) + 1);
            await sleep(2); // "work"
            holding.delete(key);
            let ok = false;
            for (let attempt = 0; attempt < 5 && !ok; attempt++) {
              try {
                await q.ack(j.id, j.leaseToken);
                ok = true;
              } catch (e) {
                if (e instanceof LeaseLostError) break;
                if (!(e instanceof DurabilityError)) await sleep(50);
              }
            }
            if (ok) {
              confirmedAck.add(key);
              if (leasedAfterKill && firstAfterKill === 0) {
                firstAfterKill = Date.now();
              }
            } else uncertain.add(key);
          }
        }
      };
      const killer = async () => {
        while (acknowledged.size < JOBS / 3 && Date.now() - t0 < DEADLINE_MS) {
          await sleep(20);
        }
        const pid = Number(
          (await Deno.readTextFile(`${dir}/redis/master.pid`)).trim(),
        );
        killedAt = Date.now();
        Deno.kill(pid, "SIGKILL");
      };
      const half = JOBS / 2;
      const producing = Promise.all([
        producer(producerQ[0], 0, half),
        producer(producerQ[1], half, JOBS),
      ])
        .then(() => {
          producersDone = true;
        });
      await Promise.all([
        producing,
        killer(),
        ...Array.from({ length: 8 }, (_, i) => worker(workerQ[i % 2])),
      ]);

      const elapsed = Date.now() - t0;
      const lost = [...acknowledged].filter((k) => !processed.has(k));
      const unconfirmed = [...acknowledged].filter((k) => !confirmedAck.has(k));
      const dups = [...processed].filter(([, n]) => n > 1).map(([k]) => k);
      const newMaster = events.find((e) => e.type === "+switch-master")
        ?.newMaster;
      console.log(
        `[failover] jobs acknowledged=${acknowledged.size} processed=${processed.size} ` +
          `duplicates=${dups.length} (uncertain acks ${uncertain.size}, ` +
          `never confirmed ${unconfirmed.length}) concurrent=${concurrent} ` +
          `enqueueRetries=${enqueueRetries} leaseErrors=${leaseErrors} ` +
          `kill→first job processed on the new master: ${
            firstAfterKill - killedAt
          } ms ` +
          `(new master ${newMaster?.host}:${newMaster?.port}); total ${elapsed} ms; ` +
          `sentinel events ${JSON.stringify(observer.counts)}`,
      );
      assert.ok(killedAt > 0, "the master was never killed");
      assert.deepEqual(
        acknowledged.size,
        JOBS,
        "producers did not get every job acknowledged in time",
      );
      assert.deepEqual(
        lost,
        [],
        `acknowledged jobs never processed: ${lost.length}`,
      );
      assert.deepEqual(concurrent, 0);
      for (const k of dups) {
        assert.ok(
          uncertain.has(k),
          `${k} processed twice but its ack was confirmed`,
        );
      }
      assert.ok(firstAfterKill > killedAt, "no job processed after the kill");
      assert.deepEqual(newMaster?.port !== ports.redis, true);
      assert.ok(
        observer.counts["+switch-master"] >= 1,
        "no +switch-master seen",
      );
      assert.ok(observer.counts["+odown"] >= 1, "no +odown seen");
      assert.ok(
        events.some((e) =>
          e.type === "+sdown" && e.address?.port === ports.redis
        ),
      );
    } finally {
      await observer?.close();
      for (const h of handles) await h.close();
      try {
        const pid = Number((await Deno.readTextFile(replica2Pid)).trim());
        Deno.kill(pid, "SIGKILL");
      } catch { /* not started */ }
      await run("bash", [STACK, "down"], env).catch((e) =>
        console.error(String(e))
      );
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
