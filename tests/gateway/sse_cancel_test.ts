import assert from "node:assert/strict";
import { closeAll, memoryGateway, token, waitFor } from "./helpers.ts";

function openStreams(text: string): number {
  const m = /^qmtl_sse_streams (\d+)$/m.exec(text);
  return m ? Number(m[1]) : -1;
}

Deno.test("sse: a client going away cancels its stream (no request signal, no timer left behind)", async () => {
  const gw = memoryGateway({
    worker: { autoStart: false },
    sse: { pollMs: 200, heartbeatMs: 50 },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    gw.app.fetch,
  );
  try {
    const tok = await token("alice", ["reader"]);
    const url = `http://127.0.0.1:${server.addr.port}/v1/events`;
    for (let i = 0; i < 3; i++) {
      const ac = new AbortController();
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${tok}` },
        signal: ac.signal,
      });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assert.match(first, /qmtl event stream/);
      assert.equal(openStreams(await gw.metrics.render()), 1);
      // Let the stream poll, pace and send heartbeats for a while.
      await new Promise((r) => setTimeout(r, 120));
      await reader.cancel();
      ac.abort();
      await waitFor(
        async () => openStreams(await gw.metrics.render()) === 0,
        5_000,
        "stream released",
      );
    }
  } finally {
    await server.shutdown();
    await closeAll(gw);
  }
  // Deno's op/timer sanitizers fail this test if a stream loop or one of
  // its timers outlived the connection.
});

Deno.test("sse: close() ends open streams at once", async () => {
  const gw = memoryGateway({
    worker: { autoStart: false },
    sse: { pollMs: 1_000, heartbeatMs: 10_000 },
  });
  const tok = await token("alice", ["reader"]);
  const res = await gw.app.request("/v1/events", {
    headers: { authorization: `Bearer ${tok}` },
  });
  const reader = res.body!.getReader();
  await reader.read();
  const t0 = Date.now();
  await closeAll(gw);
  while (!(await reader.read()).done) { /* drain */ }
  assert.ok(Date.now() - t0 < 1_500, `ended after ${Date.now() - t0} ms`);
});
