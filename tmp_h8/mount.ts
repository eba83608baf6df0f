import { Hono } from "hono";
import { createGateway } from "../lib/gateway/mod.ts";
import { MemoryRegistry } from "../lib/dag/mod.ts";
import { MemoryEventLog, MemoryQueue } from "../lib/queue/mod.ts";
const gw = createGateway({ registry: new MemoryRegistry(), queue: new MemoryQueue(), events: new MemoryEventLog(), auth: { secret: "s".repeat(32), issuer: "q", audience: "a" }, worker: { autoStart: false }, logSuccess: false });
const app = new Hono();
app.get("/", (c) => c.text("mine"));
if (Deno.args[0] === "mount") app.mount("/qmtl", gw.app.fetch);
else app.route("/qmtl", gw.app as never);
const srv = Deno.serve({ port: 0, onListen() {} }, app.fetch);
for (const p of ["/", "/qmtl/healthz", "/qmtl/v1/strategies", "/qmtl/nope", "/qmtl/openapi.json"]) {
  const r = await fetch(`http://127.0.0.1:${srv.addr.port}${p}`);
  console.log(p, r.status, (await r.text()).slice(0, 80));
}
const r = await fetch(`http://127.0.0.1:${srv.addr.port}/qmtl/v1/strategies`, { method: "POST" });
console.log("POST", r.status, r.headers.get("allow"), (await r.text()).slice(0,60));
await srv.shutdown(); await gw.close();
