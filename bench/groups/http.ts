/**
 * HTTP from outside: the reference server (`deploy/server.ts`, memory
 * backends) in its own process, loaded by `wrk` in another process, against
 * a bare `Deno.serve` peer process returning the identical response.
 *
 * - Three servers, all pinned to CPU 0 with `taskset`: the reference server
 *   at the default log level (`info`: one access-log line per request), the
 *   same at `QMTL_LOG_LEVEL=warn`, and the bare peer. wrk is pinned to CPU 1
 *   (`wrk -t2 -c50`). Without taskset or with one core, nothing is pinned
 *   and results.md says so.
 * - Each server's stdout/stderr is appended to a file (no reader in the
 *   bench process); the growth of that file over a round divided by wrk's
 *   request count is the log volume per request.
 * - Per route, after a warm-up of each target, rounds alternate
 *   server(info), server(warn), bare, …; figures are the medians of the
 *   rounds and the ratio is median ÷ median. Any wrk error (connect, read,
 *   write, timeout, status ≥ 400) fails the group.
 *
 * @module
 */

import { QmtlClient, StrategyBuilder } from "../../sdk/mod.ts";
import type { RecordedResponse } from "../http/bare_server.ts";
import {
  type Child,
  fileSize,
  freePort,
  hasProgram,
  output,
  spawnLogged,
  waitHttpOk,
} from "../harness/process.ts";
import {
  benchCredentials,
  childEnv,
  type ReferenceServer,
  startReferenceServer,
} from "../harness/reference_server.ts";
import { median } from "../harness/stats.ts";
import type {
  BenchGroup,
  Figure,
  GroupContext,
  GroupReport,
} from "../harness/types.ts";

/** wrk's summary line (see bench/http/wrk_report.lua). */
interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  errors: {
    connect: number;
    read: number;
    write: number;
    status: number;
    timeout: number;
  };
  latency_us: {
    p50: number;
    p90: number;
    p99: number;
    max: number;
    mean: number;
  };
}

interface Target {
  key: "info" | "warn" | "bare";
  label: string;
  base: string;
  child: Child;
  path: Record<string, string>; // route key → path on this target
}

interface Round {
  rps: number;
  p50us: number;
  p99us: number;
  logBytesPerRequest?: number;
}

const ROUTES = [
  {
    key: "strategy",
    label: "GET /v1/strategies/:id (authenticated)",
    auth: true,
    minRatio: 0.8,
  },
  {
    key: "healthz",
    label: "GET /healthz (no auth)",
    auth: false,
    minRatio: 0.95,
  },
] as const;

async function runWrk(
  url: string,
  seconds: number,
  token: string | undefined,
  cpus: string | undefined,
  lua: string,
): Promise<WrkResult> {
  const out = await output(
    ["wrk", "-t2", "-c50", `-d${seconds}s`, "-s", lua, url],
    { cpus, env: { QMTL_BENCH_TOKEN: token ?? "" } },
  );
  const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const r = JSON.parse(line.slice("WRK_JSON ".length)) as WrkResult;
  const e = r.errors;
  const errors = e.connect + e.read + e.write + e.status + e.timeout;
  if (errors > 0 || r.requests === 0) {
    throw new Error(
      `wrk against ${url}: ${r.requests} requests, errors ${JSON.stringify(e)}`,
    );
  }
  return r;
}

async function record(
  url: string,
  headers: HeadersInit,
): Promise<RecordedResponse> {
  const r = await fetch(url, { headers });
  const body = await r.text();
  return {
    status: r.status,
    headers: [...r.headers].filter(([k]) =>
      k !== "date" && k !== "content-length"
    ),
    body,
  };
}

/** Fails unless the peer answers exactly like the server (x-request-id aside). */
function assertSameShape(
  path: string,
  server: RecordedResponse,
  peer: RecordedResponse,
) {
  const names = (r: RecordedResponse) =>
    r.headers.map(([k]) => k).sort().join(",");
  const values = (r: RecordedResponse) =>
    r.headers.filter(([k]) => k !== "x-request-id").map(([k, v]) => `${k}=${v}`)
      .sort().join(
        "\n",
      );
  if (
    server.status !== peer.status || names(server) !== names(peer) ||
    values(server) !== values(peer) || server.body !== peer.body
  ) {
    throw new Error(
      `bare peer does not mirror the server on ${path}:\nserver ${
        JSON.stringify(server)
      }\npeer ${JSON.stringify(peer)}`,
    );
  }
}

