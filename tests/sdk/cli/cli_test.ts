/**
 * The command line as a user runs it: `deno run -A sdk/cli/mod.ts …` (what
 * `deno task qmtl` and `deno run -A jsr:@qmtl/qmtl/cli` run) as a
 * subprocess against `deno task serve`. Every command, human and `--json`
 * output, the documented exit codes, Ctrl-C, and an exit right after the
 * last line.
 */
import assert from "node:assert/strict";
import { startServe } from "../../support/server_process.ts";
import { MAX_EXIT_LAG_MS, runTimed } from "../../support/exit_timing.ts";
import { EXIT, EXIT_MEANINGS } from "../../../sdk/cli/mod.ts";

const ROOT = new URL("../../../", import.meta.url);

interface CliRun {
  code: number;
  out: string[];
  err: string;
}

async function qmtl(
  args: string[],
  env: Record<string, string>,
): Promise<CliRun> {
  const run = await runTimed(["run", "-A", "sdk/cli/mod.ts", ...args], {
    cwd: ROOT,
    env,
    timeoutMs: 60_000,
  });
  assert.ok(!run.killed, `qmtl ${args.join(" ")} was killed`);
  assert.ok(
    run.exitLagMs < MAX_EXIT_LAG_MS,
    `qmtl ${args.join(" ")}: exited ${
      Math.round(run.exitLagMs)
    } ms after its last line`,
  );
  return { code: run.code, out: run.stdout, err: run.stderr };
}

