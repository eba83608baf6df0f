/**
 * Shared helpers of the gateway tests: DAG builders, tokens, a gateway on
 * memory backends, Connect calls with the schema headers.
 *
 * @module
 */

import {
  canonicalJson,
  computeNodeId,
  dagChecksum,
  decode,
  encode,
  type MessageName,
  type MessageTypes,
  type NodeSpec,
  schemaHeaders,
  type StrategyDag,
  StrategyState,
  type StrategyStatus,
} from "../../lib/contracts/mod.ts";
import { MemoryRegistry } from "../../lib/dag/mod.ts";
import type { NodeRegistry } from "../../lib/dag/mod.ts";
import { MemoryEventLog, MemoryQueue } from "../../lib/queue/mod.ts";
import type { EventLog, WorkQueue } from "../../lib/queue/mod.ts";
import {
  createGateway,
  createLogger,
  type Gateway,
  type GatewayOptions,
  type Role,
  signDevToken,
  type StrategyStore,
} from "../../lib/gateway/mod.ts";

export const SECRET = "test-secret-0123456789abcdef-0123456789";
export const ISSUER = "qmtl";
export const AUDIENCE = "qmtl-gateway";

/** A token for `subject` with `roles`. */
export function token(
  subject: string,
  roles: Role[],
  ttlS = 600,
): Promise<string> {
  return signDevToken({
    secret: SECRET,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject,
    roles,
    ttlS,
  });
}

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
  return {
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
  };
}

/** A DAG with a correct checksum. */
export function dag(name: string, nodes: NodeSpec[]): StrategyDag {
  return {
    name,
    nodes,
    checksum: dagChecksum(nodes.map((n) => n.nodeId)),
    metadata: {},
  };
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

/** A raw Connect call (binary). */
export async function rpcRaw(
  gw: {
    app: {
      request: (
        path: string,
        init: RequestInit,
      ) => Response | Promise<Response>;
    };
  },
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

/** A typed Connect call; throws with the error body on non-200. */
export async function rpc<I extends MessageName, O extends MessageName>(
  gw: {
    app: {
      request: (
        path: string,
        init: RequestInit,
      ) => Response | Promise<Response>;
    };
  },
  method: string,
  input: I,
  req: MessageTypes[I],
  output: O,
  tok: string,
): Promise<MessageTypes[O]> {
  const res = await rpcRaw(gw, method, encode(input, req), tok);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new Error(
      `${method} → ${res.status}: ${new TextDecoder().decode(bytes)}`,
    );
  }
  return decode(output, bytes);
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
  gw: Parameters<typeof rpc>[0],
  strategyId: string,
  state: StrategyState,
  tok: string,
  timeoutMs = 10_000,
): Promise<StrategyStatus> {
  return await waitFor(
    async () => {
      const s = await rpc(
        gw,
        "GetStrategy",
        "GetStrategyRequest",
        { strategyId },
        "StrategyStatus",
        tok,
      );
      return s.state === state ? s : undefined;
    },
    timeoutMs,
    `${strategyId} ${StrategyState[state]}`,
  );
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reader.read(),
        new Promise<{ done: true; value: undefined }>((res) =>
          timer = setTimeout(
            () => res({ done: true, value: undefined }),
            Math.max(1, end - Date.now()),
          )
        ),
      ]);
      clearTimeout(timer);
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