function startServer(
  ctx: GroupContext,
  key: "info" | "warn",
  secret: string,
  cpus: string | undefined,
): Promise<ReferenceServer> {
  return startReferenceServer(
    ctx.root,
    {
      QMTL_JWT_SECRET: secret,
      ...(key === "warn" ? { QMTL_LOG_LEVEL: "warn" } : {}),
    },
    `${ctx.tmpDir}/server-${key}.log`,
    cpus,
  );
}

async function submitSample(base: string, token: string): Promise<string> {
  const client = new QmtlClient({ url: base, token });
  const s = new StrategyBuilder("http-bench");
  const price = s.streamInput({
    name: "price",
    tags: ["bench"],
    intervalS: 60,
    period: 1,
  });
  const fast = s.processing({
    name: "sma_fast",
    inputs: [price],
    intervalS: 60,
    period: 5,
    params: { window: 5 },
    compute: (v) =>
      v.values.reduce((a: number, b: number) => a + b, 0) / v.length,
  });
  s.processing({
    name: "signal",
    nodeType: "Signal",
    inputs: [fast],
    intervalS: 60,
    period: 1,
    compute: (v) => Math.sign(v.last),
  });
  const ack = await client.submit(s, { version: "1" });
  await client.waitFor(ack.strategyId, "COMPLETED", {
    timeoutMs: 30_000,
    pollMs: 50,
  });
  return ack.strategyId;
}