function expectCode(run: CliRun, code: number, what: string): void {
  assert.equal(
    run.code,
    code,
    `${what}: exit ${run.code}\nstdout:\n${
      run.out.join("\n")
    }\nstderr:\n${run.err}`,
  );
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("cli: help, usage errors and missing token (no server needed)", async () => {
  const env = { QMTL_URL: "http://127.0.0.1:9", QMTL_TOKEN: "" };
  const help = await qmtl(["--help"], env);
  expectCode(help, EXIT.OK, "--help");
  for (
    const c of [
      "submit",
      "status",
      "events",
      "nodes",
      "topics",
      "retire",
      "token",
      "backtest",
    ]
  ) {
    assert.ok(help.out.some((l) => l.startsWith(`  ${c} `)), c);
  }
  assert.ok(help.out.includes("exit codes:"));
  expectCode(await qmtl([], env), EXIT.USAGE, "no command");
  const unknown = await qmtl(["frobnicate"], env);
  expectCode(unknown, EXIT.USAGE, "unknown command");
  assert.match(unknown.err, /unknown command "frobnicate"/);
  const badOpt = await qmtl(["status", "st_1", "--bogus"], env);
  expectCode(badOpt, EXIT.USAGE, "unknown option");
  assert.match(badOpt.err, /status: unknown option --bogus/);
  const missing = await qmtl(["status"], env);
  expectCode(missing, EXIT.USAGE, "missing argument");
  assert.match(missing.err, /status: missing <strategy-id>/);
  const noToken = await qmtl(["status", "st_1"], env);
  expectCode(noToken, EXIT.USAGE, "no token");
  assert.match(noToken.err, /QMTL_TOKEN is not set/);
  const statusHelp = await qmtl(["status", "--help"], env);
  expectCode(statusHelp, EXIT.OK, "status --help");
  assert.match(statusHelp.out[0], /^usage: qmtl status <strategy-id>/);
});

Deno.test("cli: backtest over a CSV (no server needed)", async () => {
  const args = [
    "backtest",
    "examples/strategies.ts",
    "--csv",
    "examples/data/prices.csv",
    "--time",
    "ts",
    "--column",
    "btc_close=btc,close",
  ];
  const run = await qmtl(args, {});
  expectCode(run, EXIT.OK, "backtest");
  assert.match(
    run.out[0],
    /^4320 records \(0 unmatched\), 6 distinct nodes, \d+ evaluations \(\d+ saved by sharing\), \d+ ms$/,
  );
  assert.ok(run.out.includes("cli_sma_10_30: outputs signal"));
  assert.ok(
    run.out.some((l) =>
      /^ {2}signal +Signal +\d+ +2024-01-03T23:59:00Z +-?1$/.test(l)
    ),
  );
  const json = await qmtl([...args, "--json"], {});
  expectCode(json, EXIT.OK, "backtest --json");
  const parsed = JSON.parse(json.out.join("\n"));
  assert.equal(parsed.stats.records, 4320);
  assert.deepEqual(parsed.strategies.map((s: { name: string }) => s.name), [
    "cli_sma_10_30",
    "cli_sma_10_60",
  ]);
  assert.equal(parsed.strategies[0].nodes.btc_close.emitted, 4320);
  // Usage mistakes.
  expectCode(
    await qmtl(args.slice(0, 2), {}),
    EXIT.USAGE,
    "backtest without --csv",
  );
  const badCol = await qmtl([...args.slice(0, 6), "--column", "nope"], {});
  expectCode(badCol, EXIT.USAGE, "bad --column");
  assert.match(badCol.err, /expected NAME=TAG/);
  const noCol = await qmtl(
    [...args.slice(0, 6), "--column", "missing=btc,close"],
    {},
  );
  expectCode(noCol, EXIT.USAGE, "unknown CSV column");
  assert.match(noCol.err, /no column "missing"/);
  const noStrategies = await qmtl(
    ["backtest", "examples/data/generate_prices.ts", ...args.slice(2)],
    {},
  );
  expectCode(noStrategies, EXIT.USAGE, "file without strategies");
  assert.match(noStrategies.err, /exports no strategy/);
});

Deno.test("cli: every server command against deno task serve, with the documented exit codes", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "qmtl-cli-state-" });
  const srv = await startServe({ env: { QMTL_STATE_DIR: stateDir } });
  const env = {
    QMTL_URL: srv.url,
    QMTL_TOKEN: srv.token!,
    QMTL_STATE_DIR: stateDir,
  };
  try {
    // submit: progress, then again (idempotent), then --json
    const first = await qmtl(["submit", "examples/strategies.ts"], env);
    expectCode(first, EXIT.OK, "submit");
    assert.match(
      first.out[0],
      /^cli_sma_10_30 \(4 nodes\) → st_\w+: QUEUED$/,
    );
    assert.ok(
      first.out.some((l) =>
        /^ {2}COMPLETED after \d+ ms: 4 nodes created, 0 reused$/.test(l)
      ),
      first.out.join("\n"),
    );
    assert.ok(
      first.out.some((l) =>
        /^ {2}COMPLETED after \d+ ms: 2 nodes created, 2 reused$/.test(l)
      ),
      first.out.join("\n"),
    );
    const again = await qmtl(
      ["submit", "examples/strategies.ts", "--json"],
      env,
    );
    expectCode(again, EXIT.OK, "submit --json");
    const results = JSON.parse(again.out.join("\n"));
    assert.equal(results.length, 2);
    assert.equal(results[0].duplicate, true);
    assert.equal(results[0].state, "COMPLETED");
    const id: string = results[0].strategyId;
    const second: string = results[1].strategyId;

    // status
    const st = await qmtl(["status", id], env);
    expectCode(st, EXIT.OK, "status");
    assert.match(
      st.out[0],
      new RegExp(`^${id}  cli_sma_10_30  version 1  COMPLETED$`),
    );
    assert.ok(st.out.includes("queue map:"));
    const stJson = JSON.parse(
      (await qmtl(["status", id, "--json"], env)).out[0],
    );
    assert.equal(stJson.state, "COMPLETED");
    assert.equal(Object.keys(stJson.queueMap).length, 4);
    expectCode(
      await qmtl(["status", "st_nope"], env),
      EXIT.NOT_FOUND,
      "status unknown",
    );

    // events: replay to the terminal state
    const ev = await qmtl(["events", id], env);
    expectCode(ev, EXIT.OK, "events");
    assert.deepEqual(ev.out.map((l) => l.split(/\s+/)[2]), [
      "QUEUED",
      "PROCESSING",
      "COMPLETED",
    ]);
    const evJson = await qmtl(["events", id, "--json"], env);
    const lines = evJson.out.map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).state, "COMPLETED");
    expectCode(
      await qmtl(["events", "st_nope"], env),
      EXIT.NOT_FOUND,
      "events unknown",
    );
    // after the last event nothing more comes: --timeout, then Ctrl-C
    const last = lines.at(-1).cursor;
    const waited = await qmtl(
      ["events", id, "--after", last, "--timeout", "1"],
      env,
    );
    expectCode(waited, EXIT.TIMEOUT, "events --timeout");
    await ctrlC(["events", id, "--after", last], env);

    // nodes
    const nodes = await qmtl(
      ["nodes", "--tags", "btc,close", "--mode", "all"],
      env,
    );
    expectCode(nodes, EXIT.OK, "nodes");
    assert.match(nodes.out[0], /^NAME +TYPE +INTERVAL +REFS +TOPIC +NODE$/);
    assert.match(
      nodes.out[1],
      /^btc_close +StreamInput +60s +2 +BTC_StreamInput_\w+_v1 +sha256:/,
    );
    const all = JSON.parse((await qmtl(["nodes", "--json"], env)).out[0]);
    assert.equal(all.length, 6);
    expectCode(
      await qmtl(["nodes", "--mode", "some"], env),
      EXIT.USAGE,
      "nodes --mode",
    );

    // topics
    const topics = await qmtl(["topics"], env);
    expectCode(topics, EXIT.OK, "topics");
    assert.equal(topics.out.length, 7); // header + 6
    assert.equal(
      JSON.parse((await qmtl(["topics", "--json"], env)).out[0]).length,
      6,
    );

    // token: signs with the server's kept key; roles decide
    const tok = await qmtl([
      "token",
      "--roles",
      "submitter",
      "--subject",
      "sub",
    ], env);
    expectCode(tok, EXIT.OK, "token");
    const submitterToken = /^export QMTL_TOKEN=(\S+)$/.exec(tok.out[0])![1];
    const denied = await qmtl(["topics"], {
      ...env,
      QMTL_TOKEN: submitterToken,
    });
    expectCode(denied, EXIT.DENIED, "topics as a submitter");
    assert.match(denied.err, /E_FORBIDDEN/);
    const tokJson = JSON.parse(
      (await qmtl(["token", "--json", "--ttl", "60"], env)).out[0],
    );
    assert.equal(tokJson.keyFile, `${stateDir}/dev-jwt.key`);
    expectCode(
      await qmtl(["status", id], { ...env, QMTL_TOKEN: tokJson.token }),
      EXIT.OK,
      "status with a signed token",
    );
    expectCode(
      await qmtl(["token", "--roles", "admin"], env),
      EXIT.USAGE,
      "token --roles admin",
    );
    const noKey = await qmtl(["token"], {
      ...env,
      QMTL_STATE_DIR: `${stateDir}/none`,
    });
    expectCode(noKey, EXIT.USAGE, "token without a key");
    assert.match(noKey.err, /no such file/);

    // retire
    const ret = await qmtl(["retire", second], env);
    expectCode(ret, EXIT.OK, "retire");
    assert.match(ret.out[0], new RegExp(`^${second}  cli_sma_10_60  RETIRED$`));
    expectCode(
      await qmtl(["retire", "st_nope"], env),
      EXIT.NOT_FOUND,
      "retire unknown",
    );
    const afterRetire = await qmtl(["events", second], env);
    expectCode(afterRetire, EXIT.OK, "events of a retired strategy");
    assert.equal(afterRetire.out.at(-1)!.split(/\s+/)[2], "RETIRED");

    // credentials and reachability
    const badToken = await qmtl(["status", id], {
      ...env,
      QMTL_TOKEN: "x.y.z",
    });
    expectCode(badToken, EXIT.DENIED, "bad token");
    assert.match(badToken.err, /E_UNAUTHENTICATED/);
    const down = await qmtl(["status", id], {
      ...env,
      QMTL_URL: `http://127.0.0.1:${freePort()}`,
    });
    expectCode(down, EXIT.UNAVAILABLE, "no server");
    assert.match(down.err, /is the server running/);
  } finally {
    await srv.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
});

/** Ctrl-C while following: "interrupted", exit 130, at once. */
async function ctrlC(args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "sdk/cli/mod.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await new Promise((r) => setTimeout(r, 2_000)); // following by now
  const t0 = performance.now();
  child.kill("SIGINT");
  const out = await child.output();
  const ms = performance.now() - t0;
  assert.equal(
    out.code,
    EXIT.INTERRUPTED,
    new TextDecoder().decode(out.stderr),
  );
  assert.match(new TextDecoder().decode(out.stderr), /interrupted/);
  assert.ok(ms < MAX_EXIT_LAG_MS, `exited ${Math.round(ms)} ms after Ctrl-C`);
}

Deno.test("cli: docs/cli.md states the exit codes the CLI uses", async () => {
  const doc = await Deno.readTextFile(new URL("docs/cli.md", ROOT));
  for (const [code, what] of EXIT_MEANINGS) {
    assert.ok(
      doc.includes(`| ${code} `) && doc.includes(what),
      `docs/cli.md lacks exit code ${code}: ${what}`,
    );
  }
});
