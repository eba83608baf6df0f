/**
 * Profiler aid for `Neo4jRegistry.diffAndCommit` (not quoted in results.md):
 * for a new DAG of each size, then the same nodes under two new strategies,
 * it prints every statement the diff sent (wall time, Neo4j's own time,
 * update counters), every commit, the CPU the Neo4j JVM and this process
 * used, and the peak transaction memory Neo4j reported meanwhile. With
 * `--profile` every statement runs under `PROFILE` and its plan is printed
 * (operators, rows, db hits, memory): the check that every look-up is an
 * index seek and that no `Eager` buffers many rows.
 *
 *     eval "$(bash deploy/local/stack.sh up)"
 *     deno run -A bench/registry_profile.ts 1000 10000      # sizes
 *     deno run -A bench/registry_profile.ts --profile 1000  # with plans
 *     deno run -A bench/registry_profile.ts --quiet --reps=5 1000
 *     deno run -A bench/registry_profile.ts --warm --quiet --reps=5 4 1000
 *
 * `--no-memory` skips the `SHOW TRANSACTIONS` poll: listing a transaction
 * walks all its locks, so polling every 20 ms costs the server CPU while a
 * large diff runs.
 *
 * `--warm` first runs the bench groups' Neo4j warm-up (1,200 untimed
 * 4-node diffs, at most 45 s; `--warm=N` for N diffs): a fresh JVM runs
 * the diff statements several times slower until the JIT has compiled
 * them, which hides what a change does to a warm server.
 *
 * It patches neo4j-driver's `Transaction.prototype.run` and `commit` in
 * this process to time them; nothing else changes.
 *
 * @module
 */

import type { Session } from "neo4j-driver";
import { Neo4jRegistry } from "../lib/dag/mod.ts";
import { configFromEnv } from "../lib/gateway/server/config.ts";
import { createNeo4jDriver } from "../lib/dag/neo4j/driver.ts";
import { makeDag } from "./groups/dag_shape.ts";
import { warmNeo4j } from "./groups/neo4j_warm.ts";

interface Entry {
  q: string;
  ms: number;
  server?: number;
  plan?: PlanNode;
  outcome?: string;
}
interface PlanNode {
  operatorType: string;
  rows?: number;
  dbHits?: number;
  arguments?: Record<string, unknown>;
  children?: PlanNode[];
}
interface Summary {
  resultAvailableAfter: unknown;
  resultConsumedAfter: unknown;
  profile?: PlanNode;
  counters: { updates(): Record<string, number> };
}
type Run = (q: string, p?: unknown) => PromiseLike<{ summary: Summary }>;

const args = Deno.args;
const profile = args.includes("--profile");
const quiet = args.includes("--quiet");
const noMemory = args.includes("--no-memory");
const reps = Number(args.find((a) => a.startsWith("--reps="))?.slice(7) ?? 1);
const warmArg = args.find((a) => a === "--warm" || a.startsWith("--warm="));
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
const opts = configFromEnv().neo4j;
if (!opts) throw new Error("set QMTL_NEO4J_URL (deploy/local/stack.sh up)");

const log: Entry[] = [];
const commits: number[] = [];

/** Patch the driver's Transaction class (found through a live session). */
async function patchDriver(session: Session): Promise<void> {
  const tx = session.beginTransaction();
  await tx.rollback();
  let proto = Object.getPrototypeOf(tx);
  while (proto && !Object.hasOwn(proto, "commit")) {
    proto = Object.getPrototypeOf(proto);
  }
  const run = proto.run as Run;
  const commit = proto.commit as () => Promise<void>;
  proto.run = function (this: unknown, q: string, p?: unknown) {
    const t0 = performance.now();
    const entry: Entry = {
      q: q.replace(/\s+/g, " ").trim().slice(0, 60),
      ms: 0,
    };
    log.push(entry);
    const res = run.call(this, profile ? `PROFILE ${q}` : q, p);
    res.then((r) => {
      entry.ms = performance.now() - t0;
      entry.server = Number(r.summary.resultAvailableAfter) +
        Number(r.summary.resultConsumedAfter);
      entry.plan = r.summary.profile;
      const u = r.summary.counters.updates();
      entry.outcome = Object.entries(u).filter(([, v]) => v > 0).map((
        [k, v],
      ) => `${k} ${v}`).join(", ");
    }, (e: { code?: string }) => {
      entry.outcome = `failed: ${e.code}`;
    });
    return res;
  };
  proto.commit = function (this: unknown) {
    const t0 = performance.now();
    const p = commit.call(this);
    p.then(() => commits.push(performance.now() - t0), () => {});
    return p;
  };
}

