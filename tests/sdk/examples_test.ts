/**
 * Every example in `examples/` runs against a freshly started reference
 * server (`deno task serve`, dev mode, its printed token) — on memory
 * backends, and again on the real stack (Neo4j + Redis Sentinel) — and must
 * exit 0 with the expected output lines, right after its last line (a leaked
 * timer, socket or stream would keep it alive: `waitFor` once did for 25 s).
 */
import assert from "node:assert/strict";
import { startServe } from "../support/server_process.ts";
import {
  MAX_EXIT_LAG_MS,
  runTimed,
  type TimedRun,
} from "../support/exit_timing.ts";

const ROOT = new URL("../../", import.meta.url);

type Run = TimedRun;

async function runExample(
  name: string,
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 60_000,
): Promise<Run> {
  return await runTimed(["run", "-A", `examples/${name}`, ...args], {
    cwd: ROOT,
    env,
    timeoutMs,
  });
}

function expectLines(run: Run, patterns: RegExp[]): void {
  const show = `stdout:\n${run.stdout.join("\n")}\nstderr:\n${run.stderr}`;
  assert.equal(run.code, 0, `exit code ${run.code}\n${show}`);
  assert.ok(
    run.exitLagMs < MAX_EXIT_LAG_MS,
    `exited ${Math.round(run.exitLagMs)} ms after its last line\n${show}`,
  );
  let at = 0;
  for (const p of patterns) {
    const i = run.stdout.findIndex((l, k) => k >= at && p.test(l));
    assert.ok(i >= 0, `no line after #${at} matches ${p}\n${show}`);
    at = i + 1;
  }
}

async function withServer(
  fn: (env: Record<string, string>) => Promise<void>,
  options: Parameters<typeof startServe>[0] = {},
): Promise<void> {
  const srv = await startServe(options);
  try {
    assert.ok(srv.token, "the dev server printed a token");
    await fn({ QMTL_URL: srv.url, QMTL_TOKEN: srv.token! });
  } finally {
    await srv.stop();
  }
}

Deno.test("examples/sma_crossover.ts submits, completes and prints the queue map", async () => {
  await withServer(async (env) => {
    const run = await runExample("sma_crossover.ts", env);
    expectLines(run, [
      /^submitted sma_crossover \(4 nodes\) as st_\S+: QUEUED$/,
      /^COMPLETED after \d+ ms: 4 nodes created, 0 reused$/,
      /^queue map:$/,
      /^ {2}btc_close +StreamInput → \S+_v\d+$/,
      /^ {2}sma_fast +Processing +→ \S+_v\d+$/,
      /^ {2}sma_slow +Processing +→ \S+_v\d+$/,
      /^ {2}crossover +Signal +→ \S+_v\d+$/,
    ]);
    // Running it again is idempotent: same strategy, already completed.
    const again = await runExample("sma_crossover.ts", env);
    expectLines(again, [
      /^submitted sma_crossover \(4 nodes\) as st_\S+: COMPLETED \(already submitted before\)$/,
      /^queue map:$/,
    ]);
  });
});

Deno.test("examples/shared_nodes.ts shows the second strategy reusing the first's topics", async () => {
  await withServer(async (env) => {
    const run = await runExample("shared_nodes.ts", env);
    expectLines(run, [
      /^eth_trend → st_\S+: COMPLETED, 4 created, 0 reused$/,
      /^eth_mean_reversion → st_\S+: COMPLETED, 1 created, 3 reused$/,
      /^eth_mean_reversion shares 3 of 4 nodes with eth_trend:$/,
      /^ {2}eth_close → \S+ \(same topic, reused\)$/,
      /^ {2}sma_fast +→ \S+ \(same topic, reused\)$/,
      /^ {2}sma_slow +→ \S+ \(same topic, reused\)$/,
    ]);
  });
});

