/**
 * The reference server under a connection flood with a low open-file limit
 * (`ulimit -n 256`, 400 connections that never send a request): it keeps
 * serving a canary and does not exit. Run as a subprocess so that the limit
 * applies to the server only.
 *
 * Two configurations: a connection cap below the limit (the flood is refused
 * with 503 before descriptors run out) and the default cap, above the limit
 * (so `accept` fails with EMFILE and the server must back off, shed
 * connections that have no request in flight, and carry on).
 */
import assert from "node:assert/strict";
import { closeQuietly, connect, rawGet } from "../gateway/raw_http.ts";

const root = new URL("../../", import.meta.url);
const FLOOD = 400;

interface Child {
  port: number;
  log: () => string;
  child: Deno.ChildProcess;
  exited: () => boolean;
}

async function startServer(env: Record<string, string>): Promise<Child> {
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("QMTL_")),
  );
  const child = new Deno.Command("bash", {
    args: [
      "-c",
      `ulimit -n 256; exec "${Deno.execPath()}" run --allow-net --allow-env --allow-read --allow-sys deploy/server.ts`,
    ],
    cwd: root,
    env: { ...base, NO_COLOR: "1", QMTL_PORT: "0", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let exited = false;
  child.status.then(() => exited = true);
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const t of s.pipeThrough(new TextDecoderStream())) out += t;
  };
  drain(child.stdout).catch(() => {});
  drain(child.stderr).catch(() => {});
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !exited) {
    const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
    if (m) {
      return {
        port: Number(m[1]),
        log: () => out,
        child,
        exited: () => exited,
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // gone
  }
  await child.status;
  throw new Error(`server did not start:\n${out}`);
}

/** Open up to `n` connections (each bounded to 2 s); returns those that opened. */
async function flood(port: number, n: number): Promise<Deno.TcpConn[]> {
  const settled = await Promise.allSettled(
    Array.from({ length: n }, () => {
      const c = connect(port);
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([
        c,
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => {
            c.then(closeQuietly, () => {});
            rej(new Error("connect timeout"));
          }, 2_000);
        }),
      ]).finally(() => clearTimeout(timer));
    }),
  );
  return settled.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
}

/** GET /healthz on a fresh connection until it answers 200 (bounded). */
async function freshCanary(port: number, withinMs: number): Promise<number> {
  const t0 = Date.now();
  let last = "";
  while (Date.now() - t0 < withinMs) {
    let c: Deno.TcpConn | undefined;
    try {
      c = await connect(port);
      const r = await rawGet(c, "/healthz", 2_000);
      if (r.status === 200) return Date.now() - t0;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    } finally {
      if (c) closeQuietly(c);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `fresh canary not served within ${withinMs} ms (last: ${last})`,
  );
}

async function stop(s: Child): Promise<Deno.CommandStatus> {
  s.child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    s.child.status,
    new Promise<never>((_, rej) => {
      timer = setTimeout(
        () => rej(new Error("no exit 20 s after SIGTERM")),
        20_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  return status;
}

for (
  const [name, env] of [
    ["connection cap 150 (below the limit): the flood is refused with 503", {
      QMTL_HTTP_MAX_CONNECTIONS: "150",
    }],
    ["default cap 1024 (above the limit): EMFILE is survived", {}],
  ] as const
) {
  Deno.test(`hostile: ulimit -n 256, ${FLOOD} idle connections, ${name}; a canary is served, the process does not exit`, async () => {
    const s = await startServer({
      QMTL_HTTP_HEADER_TIMEOUT_MS: "3000",
      ...env,
    });
    const canary = await connect(s.port);
    let hostile: Deno.TcpConn[] = [];
    try {
      assert.equal((await rawGet(canary, "/healthz")).status, 200);
      hostile = await flood(s.port, FLOOD);
      assert.ok(hostile.length >= 300, `opened ${hostile.length} connections`);
      await new Promise((r) => setTimeout(r, 500));

      // The canary on its kept-alive connection is served during the flood.
      for (let i = 0; i < 5; i++) {
        const r = await rawGet(canary, "/healthz", 2_000);
        assert.equal(r.status, 200);
      }
      // A new client gets through once the flood is cut (header timeout
      // 3 s, or shedding under EMFILE).
      const took = await freshCanary(s.port, 10_000);
      assert.ok(!s.exited(), "the server is still running");

      if ("QMTL_HTTP_MAX_CONNECTIONS" in env) {
        assert.match(s.log(), /http connection cap reached; refusing with 503/);
        assert.doesNotMatch(s.log(), /EMFILE|Too many open files/);
      } else {
        assert.match(s.log(), /http accept failed; retrying.*"code":"EMFILE"/);
      }
      console.log(`  fresh canary served after ${took} ms`);
    } finally {
      closeQuietly(canary);
      for (const h of hostile) closeQuietly(h);
      const status = await stop(s);
      assert.equal(status.code, 0, s.log().slice(-2000));
      assert.doesNotMatch(s.log(), /Too many open files \(os error 24\)\s*$/);
    }
  });
}