function planText(p: PlanNode | undefined, depth = 0): string {
  if (!p) return "";
  const a = p.arguments ?? {};
  const details = a.Details
    ? ` | ${String(a.Details).replace(/\s+/g, " ").slice(0, 140)}`
    : "";
  let s =
    `${"  ".repeat(depth)}${p.operatorType} rows=${p.rows} hits=${p.dbHits}` +
    (a.Memory !== undefined ? ` mem=${a.Memory}` : "") + details + "\n";
  for (const c of p.children ?? []) s += planText(c, depth + 1);
  return s;
}

function cpuMs(pid: number | "self"): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]
    .split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, 100 Hz ticks
}
const stackDir = Deno.env.get("QMTL_STACK_DIR") ?? "/tmp/qmtl-stack";
const jvmPid = Number(
  Deno.readTextFileSync(`${stackDir}/neo4j/neo4j.pid`).trim(),
);

// peak transaction memory from SHOW TRANSACTIONS, polled from a side session
const side = createNeo4jDriver(opts);
let memPeak = 0;
let polling = false;
async function pollMemory(): Promise<void> {
  const s = side.session(opts!.database ? { database: opts!.database } : {});
  try {
    while (polling) {
      const r = await s.run(
        "SHOW TRANSACTIONS YIELD estimatedUsedHeapMemory AS m, currentQuery AS q WHERE q CONTAINS 'replan=skip' RETURN max(m) AS m",
      );
      memPeak = Math.max(memPeak, Number(r.records[0]?.get("m") ?? 0));
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await s.close();
  }
}

if (warmArg) {
  const diffs = warmArg.includes("=") ? Number(warmArg.slice(7)) : undefined;
  console.log(await warmNeo4j(opts, diffs ? { diffs } : {}));
}

const ns = `prof_${crypto.randomUUID().slice(0, 8)}`;
const reg = await Neo4jRegistry.connect({
  ...opts,
  namespace: ns,
  migrate: "auto",
});
const probe = side.session();
await patchDriver(probe).finally(() => probe.close());
const summary = new Map<
  string,
  { wall: number[]; jvm: number[]; self: number[] }
>();
try {
  for (const n of sizes.length ? sizes : [1000]) {
    for (let r = 0; r < reps; r++) {
      for (
        const [kind, sid, salt] of [
          ["warm", `w${n}_${r}`, `w${n}_${r}`],
          ["new", `a${n}_${r}`, `a${n}_${r}`],
          ["reused", `b${n}_${r}`, `a${n}_${r}`],
          ["reused again", `c${n}_${r}`, `a${n}_${r}`],
        ]
      ) {
        log.length = 0;
        commits.length = 0;
        memPeak = 0;
        polling = !noMemory;
        const poller = noMemory ? Promise.resolve() : pollMemory();
        const dag = makeDag(salt, n);
        const j0 = cpuMs(jvmPid), s0 = cpuMs("self"), t0 = performance.now();
        await reg.diffAndCommit(dag, {
          strategyId: sid,
          version: "1",
          owner: "p",
        });
        const total = performance.now() - t0;
        const jvm = cpuMs(jvmPid) - j0, self = cpuMs("self") - s0;
        polling = false;
        await poller;
        const key = `${kind} ${n}`;
        if (!summary.has(key)) {
          summary.set(key, { wall: [], jvm: [], self: [] });
        }
        summary.get(key)!.wall.push(total);
        summary.get(key)!.jvm.push(jvm);
        summary.get(key)!.self.push(self);
        if (quiet) continue;
        const sum = log.reduce((a, e) => a + e.ms, 0);
        const committed = commits.reduce((a, b) => a + b, 0);
        console.log(
          `\n== ${key}: ${
            total.toFixed(1)
          } ms (Neo4j JVM CPU ${jvm} ms, this process ${self} ms, transaction memory peak ${
            (memPeak / 2 ** 20).toFixed(1)
          } MiB): statements ${sum.toFixed(1)} ms, commits ${
            commits.map((c) => c.toFixed(1)).join(" + ")
          } ms, rest ${(total - sum - committed).toFixed(1)} ms`,
        );
        for (const e of log) {
          console.log(
            `  ${
              e.ms.toFixed(1).padStart(8)
            } ms (server ${e.server} ms)  ${e.q}…  ${e.outcome ?? ""}`,
          );
          if (profile && kind !== "warm") console.log(planText(e.plan, 3));
        }
      }
    }
  }
} finally {
  await reg.purgeNamespace();
  await reg.close();
  await side.close();
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const p95 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1];
for (const [k, v] of summary) {
  if (k.startsWith("warm")) continue;
  console.log(
    `${k}: median ${med(v.wall).toFixed(1)} ms, p95 ${
      p95(v.wall).toFixed(1)
    } ms, Neo4j JVM CPU ${med(v.jvm)} ms, this process ${
      med(v.self)
    } ms (n = ${v.wall.length})`,
  );
}
