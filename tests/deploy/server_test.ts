import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  let seen = "";
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const timer = new Promise<{ done: true; value: undefined }>((r) =>
      setTimeout(
        () => r({ done: true, value: undefined }),
        deadline - Date.now(),
      )
    );
    const { done, value } = await Promise.race([reader.read(), timer]);
    if (done) break;
    seen += value;
    const m = pattern.exec(seen);
    if (m) return m;
  }
  throw new Error(`timed out waiting for ${pattern}; output so far:\n${seen}`);
}

Deno.test("server: `deno task serve` answers /healthz with no services configured", async () => {
  // The inherited environment minus every QMTL_* variable: no services.
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("QMTL_")),
  );
  env.QMTL_PORT = "0";
  env.NO_COLOR = "1";
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["task", "serve"],
    cwd: root,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const m = await readUntil(
      reader,
      /"url":"(http:\/\/127\.0\.0\.1:\d+)"/,
      30_000,
    );
    const res = await fetch(`${m[1]}/healthz`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "ok");
  } finally {
    child.kill("SIGTERM");
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel();
    await child.status;
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
