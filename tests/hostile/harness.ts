/**
 * Shared harness of the hostile-input suite: the reference server
 * (`deploy/server.ts`'s `startServer`, i.e. `serveGateway` + the gateway) in
 * this process, on memory backends or on the real stack; a record of every
 * write it makes (strategies, registry writes, queue jobs, topic writes), so
 * a test can assert that hostile input wrote nothing; and a canary client
 * that keeps calling the server while the hostile traffic runs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../lib/gateway/server/config.ts";
import {
  type RunningServer,
  startServer,
} from "../../lib/gateway/server/start.ts";
import { schemaHeaders } from "../../lib/contracts/mod.ts";
import type { NodeRegistry } from "../../lib/dag/mod.ts";
import { createLogger, type Role } from "../../lib/gateway/mod.ts";
import { realStack } from "../support/services.ts";
import { AUDIENCE, ISSUER, SECRET, token } from "../gateway/helpers.ts";
import { closeQuietly, connect, rawGet } from "../gateway/raw_http.ts";

export { AUDIENCE, ISSUER, SECRET, token };

/**
 * Connections are never reused between hostile calls: a pooled connection
 * the server has just closed (idle timeout, `Connection: close`) would make
 * an unrelated call fail.
 */
const FRESH = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });

/** `fetch` on a fresh connection. */
export function hfetch(
  input: string,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(input, { ...init, client: FRESH } as RequestInit);
}

/** What the server has written so far. */
export interface Counts {
  /** Strategies in the store. */
  strategies: number;
  /** Registry calls that changed the global DAG and succeeded. */
  registryWrites: number;
  /** Nodes in the registry (memory backends only; -1 on Neo4j). */
  nodes: number;
  /** Work-queue jobs in any state (diff and webhook queues). */
  jobs: number;
  /** Topic writes that succeeded (bars accepted, leases granted, topics made). */
  topicWrites: number;
}

/** A server under test. */
export interface Target {
  /** `memory` or `neo4j+redis`. */
  name: string;
  /** Base URL. */
  url: string;
  /** Port on 127.0.0.1. */
  port: number;
  /** The running server. */
  server: RunningServer;
  /** The server's log lines. */
  logs: string[];
  /** Everything written so far. */
  counts(): Promise<Counts>;
  /** Stop the server. */
  close(): Promise<void>;
}

const REGISTRY_WRITES = [
  "diffAndCommit",
  "addDependency",
  "removeDependency",
  "retireVersion",
  "createTopic",
  "deleteTopic",
  "gc",
] as const;

/** Wrap a registry so that every successful write is counted. */
function countWrites(r: NodeRegistry, tally: { n: number }): NodeRegistry {
  return new Proxy(r, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (
        typeof v === "function" &&
        (REGISTRY_WRITES as readonly (string | symbol)[]).includes(prop)
      ) {
        return async (...args: unknown[]) => {
          const out = await v.apply(target, args);
          tally.n++;
          return out;
        };
      }
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** The real stack, if configured (under CI=true it must be). */
export const REAL = (() => {
  const { neo4j, redis, ignore } = realStack();
  return {
    ignore,
    neo4jUrl: neo4j.url,
    redisUrl: redis.url,
  };
})();

/**
 * Start the reference server in this process: on memory backends, or on
 * Neo4j + Redis Sentinel (`real`, private Redis key prefix).
 */
export async function startTarget(
  kind: "memory" | "real",
  env: Record<string, string> = {},
): Promise<Target> {
  const logs: string[] = [];
  const writes = { n: 0 };
  let registry: NodeRegistry | undefined;
  const base: Record<string, string> = {
    QMTL_JWT_SECRET: SECRET,
    QMTL_PORT: "0",
    QMTL_HTTP_HEADER_TIMEOUT_MS: "2000",
    QMTL_HTTP_IDLE_TIMEOUT_MS: "2000",
    QMTL_HTTP_BODY_TIMEOUT_MS: "3000",
    // Every Redis name (and the Neo4j namespace) of its own.
    QMTL_NAMESPACE: `hostile-${crypto.randomUUID().slice(0, 8)}`,
  };
  if (kind === "real") {
    base.QMTL_NEO4J_URL = REAL.neo4jUrl!;
    base.QMTL_REDIS_URL = REAL.redisUrl!;
    base.QMTL_NEO4J_MIGRATE = "auto";
  }
  const server = await startServer(loadConfig({ ...base, ...env }), {
    quiet: true,
    logger: createLogger({ level: "info", sink: (l) => logs.push(l) }),
    wrapRegistry: (r) => {
      registry = r;
      return countWrites(r, writes);
    },
  });
  // Topic writes go through the gateway's TopicService.
  const topics = server.gateway.topics as unknown as Record<
    string,
    (...a: unknown[]) => Promise<unknown>
  >;
  const topicWrites = { n: 0 };
  for (const m of ["publish", "acquire", "ensure"]) {
    const orig = topics[m].bind(topics);
    topics[m] = async (...args: unknown[]) => {
      const out = await orig(...args);
      if (m === "publish") {
        topicWrites.n += (out as { accepted: number }).accepted;
      } else if (m === "acquire") {
        topicWrites.n += (out as { granted: boolean }[]).filter((g) =>
          g.granted
        ).length;
      } else topicWrites.n += out as number;
      return out;
    };
  }
  const url = server.url;
  return {
    name: kind === "real" ? "neo4j+redis" : "memory",
    url,
    port: Number(new URL(url).port),
    server,
    logs,
    async counts(): Promise<Counts> {
      const states = await server.gateway.service.store.counts();
      const metrics = await server.gateway.metrics.render();
      let jobs = 0;
      for (const m of metrics.matchAll(/^qmtl_queue_jobs\{[^}]*\} (\d+)$/gm)) {
        jobs += Number(m[1]);
      }
      let nodes = -1;
      if (kind === "memory" && registry) {
        nodes = (await registry.listNodes({ pageSize: 1000 })).nodes.length;
      }
      return {
        strategies: Object.values(states).reduce((a, b) => a + b, 0),
        registryWrites: writes.n,
        nodes,
        jobs,
        topicWrites: topicWrites.n,
      };
    },
    close: () => server.stop(),
  };
}

/**
 * Registers a hostile test: `fn` gets a target of `kind` (default memory,
 * `env` added to its configuration) and a strong token; the target is
 * closed afterwards. Ops and resources are not sanitized (the server
 * outlives each request); a `real` target is ignored where the stack is not
 * configured (under CI=true it must be).
 */
export function hostileTest(
  name: string,
  fn: (target: Target, tok: string, t: Deno.TestContext) => Promise<void>,
  opts: { kind?: "memory" | "real"; env?: Record<string, string> } = {},
): void {
  const kind = opts.kind ?? "memory";
  Deno.test({
    name,
    ignore: kind === "real" && REAL.ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      const target = await startTarget(kind, opts.env);
      const tok = await strongToken();
      try {
        await fn(target, tok, t);
      } finally {
        await target.close();
      }
    },
  });
}

