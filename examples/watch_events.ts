/**
 * Follow a strategy's lifecycle events live (server-sent events, resumed
 * automatically after a dropped connection). With a strategy ID argument it
 * follows that strategy; without one it submits a small strategy first.
 * Stops at COMPLETED (exit 0), FAILED or RETIRED (exit 1), or after
 * `QMTL_WATCH_TIMEOUT_MS` (default 30 s, exit 1).
 *
 *     QMTL_TOKEN=<token> deno run -A examples/watch_events.ts [strategy-id]
 *
 * @module
 */

import { StrategyBuilder } from "@qmtl/qmtl/sdk";
import { clientFromEnv } from "./common/env_client.ts";

const client = clientFromEnv();
const timeoutMs = Number(Deno.env.get("QMTL_WATCH_TIMEOUT_MS") ?? 30_000);

let strategyId = Deno.args[0];
if (!strategyId) {
  const s = new StrategyBuilder("watch_demo");
  const price = s.streamInput({
    name: "sol_close",
    tags: ["sol", "close"],
    intervalS: 300,
    period: 1,
    asset: "SOL",
  });
  s.processing({
    name: "ema_12",
    inputs: [price],
    intervalS: 300,
    period: 12,
    params: { span: 12 },
    compute: (v, p) =>
      v.values.reduce(
        (ema: number, x: number) => ema + (2 / (p.span + 1)) * (x - ema),
        v.values[0],
      ),
  });
  const ack = await client.submit(s, { version: "1.0.0" });
  strategyId = ack.strategyId;
  console.log(`submitted watch_demo as ${strategyId}`);
}

console.log(`following events of ${strategyId} (up to ${timeoutMs} ms)…`);
const signal = AbortSignal.timeout(timeoutMs);
let final: string | undefined;
for await (const event of client.events(strategyId, { signal })) {
  const extra = event.state === "COMPLETED"
    ? ` (${Object.keys(event.data.queueMap ?? {}).length} topics)`
    : event.data.error
    ? ` (${event.data.error.code}: ${event.data.error.message})`
    : "";
  console.log(`${event.time}  ${event.type}  ${event.state ?? ""}${extra}`);
  if (
    event.state === "COMPLETED" || event.state === "FAILED" ||
    event.state === "RETIRED"
  ) {
    final = event.state;
    break;
  }
}
if (final === "COMPLETED") {
  console.log("done: strategy completed");
} else {
  console.log(
    final
      ? `done: strategy ${final}`
      : "timed out before the strategy completed",
  );
  Deno.exit(1);
}
