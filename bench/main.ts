/**
 * `deno task bench`: runs the benchmark groups and writes results.md.
 *
 *     deno task bench                       # every group, bench/results.md
 *     deno task bench --only http,queue     # some groups
 *     deno task bench --quick --out /tmp/r.md   # tiny sizes, seconds (smoke test)
 *     deno task bench --label "development run: noisy machine"
 *     deno task bench --list
 *
 * Groups that need Neo4j or Redis read `QMTL_NEO4J_URL` / `QMTL_REDIS_URL`
 * (`eval "$(bash deploy/local/stack.sh up)"`); without them a group is
 * skipped, except under `CI=true` where that is a failure. Exit status: 0
 * when every selected group ran or was skipped, 1 when one failed, 2 on bad
 * arguments.
 *
 * @module
 */

import { BENCH_GROUPS } from "./groups/mod.ts";
import { gitCommit, loadAverage, machineInfo } from "./harness/machine.ts";
import { hasProgram, stopAll } from "./harness/process.ts";
import { type GroupOutcome, renderResults } from "./harness/render.ts";
import type { BenchGroup, GroupContext, Services } from "./harness/types.ts";

const ROOT = new URL("../", import.meta.url);

/** Parsed command line. */
interface Args {
  only?: string[];
  quick: boolean;
  out?: string;
  label?: string;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes("=")
      ? [
        argv[i].slice(0, argv[i].indexOf("=")),
        argv[i].slice(argv[i].indexOf("=") + 1),
      ]
      : [argv[i], undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--only":
        a.only = [
          ...(a.only ?? []),
          ...value().split(",").map((s) => s.trim()).filter(Boolean),
        ];
        break;
      case "--quick":
        a.quick = true;
        break;
      case "--out":
        a.out = value();
        break;
      case "--label":
        a.label = value();
        break;
      case "--list":
        a.list = true;
        break;
      case "--help":
      case "-h":
        a.list = true;
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  const names = new Set(BENCH_GROUPS.map((g) => g.name));
  for (const n of a.only ?? []) {
    if (!names.has(n)) {
      throw new Error(
        `--only: no group ${JSON.stringify(n)} (groups: ${
          [...names].join(", ")
        })`,
      );
    }
  }
  return a;
}

/** Quote an argument for a POSIX shell when it needs it. */
function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

async function whyNot(
  g: BenchGroup,
  services: Services,
): Promise<string | undefined> {
  const missing: string[] = [];
  for (const s of g.needs) {
    if (!services[s]) {
      missing.push(s === "neo4jUrl" ? "QMTL_NEO4J_URL" : "QMTL_REDIS_URL");
    }
  }
  for (const p of g.programs ?? []) {
    if (!(await hasProgram(p))) missing.push(`program ${p}`);
  }
  return missing.length ? `needs ${missing.join(", ")}` : undefined;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    return 2;
  }
  if (args.list) {
    console.log(
      "usage: deno task bench [--only g1,g2] [--quick] [--out file] [--label text]\ngroups:",
    );
    for (const g of BENCH_GROUPS) {
      console.log(`  ${g.name.padEnd(10)} ${g.title}`);
    }
    return 0;
  }
  const out = args.out ??
    new URL(args.quick ? "bench/results.quick.md" : "bench/results.md", ROOT)
      .pathname;
  const selected = BENCH_GROUPS.filter((g) =>
    !args.only || args.only.includes(g.name)
  );
  const services: Services = {
    neo4jUrl: Deno.env.get("QMTL_NEO4J_URL") || undefined,
    redisUrl: Deno.env.get("QMTL_REDIS_URL") || undefined,
  };
  const ci = Deno.env.get("CI") === "true";
  const tmpDir = await Deno.makeTempDir({ prefix: "qmtl-bench-" });
  const ctx: GroupContext = {
    quick: args.quick,
    root: ROOT,
    tmpDir,
    services,
    log: (m) => console.error(`[bench] ${m}`),
  };
  const onSignal = (sig: Deno.Signal) => () => {
    console.error(`[bench] ${sig}: stopping child processes`);
    stopAll().finally(() => Deno.exit(sig === "SIGINT" ? 130 : 143));
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => {
    const h = onSignal(s);
    Deno.addSignalListener(s, h);
    return [s, h] as const;
  });

  const started = new Date();
  const loadBefore = await loadAverage();
  const [machine, commit] = await Promise.all([
    machineInfo(services),
    gitCommit(ROOT),
  ]);
  ctx.log(`load average before: ${loadBefore}; writing ${out}`);
  const outcomes: GroupOutcome[] = [];
  try {
    for (const g of selected) {
      const reason = await whyNot(g, services);
      if (reason) {
        if (ci) {
          outcomes.push({
            group: g,
            status: "failed",
            error: `CI=true: ${reason}`,
            seconds: 0,
          });
        } else {
          ctx.log(`${g.name}: skipped (${reason})`);
          outcomes.push({ group: g, status: "skipped", reason });
        }
        continue;
      }
      ctx.log(`${g.name}: ${g.title}`);
      const t0 = performance.now();
      try {
        const report = await g.run(ctx);
        outcomes.push({
          group: g,
          status: "ok",
          report,
          seconds: (performance.now() - t0) / 1000,
        });
      } catch (e) {
        const err = e as Error;
        ctx.log(`${g.name}: FAILED: ${err.message}`);
        outcomes.push({
          group: g,
          status: "failed",
          error: err.stack ?? String(e),
          seconds: (performance.now() - t0) / 1000,
        });
      } finally {
        await stopAll();
      }
    }
  } finally {
    await stopAll();
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
  const loadAfter = await loadAverage();
  const quoted = Deno.args.map(shellQuote);
  const typed = ["deno task bench", ...quoted].join(" ");
  const markdown = renderResults({
    label: args.label ??
      (args.quick
        ? "Quick run (smoke test sizes)."
        : "Run of `deno task bench`."),
    command: `\`${typed}\` (runs \`deno run --allow-all bench/main.ts${
      quoted.length ? " " + quoted.join(" ") : ""
    }\`)`,
    started,
    finished: new Date(),
    commit,
    machine,
    loadBefore,
    loadAfter,
    quick: args.quick,
    outcomes,
  });
  await Deno.writeTextFile(out, markdown);
  ctx.log(`load average after: ${loadAfter}; wrote ${out}`);
  const failed = outcomes.filter((o) => o.status === "failed");
  for (const f of failed) ctx.log(`FAILED group ${f.group.name}`);
  return failed.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