Deno.test("examples/watch_events.ts follows events until COMPLETED", async () => {
  await withServer(async (env) => {
    const run = await runExample("watch_events.ts", {
      ...env,
      QMTL_WATCH_TIMEOUT_MS: "30000",
    });
    expectLines(run, [
      /^submitted watch_demo as st_\S+$/,
      /^following events of st_\S+ \(up to 30000 ms\)…$/,
      /qmtl\.strategy\.queued {2}QUEUED$/,
      /qmtl\.strategy\.processing {2}PROCESSING$/,
      /qmtl\.strategy\.completed {2}COMPLETED \(2 topics\)$/,
      /^done: strategy completed$/,
    ]);
    // Following an existing strategy by ID replays its events.
    const id = run.stdout[0].split(" ").pop()!;
    const byId = await runExample("watch_events.ts", env, [id]);
    expectLines(byId, [
      /^following events of /,
      /COMPLETED/,
      /^done: strategy completed$/,
    ]);
  });
});

Deno.test("examples explain a missing QMTL_TOKEN and exit 2", async () => {
  for (
    const name of ["sma_crossover.ts", "shared_nodes.ts", "watch_events.ts"]
  ) {
    const run = await runExample(name, {
      QMTL_URL: "http://127.0.0.1:9",
      QMTL_TOKEN: "",
    });
    assert.equal(run.code, 2, name);
    assert.match(run.stderr, /QMTL_TOKEN is not set/);
  }
});

Deno.test("examples/backtest_sma.ts backtests the bundled CSV, deterministically", async () => {
  const first = await runExample("backtest_sma.ts", {});
  expectLines(first, [
    /^4320 records, 6 distinct nodes, \d+ evaluations \(\d+ saved by sharing\)$/,
    /^sma_10_30: computed once and shared: btc_close, sma_fast$/,
    /^ {2}bar +close +fast +slow +signal$/,
    /^ {2}2024-01-01T00:29 +[\d.]+ +[\d.]+ +[\d.]+ +-?1$/,
    /^ {2}\d+ signals, \d+ changes; naive rule PnL -?[\d.]+ % \(buy and hold -?[\d.]+ %\)$/,
    /^sma_10_60: computed once and shared: btc_close, sma_fast$/,
    /^ {2}\d+ signals, \d+ changes; naive rule PnL -?[\d.]+ % \(buy and hold -?[\d.]+ %\)$/,
  ]);
  const again = await runExample("backtest_sma.ts", {});
  assert.deepEqual(again.stdout, first.stdout);
});

