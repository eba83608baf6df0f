import assert from "node:assert/strict";
import { startServe } from "../support/server_process.ts";

const root = new URL("../../", import.meta.url);

Deno.test("server: `deno task serve` answers /healthz with no services configured", async () => {
  // Every inherited QMTL_* variable dropped: no services.
  const srv = await startServe();
  try {
    const res = await fetch(`${srv.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "ok");
  } finally {
    await srv.stop();
  }
});

Deno.test("server: a bad QMTL_* value stops the process naming the variable", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "deploy/server.ts",
    ],
    cwd: root,
    env: { QMTL_PORT: "not-a-port", NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 2);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /QMTL_PORT="not-a-port": expected a port number/,
  );
});
