/**
 * Shared helpers of the gateway tests: DAG builders, tokens, a gateway on
 * memory backends, Connect calls with the schema headers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  type Client,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import {
  canonicalJson,
  computeNodeId,
  dagChecksum,
  GatewayService,
  type NodeSpec,
  NodeSpecSchema,
  schemaHeaders,
  type StrategyDag,
  StrategyDagSchema,
  StrategyState,
  type StrategyStatus,
  SubmitStrategyRequestSchema,
  type SubmitStrategyResponse,
} from "../../lib/contracts/mod.ts";
import { MemoryRegistry } from "../../lib/dag/mod.ts";
import type { NodeRegistry } from "../../lib/dag/mod.ts";
import { MemoryEventLog, MemoryQueue } from "../../lib/queue/mod.ts";
import type { EventLog, WorkQueue } from "../../lib/queue/mod.ts";
import { TEST_AUTH } from "../support/auth.ts";
import { readBefore } from "../support/poll.ts";
import {
  createGateway,
  createLogger,
  type Gateway,
  type GatewayOptions,
  type StrategyStore,
} from "../../lib/gateway/mod.ts";

export { token } from "../support/auth.ts";
export const SECRET: string = TEST_AUTH.secret;
export const ISSUER: string = TEST_AUTH.issuer;
export const AUDIENCE: string = TEST_AUTH.audience;

/** A node spec with a correct ID. */
export function node(
  name: string,
  opts: {
    type?: string;
    interval?: number;
    period?: number;
    params?: Record<string, unknown>;
    inputs?: string[];
    tags?: string[];
  } = {},
): NodeSpec {
  const nodeType = opts.type ?? "Processing";
  const intervalS = opts.interval ?? 60;
  const period = opts.period ?? 1;
  const params = opts.params ?? { name };
  const inputs = opts.inputs ?? [];
  const nodeId = computeNodeId({ nodeType, intervalS, period, params, inputs });
  return create(NodeSpecSchema, {
    nodeId,
    nodeType,
    intervalS,
    period,
    paramsJson: canonicalJson(params),
    inputs,
    codeHash: "",
    schemaCompatId: "v1",
    name,
    tags: opts.tags ?? [],
    metadata: {},
  });
}

/** A DAG with a correct checksum. */
export function dag(name: string, nodes: NodeSpec[]): StrategyDag {
  return create(StrategyDagSchema, {
    name,
    nodes,
    checksum: dagChecksum(nodes.map((n) => n.nodeId)),
  });
}

/** A chain of `n` nodes (`prefix0` → `prefix1` → …), optionally after `root`. */
export function chain(prefix: string, n: number, root?: NodeSpec): NodeSpec[] {
  const out: NodeSpec[] = [];
  let prev = root?.nodeId;
  for (let i = 0; i < n; i++) {
    const spec = node(`${prefix}${i}`, {
      inputs: prev ? [prev] : [],
      tags: [prefix],
    });
    out.push(spec);
    prev = spec.nodeId;
  }
  return out;
}

/** Memory backends + gateway. */
export interface TestGateway extends Gateway {
  registry: NodeRegistry;
  queue: WorkQueue;
  events: EventLog;
  logs: string[];
}

/** A gateway on memory backends (quiet logs kept in `logs`). */
export function memoryGateway(
  overrides: Partial<GatewayOptions> = {},
): TestGateway {
  const registry = overrides.registry ?? new MemoryRegistry();
  const queue = overrides.queue ??
    new MemoryQueue({ backoff: { baseMs: 50, maxMs: 500 } });
  const events = overrides.events ?? new MemoryEventLog();
  const logs: string[] = [];
  const gw = createGateway({
    registry,
    queue,
    events,
    auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
    logger: createLogger({ level: "debug", sink: (l) => logs.push(l) }),
    worker: { leaseMs: 5_000, sweepIntervalMs: 60_000 },
    ...overrides,
  });
  return Object.assign(gw, { registry, queue, events, logs });
}

/**
 * A plain `createGateway` on fresh memory backends with the test credentials
 * and no worker running, plus `overrides`: none of {@link memoryGateway}'s
 * extras (captured log, backends attached to the gateway), for tests that
 * look at what `createGateway` itself returns.
 */
export function bareGateway(overrides: Partial<GatewayOptions> = {}): Gateway {
  return createGateway({
    registry: new MemoryRegistry(),
    queue: new MemoryQueue(),
    events: new MemoryEventLog(),
    auth: TEST_AUTH,
    worker: { autoStart: false },
    ...overrides,
  });
}

/** Runs `fn` on a memory gateway with `overrides`; closes it and its backends afterwards. */
export async function withGateway(
  overrides: Partial<GatewayOptions>,
  fn: (gw: TestGateway) => Promise<void>,
): Promise<void> {
  const gw = memoryGateway(overrides);
  try {
    await fn(gw);
  } finally {
    await closeAll(gw);
  }
}

/** Close the gateway and its memory backends. */
export async function closeAll(
  gw: TestGateway,
  store?: StrategyStore,
): Promise<void> {
  await gw.close();
  await gw.queue.close();
  await gw.events.close();
  await gw.registry.close();
  await store?.close();
}

