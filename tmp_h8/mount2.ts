import { Hono } from "hono";
import { createGateway, signDevToken } from "../lib/gateway/mod.ts";
import { MemoryRegistry } from "../lib/dag/mod.ts";
import { MemoryEventLog, MemoryQueue } from "../lib/queue/mod.ts";
import { QmtlClient, StrategyBuilder } from "../sdk/mod.ts";
const auth = { secret: "s".repeat(32), issuer: "q", audience: "a" };
const gw = createGateway({ registry: new MemoryRegistry(), queue: new MemoryQueue(), events: new MemoryEventLog(), auth, logSuccess: false });
const app = new Hono();
app.route("/qmtl", gw.app as never);
const srv = Deno.serve({ port: 0, onListen() {} }, app.fetch);
const token = await signDevToken({ ...auth, subject: "me", roles: ["submitter", "reader"], ttlS: 60 });
const client = new QmtlClient({ url: `http://127.0.0.1:${srv.addr.port}/qmtl`, token });
const s = new StrategyBuilder("m");
s.streamInput({ name: "p", tags: ["x"], intervalS: 60, period: 1 });
const ack = await client.submit(s, { version: "1" });
const st = await client.waitFor(ack.strategyId, "COMPLETED", { timeoutMs: 5000 });
console.log(st.state);
for await (const e of client.events(ack.strategyId)) { console.log(e.type, e.state); if (e.state === "COMPLETED") break; }
await srv.shutdown(); await gw.close();