async function run(ctx: GroupContext): Promise<GroupReport> {
  const cores = navigator.hardwareConcurrency;
  const pin = cores >= 2 && await hasProgram("taskset");
  const serverCpus = pin ? "0" : undefined;
  const wrkCpus = pin ? "1" : undefined;
  const seconds = ctx.quick ? 1 : 10;
  const warmSeconds = ctx.quick ? 0 : 3;
  const rounds = ctx.quick ? 1 : 3;
  const lua = new URL("bench/http/wrk_report.lua", ctx.root).pathname;

  const { secret, token } = await benchCredentials("bench", [
    "reader",
    "submitter",
  ]);

  ctx.log("http: starting the reference server (info, warn) and the bare peer");
  const [info, warn] = await Promise.all([
    startServer(ctx, "info", secret, serverCpus),
    startServer(ctx, "warn", secret, serverCpus),
  ]);
  const [infoId, warnId] = await Promise.all([
    submitSample(info.base, token),
    submitSample(warn.base, token),
  ]);
  const auth = { authorization: `Bearer ${token}` };
  const strategyPath = `/v1/strategies/${infoId}`;
  const recorded: Record<string, RecordedResponse> = {
    [strategyPath]: await record(info.base + strategyPath, auth),
    "/healthz": await record(info.base + "/healthz", {}),
  };
  for (const [path, r] of Object.entries(recorded)) {
    if (r.status !== 200) {
      throw new Error(`${path} answered ${r.status}: ${r.body}`);
    }
  }
  const specFile = `${ctx.tmpDir}/bare-responses.json`;
  await Deno.writeTextFile(specFile, JSON.stringify(recorded));
  const barePort = freePort();
  const bareChild = spawnLogged(
    [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      new URL("bench/http/bare_server.ts", ctx.root).pathname,
      String(barePort),
      specFile,
    ],
    { env: childEnv({}), logFile: `${ctx.tmpDir}/bare.log`, cpus: serverCpus },
  );
  const bareBase = `http://127.0.0.1:${barePort}`;
  await waitHttpOk(`${bareBase}/healthz`, bareChild);
  for (const [path, r] of Object.entries(recorded)) {
    assertSameShape(path, r, await record(bareBase + path, auth));
  }

  const targets: Target[] = [
    {
      key: "info",
      label: "server, log level info (default)",
      base: info.base,
      child: info,
      path: { strategy: strategyPath, healthz: "/healthz" },
    },
    {
      key: "warn",
      label: "server, QMTL_LOG_LEVEL=warn",
      base: warn.base,
      child: warn,
      path: { strategy: `/v1/strategies/${warnId}`, healthz: "/healthz" },
    },
    {
      key: "bare",
      label: "bare Deno.serve",
      base: bareBase,
      child: bareChild,
      path: { strategy: strategyPath, healthz: "/healthz" },
    },
  ];

  const figures: Figure[] = [];
  for (const route of ROUTES) {
    const tok = route.auth ? token : undefined;
    if (warmSeconds > 0) {
      for (const t of targets) {
        ctx.log(`http: warm-up ${route.key} ${t.key} ${warmSeconds}s`);
        await runWrk(
          t.base + t.path[route.key],
          warmSeconds,
          tok,
          wrkCpus,
          lua,
        );
      }
    }
    const results: Record<Target["key"], Round[]> = {
      info: [],
      warn: [],
      bare: [],
    };
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        const before = await fileSize(t.child.logFile);
        const w = await runWrk(
          t.base + t.path[route.key],
          seconds,
          tok,
          wrkCpus,
          lua,
        );
        const after = await fileSize(t.child.logFile);
        const round: Round = {
          rps: w.requests / (w.duration_us / 1e6),
          p50us: w.latency_us.p50,
          p99us: w.latency_us.p99,
          ...(t.key === "bare"
            ? {}
            : { logBytesPerRequest: (after - before) / w.requests }),
        };
        results[t.key].push(round);
        ctx.log(
          `http: ${route.key} ${t.key} round ${r + 1}/${rounds}: ${
            Math.round(round.rps)
          } req/s`,
        );
      }
    }
    const med = (k: Target["key"], f: (x: Round) => number) =>
      median(results[k].map(f));
    const bareRps = med("bare", (x) => x.rps);
    const list = (k: Target["key"]) =>
      results[k].map((x) => Math.round(x.rps)).join(", ");
    const latency = (k: Target["key"]) =>
      `latency p50 ${(med(k, (x) => x.p50us) / 1000).toFixed(2)} ms, p99 ${
        (med(k, (x) => x.p99us) / 1000).toFixed(2)
      } ms`;
    for (const t of targets.slice(0, 2)) {
      const rps = med(t.key, (x) => x.rps);
      const ratio = rps / bareRps;
      const perRound = results[t.key].map((x, i) =>
        (100 * x.rps / results.bare[i].rps).toFixed(1)
      ).join(", ");
      figures.push({
        name: `${route.label}, ${t.label}`,
        value: rps,
        unit: "req/s",
        peer: { name: "bare Deno.serve, identical response", value: bareRps },
        ratio,
        ratioNote: "% of bare",
        ...(t.key === "info"
          ? {
            target: {
              text: `≥ ${Math.round(route.minRatio * 100)} % of bare`,
              met: ratio >= route.minRatio,
            },
          }
          : {}),
        detail: `rounds ${list(t.key)} req/s (bare ${
          list("bare")
        }); per-round % of bare ${perRound}; ${latency(t.key)} (bare ${
          latency("bare").slice(8)
        })`,
      });
    }
    for (const t of targets.slice(0, 2)) {
      const bytes = med(t.key, (x) => x.logBytesPerRequest ?? 0);
      figures.push({
        name: `server log volume, ${route.label}, ${t.label}`,
        value: bytes,
        unit: "bytes/request",
        detail:
          `growth of the server's stdout+stderr file over each round ÷ requests; rounds ${
            results[t.key].map((x) => (x.logBytesPerRequest ?? 0).toFixed(1))
              .join(", ")
          }`,
      });
    }
  }

  return {
    figures,
    notes: [
      pin
        ? "Pinning: the three servers (reference server at info, at warn, bare peer) are each `taskset -c 0`; wrk is `taskset -c 1`. Only one server is loaded at a time."
        : `Not pinned (${cores} core(s) or no taskset): servers and wrk share the CPUs.`,
      `wrk -t2 -c50 -d${seconds}s per round, ${rounds} round(s) per target alternated (info, warn, bare, info, …) after a ${warmSeconds} s warm-up of each; medians quoted; ratio = median ÷ median of bare.`,
      "Server: `deno run --allow-net --allow-env --allow-read --allow-sys deploy/server.ts` (what `deno task serve` runs), memory backends, HS256 secret, stdout+stderr appended to a file. Peer: bench/http/bare_server.ts replaying the server's recorded status, headers and body (a fresh x-request-id per response), checked identical before the run.",
      "wrk runs bench/http/wrk_report.lua, which adds `Authorization: Bearer …` on the authenticated route (sent to the peer too) and reports requests, errors and latency.",
    ],
  };
}

/** The HTTP group. */
export const httpGroup: BenchGroup = {
  name: "http",
  title: "HTTP from outside (wrk → server process)",
  description:
    "Requests/s of the reference server under wrk, each in its own process, against a bare `Deno.serve` peer process sending the identical response.",
  needs: [],
  programs: ["wrk"],
  run,
};
