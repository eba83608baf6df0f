/**
 * Gateway benchmarks (`deno run -A bench/gateway_bench.ts`):
 *
 * 1. GET throughput through the full middleware stack (request id, JSON log
 *    line formatted and discarded, error mapper, JWT auth with its verified-
 *    token cache, ACL, handler) vs a bare `Deno.serve` handler returning the
 *    same JSON. Same process, same client (64 concurrent keep-alive fetch
 *    loops, 3 s per round, best of 2 rounds).
 * 2. SubmitStrategy → COMPLETED latency, p50/p95 over 10 submissions of a
 *    fresh 1,000-node DAG each, on memory backends and (when
 *    QMTL_NEO4J_URL / QMTL_REDIS_URL are set) on Neo4j + Redis Sentinel.
 *
 * @module
 */

import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import {
  GetStrategyRequestSchema,
  GetStrategyResponseSchema,
  StrategyState,
  SubmitStrategyRequestSchema,
  SubmitStrategyResponseSchema,
} from "../lib/contracts/mod.ts";
import { loadConfig } from "../deploy/config.ts";
import { startServer } from "../deploy/server.ts";
import { createLogger } from "../lib/gateway/mod.ts";
import {
  chain,
  dag,
  memoryGateway,
  node,
  rpcRaw,
  SECRET,
  token,
} from "../tests/gateway/helpers.ts";

const CONCURRENCY = 64;
const ROUND_MS = 3_000;

async function load(
  url: string,
  headers: Record<string, string>,
): Promise<number> {
  let n = 0;
  const end = Date.now() + ROUND_MS;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < end) {
      const r = await fetch(url, { headers });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      n++;
    }
  }));
  return n / (ROUND_MS / 1000);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function bigDag(salt: string) {
  const src = node(`src-${salt}`, { type: "StreamInput", params: { salt } });
  // 1,000 nodes: a source plus 37 chains of 27 nodes.
  const nodes = [src];
  for (let c = 0; nodes.length < 1000; c++) {
    nodes.push(
      ...chain(`c${c}-${salt}-`, Math.min(27, 1000 - nodes.length), src),
    );
  }
  return dag(`bench-${salt}`, nodes);
}

type Remote = Parameters<typeof rpcRaw>[0];

/** One binary Connect call (raw HTTP: measures the server, not a client). */
async function call<I extends DescMessage, O extends DescMessage>(
  gw: Remote,
  method: string,
  input: I,
  req: MessageInitShape<I>,
  output: O,
  tok: string,
): Promise<MessageShape<O>> {
  const res = await rpcRaw(
    gw,
    method,
    toBinary(input, create(input, req)),
    tok,
  );
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new Error(
      `${method}: HTTP ${res.status} ${new TextDecoder().decode(bytes)}`,
    );
  }
  return fromBinary(output, bytes);
}

