// `deploy/local/stack.sh up` heals the Redis group after failovers. A PRIVATE
// group (own ports and folder, as tests/queue/failover_test.ts does): kill
// the master, wait for Sentinel to promote the replica, run `up` (or `heal`),
// and check 1 master + 1 synced replica + 3 Sentinels monitoring it — after
// 1, 2 and 3 failovers (odd and even: the master alternates between the two
// member slots), with a write made before each failover still readable.
import assert from "node:assert/strict";
import { serviceUrl } from "../support/services.ts";
import {
  freeRedisPorts,
  redisStackEnv,
  run,
  STACK,
} from "../support/private_stack.ts";
import { pollUntil } from "../support/poll.ts";

// Needs redis-server / redis-sentinel like every Redis test (same rule).
const redis = serviceUrl("QMTL_REDIS_URL");

const cli = async (port: number, ...args: string[]) =>
  (await run("redis-cli", ["-p", String(port), ...args])).trim();

const until = <T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined>,
) => pollUntil(what, ms, probe, 250);

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

/** Pairs of a `SENTINEL MASTER`-style flat reply as a map. */
function pairs(flat: string): Map<string, string> {
  const l = flat.split("\n");
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < l.length; i += 2) m.set(l[i], l[i + 1]);
  return m;
}

/** Records of a `SENTINEL REPLICAS`-style reply (each starts with `name`). */
function records(flat: string): Map<string, string>[] {
  const l = flat.split("\n");
  const out: Map<string, string>[] = [];
  for (let i = 0; i + 1 < l.length; i += 2) {
    if (l[i] === "name") out.push(new Map());
    out.at(-1)?.set(l[i], l[i + 1]);
  }
  return out;
}

Deno.test({
  name:
    "stack.sh: `up` heals the Redis group after 1, 2 and 3 failovers (1 master + 1 synced replica + 3 sentinels)",
  ignore: redis.ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "qmtl-heal-" });
    const ports = freeRedisPorts();
    const env = {
      ...redisStackEnv(dir, ports),
      // 3 s, not the stack's 1 s: on a loaded CI machine a member that is
      // slow to answer a PING for 1 s is flagged down again and again, and
      // the check below needs all three Sentinels to see it up at once.
      QMTL_STACK_DOWN_AFTER_MS: "3000",
    };
    const members = [ports.redis, ports.redis + 1];
    const sentinels = [0, 1, 2].map((i) => ports.sentinel + i);
    const masterPort = async () =>
      Number(
        (await cli(sentinels[0], "sentinel", "get-master-addr-by-name", "qmtl"))
          .split("\n")[1],
      );

    /** 1 master + 1 synced replica + 3 sentinels agreeing, each seeing the other two. */
    const assertHealthy = async (expectMaster: number, keys: string[]) => {
      const other = members.find((p) => p !== expectMaster)!;
      assert.equal(
        field(await cli(expectMaster, "info", "replication"), "role"),
        "master",
      );
      const rep = await cli(other, "info", "replication");
      assert.equal(field(rep, "role"), "slave");
      assert.equal(field(rep, "master_port"), String(expectMaster));
      assert.equal(field(rep, "master_link_status"), "up");
      for (const s of sentinels) {
        assert.equal(
          (await cli(s, "sentinel", "get-master-addr-by-name", "qmtl")).split(
            "\n",
          )[1],
          String(expectMaster),
          `sentinel :${s} names the master`,
        );
      }
      // Each Sentinel sees the replica up and the two other Sentinels.
      await until(
        "every sentinel sees 1 replica and 2 other sentinels",
        // Sentinels re-discover each other by hello messages every 2 s and
        // clear a healed replica's down flag after a ping: slow on a busy
        // machine.
        45_000,
        async () => {
          // What each Sentinel sees, kept for the timeout's message.
          const seen: string[] = [];
          let ok = true;
          for (const s of sentinels) {
            const m = pairs(await cli(s, "sentinel", "master", "qmtl"));
            const reps = records(await cli(s, "sentinel", "replicas", "qmtl"));
            const live = reps.filter((r) =>
              r.get("port") === String(other) &&
              !(r.get("flags") ?? "").includes("down")
            );
            seen.push(
              `:${s} flags=${m.get("flags")} others=${
                m.get("num-other-sentinels")
              } replicas=${
                reps.map((r) => `${r.get("port")}/${r.get("flags")}`).join(",")
              }`,
            );
            if (
              m.get("flags") !== "master" ||
              m.get("num-other-sentinels") !== "2" || live.length !== 1
            ) ok = false;
          }
          if (!ok) throw new Error(seen.join("; "));
          return true;
        },
      );
      for (const k of keys) {
        assert.equal(await cli(expectMaster, "get", k), `v-${k}`);
        assert.equal(await cli(other, "get", k), `v-${k}`);
      }
    };

    try {
      await run("bash", [STACK, "up", "--redis-only"], env);
      const keys: string[] = [];
      let master = await masterPort();
      assert.equal(master, ports.redis);
      await assertHealthy(master, keys);

      for (let failover = 1; failover <= 3; failover++) {
        const key = `k${failover}`;
        await cli(master, "set", key, `v-${key}`);
        assert.equal(await cli(master, "wait", "1", "2000"), "1");
        keys.push(key);
        const pid = Number(
          field(await cli(master, "info", "server"), "process_id"),
        );
        Deno.kill(pid, "SIGKILL");
        const old = master;
        master = await until(
          `promotion after failover ${failover}`,
          30_000,
          async () => {
            const p = await masterPort();
            if (p === old) return undefined;
            return field(await cli(p, "info", "replication"), "role") ===
                "master"
              ? p
              : undefined;
          },
        );
        // Odd: `up`; even: the `heal` verb (same Redis healing).
        const verb = failover % 2 === 1 ? ["up", "--redis-only"] : ["heal"];
        const out = await run("bash", [STACK, ...verb], env);
        assert.match(
          out,
          new RegExp(`redis master qmtl is 127\\.0\\.0\\.1:${master}`),
        );
        assert.equal(
          master,
          members[failover % 2],
          `master after ${failover} failovers`,
        );
        await assertHealthy(master, keys);
      }
    } finally {
      await run("bash", [STACK, "down"], env).catch((e) =>
        console.error(String(e))
      );
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