/** A canary: calls the server every `everyMs` while hostile traffic runs. */
export class Canary {
  #stop = false;
  #done: Promise<void> | undefined;
  /** Requests answered correctly. */
  ok = 0;
  /** What went wrong, if anything. */
  failures: string[] = [];
  /** Slowest answer, ms. */
  maxMs = 0;

  constructor(readonly target: Target, readonly everyMs = 100) {}

  /** Start calling: `/healthz` on one kept-alive connection, an authenticated REST read by fetch. */
  async start(): Promise<void> {
    const tok = await token("canary", ["reader"]);
    let conn = await connect(this.target.port);
    const once = async () => {
      const t0 = performance.now();
      try {
        let r;
        try {
          r = await rawGet(conn, "/healthz", 3_000);
        } catch {
          // The idle timeout may have closed the kept-alive connection
          // between two calls: one reconnect is allowed.
          closeQuietly(conn);
          conn = await connect(this.target.port);
          r = await rawGet(conn, "/healthz", 3_000);
        }
        if (r.status !== 200) this.failures.push(`healthz ${r.status}`);
        const res = await hfetch(`${this.target.url}/v1/nodes?page_size=1`, {
          headers: { authorization: `Bearer ${tok}` },
          signal: AbortSignal.timeout(3_000),
        });
        await res.body?.cancel();
        if (res.status !== 200) this.failures.push(`/v1/nodes ${res.status}`);
        else this.ok++;
      } catch (e) {
        this.failures.push(String((e as Error).message ?? e));
      }
      this.maxMs = Math.max(this.maxMs, performance.now() - t0);
    };
    await once();
    this.#done = (async () => {
      while (!this.#stop) {
        await new Promise((r) => setTimeout(r, this.everyMs));
        if (!this.#stop) await once();
      }
      closeQuietly(conn);
    })();
  }

  /** Stop, and assert that every call was answered (and at least one was made). */
  async stopAndCheck(): Promise<void> {
    this.#stop = true;
    await this.#done;
    assert.deepEqual(this.failures, [], "the canary was not served");
    assert.ok(this.ok >= 1, "the canary made no call");
  }
}

/**
 * Run `body` with a canary running, and assert that nothing was written
 * (counts before == after), that the server kept serving the canary, and
 * that it logged no error (a 5xx is logged at `error`: hostile input must
 * never look like a server fault).
 */
export async function hostile(
  target: Target,
  body: () => Promise<void>,
): Promise<void> {
  const before = await target.counts();
  const logsBefore = target.logs.length;
  const canary = new Canary(target);
  await canary.start();
  try {
    await body();
  } finally {
    await canary.stopAndCheck();
  }
  assert.deepEqual(await target.counts(), before, "hostile input wrote");
  const errors = target.logs.slice(logsBefore).filter((l) =>
    l.includes('"level":"error"')
  );
  assert.deepEqual(
    errors.map((l) => l.slice(0, 400)),
    [],
    "hostile input was logged as a server error",
  );
}

/** Headers of a Connect unary binary call. */
export function rpcHeaders(
  tok: string | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "content-type": "application/proto",
    "connect-protocol-version": "1",
    ...schemaHeaders(),
    ...(tok ? { authorization: `Bearer ${tok}` } : {}),
    ...extra,
  };
}

/** A token with every role (the most a hostile client could hold). */
export function strongToken(subject = "mallory"): Promise<string> {
  const all: Role[] = ["reader", "submitter", "operator", "service"];
  return token(subject, all);
}

/** A 4xx answer whose body says what was wrong (read and returned). */
export async function expect4xx(
  res: Response,
  what: string,
  status?: number,
): Promise<string> {
  const text = await res.text();
  assert.ok(
    res.status >= 400 && res.status < 500,
    `${what}: expected 4xx, got ${res.status} ${text.slice(0, 300)}`,
  );
  if (status !== undefined) {
    assert.equal(res.status, status, `${what}: ${text.slice(0, 300)}`);
  }
  assert.ok(text.length > 0, `${what}: an empty error body`);
  assert.match(text, /"(code|title)"/, `${what}: not a typed error body`);
  return text;
}

/** A seeded PRNG: the same hostile bytes on every run. */
export { prng } from "../support/prng.ts";

/** `n` random bytes from `rand`. */
export function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
