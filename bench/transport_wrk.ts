/**
 * HTTP transport comparison with wrk (`deno run -A bench/transport_wrk.ts
 * [--rounds=5] [--seconds=5] [--connections=64] [--variants=a,b,…]`).
 *
 * Starts every variant of `bench/transport_server.ts` as its own process
 * (gateway on memory backends, same seeded strategy), then, for each round,
 * runs `wrk -t1 -c<connections> -d<seconds>s` against each variant in turn
 * (the order rotates every round) on `GET /healthz` and on an authenticated
 * `GET /v1/strategies/:id`. Reports the median req/s per variant and path,
 * and the median of the per-round ratios to `bare` (`Deno.serve` sending the
 * gateway's precomputed response) and to `deno-serve`
 * (`Deno.serve(gateway.app.fetch)`); and the server process's CPU time per
 * request (utime + stime from `/proc/<pid>/stat`, all threads), which is
 * steadier than req/s on a shared machine. Each round is bounded by wrk's
 * duration.
 *
 * Then a slowloris probe per variant: a head trickled one byte per 100 ms;
 * reports when the server cut it (header timeout 2 s in every variant that
 * has one; the probe gives up after 8 s).
 *
 * @module
 */

import { token } from "../tests/gateway/helpers.ts";

const args = Object.fromEntries(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string]),
);
const ROUNDS = Number(args.rounds ?? 5);
const SECONDS = Number(args.seconds ?? 5);
const CONNECTIONS = Number(args.connections ?? 64);
const VARIANTS = (args.variants ??
  "bare,deno-serve,engine-only,serve-gateway,serve-http,node-http,proxy").split(
    ",",
  );

interface Running {
  variant: string;
  port: number;
  strategyId: string;
  child: Deno.ChildProcess;
}

async function start(variant: string): Promise<Running> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./transport_server.ts", import.meta.url).pathname,
      `--variant=${variant}`,
      "--header-timeout-ms=2000",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = Date.now() + 30_000;
  while (!out.includes("\n")) {
    if (Date.now() > deadline) throw new Error(`${variant} did not start`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${variant} exited`);
    out += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const { port, strategyId } = JSON.parse(out.split("\n")[0]);
  return { variant, port, strategyId, child };
}

const CLK_TCK = Number(
  new TextDecoder().decode(
    (await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output()).stdout,
  ).trim(),
) || 100;

/** CPU time (user + system, all threads) of process `pid`, µs. */
function cpuUs(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat(5) (utime, stime) are 12 and 13 after ")".
  return (Number(rest[11]) + Number(rest[12])) * 1e6 / CLK_TCK;
}

/** One wrk run: req/s, and the server's CPU µs per request during it. */
async function measure(
  s: Running,
  url: string,
  headers: string[],
): Promise<{ rps: number; cpu: number }> {
  const c0 = cpuUs(s.child.pid);
  const { rps, requests } = await wrk(url, headers);
  return { rps, cpu: (cpuUs(s.child.pid) - c0) / requests };
}

async function wrk(
  url: string,
  headers: string[],
): Promise<{ rps: number; requests: number }> {
  const out = await new Deno.Command("wrk", {
    args: [
      "-t1",
      `-c${CONNECTIONS}`,
      `-d${SECONDS}s`,
      ...headers.flatMap((h) => ["-H", h]),
      url,
    ],
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!rps) throw new Error(`wrk output not understood:\n${text}`);
  if (/Non-2xx or 3xx responses/.test(text)) {
    throw new Error(`non-2xx answers from ${url}:\n${text}`);
  }
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  return { rps: Number(rps[1]), requests };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function slowloris(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = new TextEncoder().encode(
    "GET /healthz HTTP/1.1\r\nhost: t\r\nx-pad: " + "a".repeat(200) +
      "\r\n\r\n",
  );
  const t0 = Date.now();
  try {
    for (let i = 0; i < head.length && Date.now() - t0 < 8_000; i++) {
      await conn.write(head.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 100));
    }
    return `not cut within ${Date.now() - t0} ms`;
  } catch {
    return `cut after ${Date.now() - t0} ms`;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

const tok = await token("bench", ["reader", "submitter"]);
const servers: Running[] = [];
try {
  for (const v of VARIANTS) servers.push(await start(v));
  type Series = { healthz: number[]; auth: number[] };
  const results = new Map<string, Series>();
  const cpu = new Map<string, Series>();
  for (const s of servers) {
    results.set(s.variant, { healthz: [], auth: [] });
    cpu.set(s.variant, { healthz: [], auth: [] });
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const s of order) {
      const base = `http://127.0.0.1:${s.port}`;
      const r = results.get(s.variant)!, c = cpu.get(s.variant)!;
      const h = await measure(s, `${base}/healthz`, []);
      const a = await measure(s, `${base}/v1/strategies/${s.strategyId}`, [
        `authorization: Bearer ${tok}`,
      ]);
      r.healthz.push(h.rps);
      c.healthz.push(h.cpu);
      r.auth.push(a.rps);
      c.auth.push(a.cpu);
    }
    console.error(`round ${round + 1}/${ROUNDS} done`);
  }
  /**
   * One Markdown table: per variant and route, the median of `m` and the
   * median per-round ratio to `bare` and to `deno-serve` — the reference's
   * figure over the variant's when `lowerIsBetter` (CPU), else the inverse.
   */
  const table = (
    header: string,
    m: Map<string, Series>,
    digits: number,
    lowerIsBetter: boolean,
  ) => {
    const versus = (v: string, to: string, k: "healthz" | "auth") => {
      const a = m.get(v)![k], b = m.get(to)?.[k];
      if (!b) return "—";
      const r = a.map((x, i) => lowerIsBetter ? b[i] / x : x / b[i]);
      return (100 * median(r)).toFixed(1) + " %";
    };
    console.log(header);
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const { variant: v } of servers) {
      const cells = (["healthz", "auth"] as const).flatMap((k) => [
        median(m.get(v)![k]).toFixed(digits),
        versus(v, "bare", k),
        versus(v, "deno-serve", k),
      ]);
      console.log(`| ${v} | ${cells.join(" | ")} |`);
    }
  };
  console.log(
    `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} interleaved rounds, medians\n`,
  );
  table(
    "| variant | GET /healthz req/s | ÷ bare | ÷ deno-serve | auth GET req/s | ÷ bare | ÷ deno-serve |",
    results,
    0,
    false,
  );
  // CPU per request is steadier than req/s on a shared machine: a neighbour
  // slows both client and server, but not the work one request costs.
  console.log(
    "\nserver CPU per request (µs, median) and efficiency (CPU of the reference ÷ CPU of the variant, median of rounds)\n",
  );
  table(
    "| variant | /healthz µs/req | vs bare | vs deno-serve | auth GET µs/req | vs bare | vs deno-serve |",
    cpu,
    1,
    true,
  );
  console.log("\nraw req/s per round:");
  for (const [v, r] of results) {
    console.log(
      `  ${v}: healthz ${r.healthz.map((x) => x.toFixed(0)).join(", ")}; auth ${
        r.auth.map((x) => x.toFixed(0)).join(", ")
      }`,
    );
  }
  console.log("\nslowloris probe (head trickled 1 byte / 100 ms):");
  for (const s of servers) {
    console.log(`  ${s.variant}: ${await slowloris(s.port)}`);
  }
} finally {
  for (const s of servers) {
    try {
      s.child.kill("SIGTERM");
    } catch { /* gone */ }
    await s.child.status;
  }
}