Deno.test("examples/data/prices.csv is what generate_prices.ts writes", async () => {
  const csv = new URL("../../examples/data/prices.csv", import.meta.url);
  const before = await Deno.readFile(csv);
  const tmp = await Deno.makeTempDir();
  try {
    const script = await Deno.readTextFile(
      new URL("../../examples/data/generate_prices.ts", import.meta.url),
    );
    await Deno.writeTextFile(`${tmp}/generate_prices.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-write", `${tmp}/generate_prices.ts`],
      stdout: "null",
    }).output();
    assert.equal(out.code, 0);
    assert.deepEqual(await Deno.readFile(`${tmp}/prices.csv`), before);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

const SHARED_LIVE = [
  /^runner A runs eth_live_trend \(st_\S+\), runner B runs eth_live_revert \(st_\S+\)$/,
  /^published 40 bars of ETH closes to ETH_StreamInput_\w+_v\d+$/,
  /^node +runner A +runner B +computed$/,
  /^sma_fast +(36 +0|0 +36) +36$/,
  /^sma_slow +(21 +0|0 +21) +21$/,
  /^trend +21 +- +21$/,
  /^revert +- +21 +21$/,
  /^each shared node was computed by one runner only; the other read its topic$/,
];

Deno.test("examples/shared_live.ts: two live runners share nodes through `deno task serve` (memory)", async () => {
  await withServer(async (env) => {
    expectLines(await runExample("shared_live.ts", env), SHARED_LIVE);
    // Again: the runners resume after the last bars, new bars are computed once.
    const again = await runExample("shared_live.ts", env);
    expectLines(again, [
      SHARED_LIVE[0],
      SHARED_LIVE[1],
      SHARED_LIVE[2],
      /^sma_fast +(40 +0|0 +40) +40$/,
      /^sma_slow +(40 +0|0 +40) +40$/,
    ]);
  });
});

const realStack = Deno.env.get("QMTL_REDIS_URL") &&
  Deno.env.get("QMTL_NEO4J_URL");

/**
 * Every example that talks to a server, on the real stack. The stack may
 * hold an earlier run's strategies and bars (a reused dev stack): then
 * submissions are "already submitted before", nodes are reused and the live
 * runners resume, so only the shape of the output is checked — and that
 * each exits right after its last line.
 */
const ON_THE_STACK: Record<string, RegExp[]> = {
  "sma_crossover.ts": [
    /^submitted sma_crossover \(4 nodes\) as st_\S+: (QUEUED|COMPLETED \(already submitted before\))$/,
    /^queue map:$/,
    /^ {2}crossover +Signal +→ \S+_v\d+$/,
  ],
  "shared_nodes.ts": [
    /^eth_trend → st_\S+: COMPLETED, \d+ created, \d+ reused$/,
    /^eth_mean_reversion → st_\S+: COMPLETED, \d+ created, \d+ reused$/,
    /^eth_mean_reversion shares 3 of 4 nodes with eth_trend:$/,
  ],
  "watch_events.ts": [
    /^following events of st_\S+ /,
    /qmtl\.strategy\.completed {2}COMPLETED/,
    /^done: strategy completed$/,
  ],
  "shared_live.ts": [
    ...SHARED_LIVE.slice(0, 3),
    /^sma_fast +(\d+ +0|0 +\d+) +\d+$/,
    SHARED_LIVE[7],
  ],
};

Deno.test({
  name:
    "every server example on the real stack (Neo4j + Redis Sentinel) exits 0 right after its last line",
  // Outside `deno task test` without the stack there is nothing to run it on;
  // CI always has the stack (the services rule fails the run without it).
  ignore: !realStack && Deno.env.get("CI") !== "true",
  async fn() {
    await withServer(async (env) => {
      for (const [name, patterns] of Object.entries(ON_THE_STACK)) {
        expectLines(await runExample(name, env), patterns);
      }
      // examples/strategies.ts is a module for the command line.
      expectLines(
        await runTimed(
          ["run", "-A", "sdk/cli/mod.ts", "submit", "examples/strategies.ts"],
          { cwd: ROOT, env, timeoutMs: 60_000 },
        ),
        [
          /^cli_sma_10_30 \(4 nodes\) → st_\w+: (QUEUED|COMPLETED \(already submitted before\))$/,
          /^ {2}COMPLETED/,
          /^cli_sma_10_60 \(4 nodes\) → st_\w+: /,
          /^ {2}COMPLETED/,
        ],
      );
    }, { keepBackends: true });
  },
});

Deno.test("every example in examples/ is run by this file, on memory and on the stack", async () => {
  const self = await Deno.readTextFile(new URL(import.meta.url));
  const names: string[] = [];
  for await (const e of Deno.readDir(new URL("examples/", ROOT))) {
    if (e.isFile && e.name.endsWith(".ts")) names.push(e.name);
  }
  assert.ok(names.length >= 5);
  const cli = await Deno.readTextFile(
    new URL("cli/cli_test.ts", import.meta.url),
  );
  for (const name of names) {
    if (name === "strategies.ts") {
      // A module for the command line: submitted and backtested by the CLI
      // test (memory), submitted above on the stack.
      assert.ok(cli.includes(`"examples/${name}"`), name);
      assert.ok(self.includes(`"examples/${name}"`), name);
      continue;
    }
    assert.ok(
      self.includes(`runExample("${name}"`),
      `${name} is not run by tests/sdk/examples_test.ts`,
    );
    if (name !== "backtest_sma.ts") {
      assert.ok(name in ON_THE_STACK, `${name} is not run on the real stack`);
    }
  }
});
