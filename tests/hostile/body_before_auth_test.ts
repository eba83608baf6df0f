// Authentication before the body: the reference server (`deploy/server.ts`,
// its own process) receives 40 unauthenticated 8 MiB bodies spread over
// every route (RPC, REST, SSE, ops; declared and chunked lengths) plus
// bodies from an authenticated caller the ACL refuses. Each is answered
// 401/403 without the body being read or buffered: the server's resident
// memory, sampled every 10 ms, grows by at most a few MB, and the server
// closes each connection after its answer rather than draining the body.
import assert from "node:assert/strict";
import {
  SERVER_PERMISSIONS,
  withoutQmtl,
} from "../../deploy/drills/server_process.ts";
import { ROUTES } from "../../lib/gateway/mod.ts";
import { closeQuietly, connect } from "../gateway/raw_http.ts";
import { hfetch, SECRET, token } from "./harness.ts";
import { terminate } from "../support/child.ts";

const root = new URL("../../", import.meta.url);
const enc = new TextEncoder();
const MIB = 1024 * 1024;
const BODY = 8 * MIB;
const MAX_GROWTH = 8 * MIB;

function rssOf(pid: number): number {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(s);
  if (!m) throw new Error("no VmRSS");
  return Number(m[1]) * 1024;
}

interface Server {
  port: number;
  pid: number;
  log: () => string;
  stop: () => Promise<void>;
}

async function startServer(): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...SERVER_PERMISSIONS, "deploy/server.ts"],
    cwd: root,
    env: {
      ...withoutQmtl(Deno.env.toObject()),
      NO_COLOR: "1",
      QMTL_PORT: "0",
      QMTL_JWT_SECRET: SECRET,
      QMTL_HTTP_BODY_TIMEOUT_MS: "5000",
      QMTL_HTTP_IDLE_TIMEOUT_MS: "3000",
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const t of s.pipeThrough(new TextDecoderStream())) out += t;
  };
  drain(child.stdout).catch(() => {});
  drain(child.stderr).catch(() => {});
  const stop = () => terminate(child, 15_000);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
    if (m) {
      return { port: Number(m[1]), pid: child.pid, log: () => out, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`server did not start:\n${out}`);
}

/**
 * Send a request head announcing an 8 MiB body (declared or chunked), then
 * write the body while reading the answer; stop writing as soon as the
 * answer arrives or the server stops reading. Returns the status and how
 * many body bytes the socket took.
 */
async function push(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  chunked: boolean,
): Promise<{ status: number; written: number; closed: boolean }> {
  const c = await connect(port);
  let status = 0;
  let written = 0;
  let closed = false;
  try {
    const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    await c.write(
      enc.encode(
        `${method} ${path} HTTP/1.1\r\nhost: t\r\n${head}${
          chunked
            ? "transfer-encoding: chunked\r\n"
            : `content-length: ${BODY}\r\n`
        }\r\n`,
      ),
    );
    const reading = (async () => {
      const buf = new Uint8Array(65536);
      const n = await c.read(buf).catch(() => null);
      if (n) {
        const m = /^HTTP\/1\.1 (\d{3})/.exec(
          new TextDecoder().decode(buf.subarray(0, n)),
        );
        status = m ? Number(m[1]) : -1;
        // Then the server closes the connection (it does not read on).
        while (true) {
          const more = await c.read(buf).catch(() => null);
          if (more === null) break;
        }
        closed = true;
      }
    })();
    const chunk = new Uint8Array(256 * 1024).fill(0x61);
    const framed = chunked
      ? new Uint8Array([
        ...enc.encode(chunk.length.toString(16) + "\r\n"),
        ...chunk,
        ...enc.encode("\r\n"),
      ])
      : chunk;
    const end = Date.now() + 5_000;
    while (written < BODY && status === 0 && Date.now() < end) {
      // Each write is bounded: a server that stops reading leaves it
      // pending (the socket buffer is full), which ends the upload.
      const w = c.write(framed).then((n) => n, () => -1);
      const r = await Promise.race([
        w,
        new Promise<number>((res) => setTimeout(() => res(-2), 300)),
      ]);
      if (r < 0) break;
      written += chunk.length;
    }
    await Promise.race([
      reading,
      new Promise((r) => setTimeout(r, 3_000)),
    ]);
  } finally {
    closeQuietly(c);
  }
  return { status, written, closed };
}