/** Binary SubmitStrategyRequest. */
export function submitBytes(
  init: MessageInitShape<typeof SubmitStrategyRequestSchema>,
): Uint8Array {
  return toBinary(
    SubmitStrategyRequestSchema,
    create(SubmitStrategyRequestSchema, init),
  );
}

/** A raw Connect call (binary). */
export async function rpcRaw(
  gw: InProcess,
  method: string,
  body: Uint8Array,
  tok: string | undefined,
  headers: Record<string, string> = {},
): Promise<Response> {
  const h: Record<string, string> = {
    "content-type": "application/proto",
    "connect-protocol-version": "1",
    ...schemaHeaders(),
    ...headers,
  };
  if (tok) h.authorization = `Bearer ${tok}`;
  return await gw.app.request(`/qmtl.v1.GatewayService/${method}`, {
    method: "POST",
    headers: h,
    body: body as BodyInit,
  });
}

/** Something with the gateway's in-process `request`. */
export interface InProcess {
  app: {
    request: (
      input: string | URL | Request,
      init?: RequestInit,
    ) => Response | Promise<Response>;
  };
}

/** A server listening at `url`, called like an in-process gateway (over `fetch`). */
export function remote(url: string): InProcess {
  return {
    app: {
      request: (input, init) => {
        const u = new URL(
          input instanceof Request ? input.url : String(input),
          url,
        );
        return fetch(url + u.pathname + u.search, init);
      },
    },
  };
}

/** Submits `d` as version "1" (no callback, no metadata) through {@link client}. */
export function submitDag(
  gw: InProcess,
  tok: string | undefined,
  d: StrategyDag,
): Promise<SubmitStrategyResponse> {
  return client(gw, tok).submitStrategy({
    dag: d,
    version: "1",
    callbackUrl: "",
    metadata: {},
  });
}

/**
 * A generated Connect client (`createClient(GatewayService, …)`, binary
 * format) that calls the gateway in process, with the bearer token and the
 * schema headers.
 */
export function client(
  gw: InProcess,
  tok: string | undefined,
  options: { json?: boolean; headers?: Record<string, string> } = {},
): Client<typeof GatewayService> {
  const headers: Interceptor = (next) => (req) => {
    if (tok) req.header.set("authorization", `Bearer ${tok}`);
    for (const [k, v] of Object.entries(schemaHeaders())) req.header.set(k, v);
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      req.header.set(k, v);
    }
    return next(req);
  };
  return createClient(
    GatewayService,
    createConnectTransport({
      baseUrl: "http://gateway.test",
      useBinaryFormat: !options.json,
      interceptors: [headers],
      fetch: (input, init) => Promise.resolve(gw.app.request(input, init)),
    }),
  );
}

/** Poll `fn` until it returns a truthy value (bounded). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Poll GetStrategy until the strategy reaches `state` (bounded). */
export async function waitForState(
  gw: InProcess,
  strategyId: string,
  state: StrategyState,
  tok: string,
  timeoutMs = 10_000,
): Promise<StrategyStatus> {
  const c = client(gw, tok);
  return await waitFor(
    async () => {
      const { status } = await c.getStrategy({ strategyId });
      return status?.state === state ? status : undefined;
    },
    timeoutMs,
    `${strategyId} ${StrategyState[state]}`,
  );
}

/**
 * Submits DAG "B": `src`, `shared` and one new node `extraName` on the last
 * shared node; waits until it is COMPLETED and asserts that the shared nodes
 * kept the topics of `first` (the status of the DAG without the new node)
 * and that only the new node was created. Returns B's status and new node.
 */
export async function submitReusing(
  gw: InProcess,
  tok: string,
  first: StrategyStatus,
  src: NodeSpec,
  shared: NodeSpec[],
  extraName: string,
  timeoutMs: number,
): Promise<{ status: StrategyStatus; extra: NodeSpec }> {
  const extra = node(extraName, { inputs: [shared.at(-1)!.nodeId] });
  const ack = await submitDag(gw, tok, dag("B", [src, ...shared, extra]));
  const b = await waitForState(
    gw,
    ack.strategyId,
    StrategyState.COMPLETED,
    tok,
    timeoutMs,
  );
  for (const n of [src, ...shared]) {
    assert.equal(b.queueMap[n.nodeId], first.queueMap[n.nodeId], n.name);
  }
  assert.deepEqual(b.created, [extra.nodeId]);
  return { status: b, extra };
}

/** Read SSE events from a response until `stop` says so or time runs out. */
export async function readSse(
  res: Response,
  stop: (
    events: { id: string; event: string; data: Record<string, unknown> }[],
  ) => boolean,
  timeoutMs = 10_000,
): Promise<{ id: string; event: string; data: Record<string, unknown> }[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { id: string; event: string; data: Record<string, unknown> }[] =
    [];
  let buf = "";
  const end = Date.now() + timeoutMs;
  try {
    while (Date.now() < end && !stop(events)) {
      const r = await readBefore(reader, end);
      if (r.done) break;
      buf += r.value;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const k = line.indexOf(":");
          if (k < 0) continue;
          fields[line.slice(0, k)] = line.slice(k + 1).trimStart();
        }
        if (fields.data) {
          events.push({
            id: fields.id,
            event: fields.event,
            data: JSON.parse(fields.data),
          });
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}
