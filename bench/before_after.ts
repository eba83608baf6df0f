/**
 * Before/after figures of the protobuf-es + connect-es switch, for one
 * checkout at a time (run it alternately on the old and the new tree, in
 * one session, so that both see the same machine):
 *
 *     deno run -A bench/before_after.ts codec  <checkout root>
 *     deno run -A bench/before_after.ts submit <checkout root>
 *
 * `codec`: encode / decode of the 10,000-node StrategyDag of
 * `bench/contracts_fixture.ts` (3.27 MB), 30 interleaved rounds after 5
 * warm-ups; prints the median and best ms of each. `submit`: the checkout's
 * gateway on memory backends behind `Deno.serve` on 127.0.0.1, 25
 * SubmitStrategy calls of a fresh 1,000-node DAG each over HTTP (raw binary
 * Connect requests, so the client side is the same code for both), each
 * followed by GetStrategy polling until COMPLETED; prints p50 / p95 ms.
 * Both modes also print the process CPU time per operation
 * (`process.cpuUsage()`, user + system), which a busy shared machine
 * disturbs far less than wall time. The
 * old tree speaks the hand-written codec (`encode(name, …)`), the new one
 * protobuf-es (`toBinary(schema, …)`); the script adapts to either.
 *
 * @module
 */

// deno-lint-ignore-file no-explicit-any
import { cpuUsage } from "node:process";

/** CPU milliseconds (user + system) since `from`. */
function cpuMs(from: { user: number; system: number }): number {
  const d = cpuUsage(from);
  return (d.user + d.system) / 1000;
}

const [mode, rootArg] = Deno.args;
if ((mode !== "codec" && mode !== "submit") || !rootArg) {
  console.error("usage: before_after.ts codec|submit <checkout root>");
  Deno.exit(2);
}
const root = new URL(
  rootArg.endsWith("/") ? rootArg : rootArg + "/",
  `file://${Deno.cwd()}/`,
);
const contracts: any = await import(new URL("lib/contracts/mod.ts", root).href);
const pb: any = await import("@bufbuild/protobuf");
const isNew = contracts.StrategyDagSchema !== undefined;

/** Encode / decode by message name, whichever codec the tree has. */
function encode(name: string, msg: unknown): Uint8Array {
  return isNew
    ? pb.toBinary(
      contracts[`${name}Schema`],
      pb.create(contracts[`${name}Schema`], msg),
    )
    : contracts.encode(name, msg);
}
function decode(name: string, bytes: Uint8Array): any {
  return isNew
    ? contracts.decode(contracts[`${name}Schema`], bytes)
    : contracts.decode(name, bytes);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const label = `${isNew ? "new (protobuf-es)" : "old (hand codec)"} ${rootArg}`;

if (mode === "codec") {
  const fixture: any = await import(
    new URL("bench/contracts_fixture.ts", root).href
  );
  const dag = fixture.strategyDag(10_000);
  const bytes = isNew
    ? pb.toBinary(contracts.StrategyDagSchema, dag)
    : contracts.encode("StrategyDag", dag);
  const enc = isNew
    ? () => pb.toBinary(contracts.StrategyDagSchema, dag)
    : () => contracts.encode("StrategyDag", dag);
  const dec = () => decode("StrategyDag", bytes);
  for (let i = 0; i < 5; i++) {
    enc();
    dec();
  }
  const te: number[] = [];
  const td: number[] = [];
  let cpuEnc = 0;
  let cpuDec = 0;
  for (let i = 0; i < 30; i++) {
    let c = cpuUsage();
    let t = performance.now();
    enc();
    te.push(performance.now() - t);
    cpuEnc += cpuMs(c);
    c = cpuUsage();
    t = performance.now();
    dec();
    td.push(performance.now() - t);
    cpuDec += cpuMs(c);
  }
  const mb = bytes.length / 1e6;
  const row = (what: string, xs: number[], cpu: number) =>
    `${what} StrategyDag 10,000 nodes (${mb.toFixed(2)} MB): median ${
      pct(xs, 50).toFixed(1)
    } ms (${(mb / pct(xs, 50) * 1000).toFixed(0)} MB/s), best ${
      Math.min(...xs).toFixed(1)
    } ms (${(mb / Math.min(...xs) * 1000).toFixed(0)} MB/s), CPU ${
      (cpu / xs.length).toFixed(1)
    } ms/op`;
  console.log(label);
  console.log(row("encode", te, cpuEnc));
  console.log(row("decode", td, cpuDec));
} else {
  const helpers: any = await import(
    new URL("tests/gateway/helpers.ts", root).href
  );
  const gwMod: any = await import(new URL("lib/gateway/mod.ts", root).href);
  const gw = helpers.memoryGateway({
    logger: gwMod.createLogger({ sink: () => {} }),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    gw.app.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}/qmtl.v1.GatewayService/`;
  const tok = await helpers.token("bench", ["submitter", "reader"]);
  const headers = {
    "content-type": "application/proto",
    "connect-protocol-version": "1",
    authorization: `Bearer ${tok}`,
    ...contracts.schemaHeaders(),
  };
  const call = async (method: string, body: Uint8Array) => {
    const res = await fetch(base + method, {
      method: "POST",
      headers,
      body: body as BodyInit,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) {
      throw new Error(
        `${method}: ${res.status} ${new TextDecoder().decode(bytes)}`,
      );
    }
    return bytes;
  };
  const bigDag = (salt: string) => {
    const src = helpers.node(`src-${salt}`, {
      type: "StreamInput",
      params: { salt },
    });
    const nodes = [src];
    for (let c = 0; nodes.length < 1000; c++) {
      nodes.push(
        ...helpers.chain(
          `c${c}-${salt}-`,
          Math.min(27, 1000 - nodes.length),
          src,
        ),
      );
    }
    return helpers.dag(`bench-${salt}`, nodes);
  };
  const COMPLETED = contracts.StrategyState.COMPLETED;
  const out: number[] = [];
  let cpu = 0;
  for (let i = 0; i < 28; i++) {
    const body = encode("SubmitStrategyRequest", {
      dag: bigDag(crypto.randomUUID()),
      version: "1",
      callbackUrl: "",
      metadata: {},
    });
    const c0 = cpuUsage();
    const t0 = performance.now();
    const ack = decode(
      "SubmitStrategyResponse",
      await call("SubmitStrategy", body),
    );
    const get = encode("GetStrategyRequest", { strategyId: ack.strategyId });
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const r = await call("GetStrategy", get);
      const status = isNew
        ? decode("GetStrategyResponse", r).status
        : decode("StrategyStatus", r);
      if (status?.state === COMPLETED) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    if (i >= 3) { // 3 warm-ups
      out.push(performance.now() - t0);
      cpu += cpuMs(c0);
    }
  }
  console.log(label);
  console.log(
    `submit→COMPLETED 1,000 nodes, memory, 25 runs: p50 ${
      pct(out, 50).toFixed(1)
    } ms  p95 ${pct(out, 95).toFixed(1)} ms  CPU ${
      (cpu / out.length).toFixed(1)
    } ms/submission (client + server)`,
  );
  await server.shutdown();
  await helpers.closeAll(gw);
}