async function submitLatency(gw: Remote, runs: number): Promise<number[]> {
  const tok = await token("bench", ["submitter", "reader"]);
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const d = bigDag(crypto.randomUUID());
    const t0 = performance.now();
    const ack = await call(
      gw,
      "SubmitStrategy",
      SubmitStrategyRequestSchema,
      { dag: d, version: "1" },
      SubmitStrategyResponseSchema,
      tok,
    );
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { status } = await call(
        gw,
        "GetStrategy",
        GetStrategyRequestSchema,
        { strategyId: ack.strategyId },
        GetStrategyResponseSchema,
        tok,
      );
      if (status?.state === StrategyState.COMPLETED) break;
      if (status?.state === StrategyState.FAILED) {
        throw new Error(`FAILED: ${status.error?.message}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    out.push(performance.now() - t0);
  }
  return out;
}

// ---- 1. GET throughput ------------------------------------------------------
const gw = memoryGateway({ logger: createLogger({ sink: () => {} }) });
const tok = await token("bench", ["reader", "submitter"]);
const ack = await call(
  gw,
  "SubmitStrategy",
  SubmitStrategyRequestSchema,
  { dag: dag("g", chain("g", 3)), version: "1" },
  SubmitStrategyResponseSchema,
  tok,
);
await new Promise((r) => setTimeout(r, 300));
const body = JSON.stringify(
  await (await gw.app.request(`/v1/strategies/${ack.strategyId}`, {
    headers: { authorization: `Bearer ${tok}` },
  })).json(),
);

const bare = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  () => new Response(body, { headers: { "content-type": "application/json" } }),
);
// The same response the gateway sends (status, body and every header), from
// a bare handler: isolates the middleware's cost from the cost of the
// headers the contract requires on every response.
const sample = await gw.app.request(`/v1/strategies/${ack.strategyId}`, {
  headers: { authorization: `Bearer ${tok}` },
});
await sample.body?.cancel();
const sameHeaders: [string, string][] = [...sample.headers].filter(([k]) =>
  k !== "content-length"
);
const bareSame = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  () =>
    new Response(body, {
      headers: sameHeaders.map(([k, v]) =>
        k === "x-request-id" ? [k, crypto.randomUUID()] : [k, v]
      ),
    }),
);
const full = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  gw.app.fetch,
);
const bareUrl =
  `http://127.0.0.1:${bare.addr.port}/v1/strategies/${ack.strategyId}`;
const bareSameUrl =
  `http://127.0.0.1:${bareSame.addr.port}/v1/strategies/${ack.strategyId}`;
const fullUrl =
  `http://127.0.0.1:${full.addr.port}/v1/strategies/${ack.strategyId}`;
const auth = { authorization: `Bearer ${tok}` };
let bestBare = 0, bestBareSame = 0, bestFull = 0;
for (let round = 0; round < 2; round++) {
  bestBare = Math.max(bestBare, await load(bareUrl, auth));
  bestBareSame = Math.max(bestBareSame, await load(bareSameUrl, auth));
  bestFull = Math.max(bestFull, await load(fullUrl, auth));
}
await bare.shutdown();
await bareSame.shutdown();
await full.shutdown();
console.log(`GET bare Deno.serve:        ${bestBare.toFixed(0)} req/s`);
console.log(
  `GET bare, same response:    ${
    bestBareSame.toFixed(0)
  } req/s (identical status, body, headers)`,
);
console.log(`GET full middleware stack:  ${bestFull.toFixed(0)} req/s`);
console.log(
  `ratio:                      ${
    (100 * bestFull / bestBare).toFixed(1)
  } % of bare (target ≥ 80 %)`,
);
console.log(
  `ratio, same response:       ${
    (100 * bestFull / bestBareSame).toFixed(1)
  } % of bare sending the identical response`,
);

// ---- 2. SubmitStrategy → COMPLETED, memory -----------------------------------
const mem = await submitLatency(gw, 10);
console.log(
  `submit→COMPLETED 1,000 nodes, memory:  p50 ${
    pct(mem, 50).toFixed(1)
  } ms  p95 ${pct(mem, 95).toFixed(1)} ms`,
);
await gw.close();
await gw.queue.close();
await gw.events.close();
await gw.registry.close();

// ---- 3. SubmitStrategy → COMPLETED, Neo4j + Redis Sentinel ------------------
const neo4jUrl = Deno.env.get("QMTL_NEO4J_URL");
const redisUrl = Deno.env.get("QMTL_REDIS_URL");
if (neo4jUrl && redisUrl) {
  const srv = await startServer(
    loadConfig({
      QMTL_NEO4J_URL: neo4jUrl,
      QMTL_REDIS_URL: redisUrl,
      QMTL_NEO4J_MIGRATE: "auto",
      QMTL_JWT_SECRET: SECRET,
      QMTL_PORT: "0",
    }),
    {
      quiet: true,
      redisPrefix: `qmtl:gwbench:${crypto.randomUUID()}:`,
      logger: createLogger({ sink: () => {} }),
    },
  );
  const remote: Remote = {
    app: {
      request: (p: string | URL | Request, i?: RequestInit) =>
        fetch(srv.url + String(p), i),
    },
  };
  const real = await submitLatency(remote, 10);
  console.log(
    `submit→COMPLETED 1,000 nodes, Neo4j + Redis Sentinel:  p50 ${
      pct(real, 50).toFixed(1)
    } ms  p95 ${pct(real, 95).toFixed(1)} ms`,
  );
  await srv.stop();
} else {
  console.log(
    "submit→COMPLETED on real backends: skipped (QMTL_NEO4J_URL / QMTL_REDIS_URL not set)",
  );
}