Deno.test({
  name:
    "hostile: 40 unauthenticated 8 MiB bodies (every route, declared and chunked) and ACL-refused bodies are answered without buffering: server RSS grows < 8 MB",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const s = await startServer();
    const reader = await token("reader-only", ["reader"]);
    try {
      // Warm up every route once (small requests), then settle.
      for (const r of ROUTES) {
        const res = await hfetch(
          `http://127.0.0.1:${s.port}${r.path.replace(/:[A-Za-z]+/g, "x")}`,
          { method: r.method, body: r.method === "POST" ? "x" : undefined },
        );
        await res.body?.cancel();
      }
      await new Promise((r) => setTimeout(r, 500));
      const baseline = rssOf(s.pid);
      let peak = baseline;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rssOf(s.pid));
        } catch {
          // exited: the assertions below say so
        }
      }, 10);
      const targets: [string, string, Record<string, string>, number[]][] = [];
      for (const r of ROUTES.filter((r) => r.roles !== "public")) {
        const path = r.path.replace(/:[A-Za-z]+/g, "x1");
        const h: Record<string, string> = r.kind === "rpc"
          ? { "content-type": "application/proto" }
          : {};
        // A GET with a body is still a GET: 401 before anything else.
        targets.push([r.method, path, h, [401]]);
      }
      // An authenticated caller whose role may not call the route: 403.
      targets.push([
        "POST",
        "/qmtl.v1.GatewayService/SubmitStrategy",
        {
          "content-type": "application/proto",
          authorization: `Bearer ${reader}`,
        },
        [403],
      ]);
      const results: { status: number; written: number; closed: boolean }[] =
        [];
      try {
        // 40 unauthenticated bodies + ACL-refused ones, 8 at a time.
        const jobs: (() => Promise<void>)[] = [];
        for (let i = 0; i < 40; i++) {
          const [method, path, h, want] = targets[i % (targets.length - 1)];
          jobs.push(async () => {
            const r = await push(s.port, method, path, h, i % 2 === 1);
            assert.ok(
              want.includes(r.status),
              `${method} ${path}: ${r.status}`,
            );
            results.push(r);
          });
        }
        for (let i = 0; i < 4; i++) {
          const [method, path, h, want] = targets[targets.length - 1];
          jobs.push(async () => {
            const r = await push(s.port, method, path, h, i % 2 === 1);
            assert.ok(want.includes(r.status), `${path}: ${r.status}`);
            results.push(r);
          });
        }
        for (let i = 0; i < jobs.length; i += 8) {
          await Promise.all(jobs.slice(i, i + 8).map((j) => j()));
        }
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        clearInterval(sampler);
      }
      const growth = peak - baseline;
      const pushed = results.reduce((a, r) => a + r.written, 0);
      console.log(
        `  RSS baseline ${(baseline / MIB).toFixed(1)} MiB, peak +${
          (growth / MIB).toFixed(1)
        } MiB; ${results.length} bodies, ${
          (pushed / MIB).toFixed(0)
        } MiB taken by the sockets (of ${(results.length * BODY) / MIB})`,
      );
      assert.equal(results.length, 44);
      // The server stops reading: after its answer it closes the connection
      // instead of draining the rest of the body.
      assert.deepEqual(
        results.filter((r) => !r.closed).length,
        0,
        "a connection was kept open to drain a refused body",
      );
      assert.ok(
        growth < MAX_GROWTH,
        `RSS grew by ${(growth / MIB).toFixed(1)} MiB`,
      );
      // The server is fine: a canary is answered, nothing was logged as an
      // error.
      const ok = await hfetch(`http://127.0.0.1:${s.port}/healthz`);
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
      assert.doesNotMatch(s.log(), /"level":"error"/);
    } finally {
      await s.stop();
    }
  },
});
