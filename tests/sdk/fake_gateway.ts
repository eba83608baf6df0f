/**
 * A tiny fake Gateway for client unit tests: a `Deno.serve` on 127.0.0.1
 * with a programmable handler per route, recording every request.
 *
 * @module
 */

import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import {
  decode,
  ErrorDetailSchema,
  GetStrategyResponseSchema,
  SCHEMA_HASH,
  SCHEMA_VERSION,
  StrategyState,
  type StrategyStatus,
} from "../../lib/contracts/mod.ts";

/** One recorded request. */
export interface Recorded {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  body: Uint8Array;
}

/** A route handler; return a Response. */
export type Handler = (
  req: Request,
  rec: Recorded,
) => Response | Promise<Response>;

/** The fake server. */
export interface FakeGateway {
  url: string;
  requests: Recorded[];
  /** Set the handler of `POST /qmtl.v1.GatewayService/<method>` or `GET <path>`. */
  on(route: string, handler: Handler): void;
  close(): Promise<void>;
}

/** Start a fake gateway on a free port. */
export function startFake(): FakeGateway {
  const routes = new Map<string, Handler>();
  const requests: Recorded[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const u = new URL(req.url);
      const rec: Recorded = {
        method: req.method,
        path: u.pathname,
        search: u.search,
        headers: req.headers,
        body: new Uint8Array(await req.arrayBuffer()),
      };
      requests.push(rec);
      const key = u.pathname.startsWith("/qmtl.v1.GatewayService/")
        ? u.pathname.slice("/qmtl.v1.GatewayService/".length)
        : `${req.method} ${u.pathname}`;
      const h = routes.get(key);
      if (!h) return Response.json({ title: "not found" }, { status: 404 });
      return await h(req, rec);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    on: (route, handler) => routes.set(route, handler),
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

/** A binary protobuf 200 answer. */
export function protoResponse<D extends DescMessage>(
  schema: D,
  message: MessageInitShape<D>,
): Response {
  return new Response(toBinary(schema, create(schema, message)), {
    headers: {
      "content-type": "application/proto",
      "qmtl-schema-version": SCHEMA_VERSION,
      "qmtl-schema-hash": SCHEMA_HASH,
    },
  });
}

/** A GetStrategy / RetireStrategy answer (`{status}`, same wire form). */
export function statusResponse(status: StrategyStatus): Response {
  return protoResponse(GetStrategyResponseSchema, { status });
}

/** Decode a recorded request body. */
export function requestOf<D extends DescMessage>(
  schema: D,
  rec: Recorded,
): MessageShape<D> {
  return decode(schema, rec.body);
}

/** A Connect error answer shaped like lib/gateway's error mapper. */
export function connectError(
  status: number,
  connectCode: string,
  code: string,
  message: string,
  extra: { field?: string; nodeId?: string; details?: Record<string, string> } =
    {},
  headers: Record<string, string> = {},
): Response {
  const detail = create(ErrorDetailSchema, {
    code,
    message,
    field: extra.field ?? "",
    nodeId: extra.nodeId ?? "",
    details: extra.details ?? {},
  });
  return new Response(
    JSON.stringify({
      code: connectCode,
      message: `[${code}] ${message}`,
      details: [{
        type: "qmtl.v1.ErrorDetail",
        value: toBinary(ErrorDetailSchema, detail).toBase64({
          omitPadding: true,
        }),
        debug: {
          code,
          message,
          field: detail.field,
          nodeId: detail.nodeId,
          details: detail.details,
        },
      }],
    }),
    { status, headers: { "content-type": "application/json", ...headers } },
  );
}

/** Runs `fn` with a started fake gateway; closes it afterwards. */
export async function onFake(
  fn: (f: FakeGateway) => Promise<void>,
): Promise<void> {
  const f = startFake();
  try {
    await fn(f);
  } finally {
    await f.close();
  }
}

/** A strategy status with defaults. */
export { statusOf as status } from "../support/strategy_store.ts";

/** One SSE frame carrying a CloudEvent for a lifecycle transition. */
export function sseFrame(
  cursor: string,
  strategyId: string,
  state: string,
): string {
  const ce = {
    id: `ev-${cursor}`,
    source: "/qmtl/gateway",
    specversion: "1.0",
    type: `qmtl.strategy.${state.toLowerCase()}`,
    subject: strategyId,
    time: new Date(0).toISOString(),
    datacontenttype: "application/json",
    data: { strategyId, state },
  };
  return `id: ${cursor}\nevent: ${ce.type}\ndata: ${JSON.stringify(ce)}\n\n`;
}

export { StrategyState };
