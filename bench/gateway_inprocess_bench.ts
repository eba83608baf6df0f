/**
 * In-process cost of one authenticated `GET /v1/strategies/:id` through the
 * gateway (`app.fetch` on pre-built `Request`s, best of 7 × 5,000) next to a
 * one-route Hono app returning the same JSON:
 * `deno run -A bench/gateway_inprocess_bench.ts`.
 *
 * A profiler aid only (e.g. with `--cpu-prof`): no network, no process
 * boundary, so it hides the server's real cost. The HTTP ratio that is
 * quoted comes from `deno task bench --only http` (wrk against the server
 * process). Not run by `deno task bench`.
 *
 * @module
 */

import { Hono } from "hono";
import { createLogger } from "../lib/gateway/mod.ts";
import {
  chain,
  client,
  closeAll,
  dag,
  memoryGateway,
  token,
} from "../tests/gateway/helpers.ts";

const gw = memoryGateway({
  logger: createLogger({ sink: () => {} }),
  worker: { autoStart: false },
});
const tok = await token("bench", ["reader", "submitter"]);
const ack = await client(gw, tok).submitStrategy({
  dag: dag("g", chain("g", 3)),
  version: "1",
});
const url = `http://localhost/v1/strategies/${ack.strategyId}`;
const headers = { authorization: `Bearer ${tok}` };
const body = await (await gw.app.request(url, { headers })).text();
const one = new Hono();
one.get(
  "/v1/strategies/:id",
  (c) => c.body(body, 200, { "content-type": "application/json" }),
);

async function perRequestUs(
  fetch: (r: Request) => Response | Promise<Response>,
): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const reqs = Array.from(
      { length: 5000 },
      () => new Request(url, { headers }),
    );
    const t0 = performance.now();
    for (const r of reqs) {
      const res = await fetch(r);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    }
    best = Math.min(best, (performance.now() - t0) / 5000 * 1000);
  }
  return best;
}

console.log(
  `one-route Hono app:  ${(await perRequestUs(one.fetch)).toFixed(2)} µs`,
);
console.log(
  `gateway:             ${(await perRequestUs(gw.app.fetch)).toFixed(2)} µs`,
);
await closeAll(gw);
