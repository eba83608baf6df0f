/**
 * The contract API served by connect-es: a `createConnectRouter` with the
 * `GatewayService` implementation, its universal handlers adapted to the
 * gateway's fetch `Request` / `Response`, one handler per RPC route of the
 * route table. Protocols: Connect (binary and JSON) and gRPC-Web; gzip
 * request bodies (decompressed size bounded); responses gzip-compressed when
 * the client accepts it.
 *
 * Every error answer carries a `qmtl.v1.ErrorDetail`: errors of the
 * implementation are mapped by an interceptor, and the few errors connect-es
 * raises itself (e.g. an unparsable binary body, which it reports as
 * `internal`) are rewritten here — a binary body that does not decode is
 * `invalid_argument` / `E_INVALID` naming the field and byte offset.
 *
 * @module
 */

import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import {
  type UniversalHandler,
  type UniversalServerResponse,
  universalServerResponseToFetch,
} from "@connectrpc/connect/protocol";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import {
  trailerFlag,
  trailerParse,
} from "@connectrpc/connect/protocol-grpc-web";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import type { DescMessage } from "@bufbuild/protobuf";
import { decode } from "../../contracts/decode.ts";
import { ContractError, QmtlError } from "../../contracts/errors.ts";
import { GatewayService } from "../../contracts/messages.ts";
import { joinBytes } from "../body_limit/join_bytes.ts";
import { readBodyLimited } from "../body_limit/mod.ts";
import { toQmtlError } from "../error_mapper/mod.ts";
import type { Logger } from "../logger/mod.ts";
import type { GatewayContext } from "../types.ts";
import {
  connectErrorOf,
  hasQmtlDetail,
  rpcErrorResponse,
  withQmtlDetail,
} from "./errors.ts";
import {
  type GatewayServiceDeps,
  gatewayServiceImpl,
  PRINCIPAL,
  REQUEST_ID,
} from "./gateway_service.ts";
import { gzip } from "./gzip.ts";

/**
 * Options of {@link createRpcHandlers}.
 *
 * @example
 * ```ts
 * import type { RpcOptions } from "./router.ts";
 * function limit(o: RpcOptions): number {
 *   return o.maxBodyBytes;
 * }
 * ```
 */
export interface RpcOptions extends GatewayServiceDeps {
  /** Largest request body, compressed and decompressed. */
  maxBodyBytes: number;
  /** Logger of 5xx causes. */
  logger: Logger;
  /**
   * Aborts in-flight calls (ReadBars long polls) when the gateway closes.
   * The request's own `signal` is never read: under `Deno.serve` it aborts
   * on successful responses too (legacy behaviour) and reading it prints a
   * warning; a long poll is bounded by its `wait_ms` instead.
   */
  signal?: AbortSignal;
}

/**
 * The handler of one RPC route in the gateway's pipeline.
 *
 * @example
 * ```ts
 * import type { RpcHandler } from "./router.ts";
 * const notYet: RpcHandler = () => Promise.resolve(new Response(null, { status: 501 }));
 * ```
 */
export type RpcHandler = (c: GatewayContext) => Promise<Response>;

const SERVER_ERRORS: ReadonlySet<Code> = new Set([
  Code.Unknown,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
  Code.DeadlineExceeded,
]);

/**
 * Build the RPC handlers: request path (`/qmtl.v1.GatewayService/<Method>`)
 * → handler. The handler reads the body (bounded), hands the request to
 * connect-es with the caller as the `PRINCIPAL` context value, and returns
 * connect-es' response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createEventEmitter, createLogger, createPolicy, MemoryStrategyStore, StrategyService, TopicService } from "@qmtl/qmtl/gateway";
 * import { MemoryEventLog, MemoryQueue, MemoryTopicStore } from "@qmtl/qmtl/queue";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { createRpcHandlers } from "./router.ts";
 * const registry = new MemoryRegistry();
 * const service = new StrategyService({
 *   registry, queue: new MemoryQueue(), store: new MemoryStrategyStore(),
 *   events: createEventEmitter({ log: new MemoryEventLog() }),
 * });
 * const handlers = createRpcHandlers({
 *   service, registry, policy: createPolicy(), logger: createLogger(), maxBodyBytes: 1 << 20,
 *   topics: new TopicService({ store: new MemoryTopicStore(), registry }),
 * });
 * assert.ok(handlers.has("/qmtl.v1.GatewayService/SubmitStrategy"));
 * ```
 */
export function createRpcHandlers(
  options: RpcOptions,
): Map<string, RpcHandler> {
  const { logger, maxBodyBytes } = options;
  // Errors of the implementation: QMTL errors (and anything else) become a
  // ConnectError with the QMTL detail; 5xx causes are logged.
  const errors: Interceptor = (next) => async (req) => {
    try {
      return await next(req);
    } catch (e) {
      const err = e instanceof ConnectError
        ? withQmtlDetail(e)
        : connectErrorOf(toQmtlError(e));
      if (SERVER_ERRORS.has(err.code)) {
        logger.error("request failed", {
          requestId: req.contextValues.get(REQUEST_ID),
          procedure: req.method.name,
          code: Code[err.code],
          error: e instanceof Error ? e : String(e),
        });
      }
      throw err;
    }
  };
  const router = createConnectRouter({
    grpc: false, // needs HTTP/2 trailers, which a fetch Response cannot send
    grpcWeb: true,
    connect: true,
    acceptCompression: [gzip],
    readMaxBytes: maxBodyBytes,
    interceptors: [errors],
  });
  router.service(GatewayService, gatewayServiceImpl(options));
  const out = new Map<string, RpcHandler>();
  const signal = options.signal ?? new AbortController().signal;
  for (const h of router.handlers) {
    out.set(h.requestPath, rpcHandler(h, maxBodyBytes, signal));
  }
  return out;
}

function rpcHandler(
  h: UniversalHandler,
  maxBodyBytes: number,
  signal: AbortSignal,
): RpcHandler {
  return async (c) => {
    const req = c.req.raw;
    // Read here (not earlier): the caller is authenticated and allowed by now.
    const body = await readBodyLimited(req, maxBodyBytes);
    const res = await h({
      httpVersion: "",
      method: req.method,
      url: req.url,
      header: req.headers,
      body: (async function* () {
        yield body;
      })(),
      signal,
      contextValues: createContextValues()
        .set(PRINCIPAL, c.get("principal"))
        .set(REQUEST_ID, c.get("requestId") ?? ""),
    });
    return await withDetails(res, h.method.input, body, req, maxBodyBytes);
  };
}

async function collect(
  body: AsyncIterable<Uint8Array> | undefined,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of body ?? []) chunks.push(c);
  return joinBytes(chunks);
}

/**
 * connect-es' response, unless it is an error without a QMTL detail: then
 * the same error with one (a binary body connect-es could not parse is
 * decoded again to say where it is malformed).
 */
async function withDetails(
  res: UniversalServerResponse,
  input: DescMessage,
  body: Uint8Array,
  req: Request,
  maxBodyBytes: number,
): Promise<Response> {
  const type = res.header?.get("content-type") ?? "";
  let err: ConnectError | undefined;
  let bytes: Uint8Array | undefined;
  if (res.status !== 200 && type.startsWith("application/json")) {
    bytes = await collect(res.body);
    try {
      err = errorFromJsonBytes(bytes, undefined, new ConnectError(""));
    } catch {
      err = undefined; // not a Connect error body: pass it on
    }
  } else if (res.status === 200 && type.startsWith("application/grpc-web")) {
    bytes = await collect(res.body);
    if (bytes.byteLength >= 5 && (bytes[0] & trailerFlag) === trailerFlag) {
      err = findTrailerError(trailerParse(bytes.subarray(5)));
    }
  }
  if (err === undefined || hasQmtlDetail(err)) {
    if (bytes === undefined) return universalServerResponseToFetch(res);
    return new Response(bytes as BodyInit, {
      status: res.status,
      headers: res.header,
    });
  }
  let fixed: ConnectError;
  if (
    err.code === Code.Internal && err.rawMessage.startsWith("parse binary:")
  ) {
    fixed = connectErrorOf(
      await decodeFailure(input, body, req.headers, maxBodyBytes, err),
    );
  } else {
    fixed = withQmtlDetail(new ConnectError(err.rawMessage, err.code));
    if (err.rawMessage.startsWith("unknown compression")) {
      fixed.metadata.set("accept-encoding", gzip.name); // what we do accept
    }
  }
  // Keep protocol-independent headers connect-es set (e.g. Accept-Encoding).
  res.header?.forEach((v, k) => {
    if (!/^(content-|grpc-)/.test(k)) fixed.metadata.set(k, v);
  });
  return rpcErrorResponse(fixed, req.headers);
}

/** Why `body` does not decode as `input` (a ContractError naming where). */
async function decodeFailure(
  input: DescMessage,
  body: Uint8Array,
  headers: Headers,
  maxBodyBytes: number,
  original: ConnectError,
): Promise<QmtlError> {
  try {
    let msg = body;
    const type = headers.get("content-type") ?? "";
    if (type.startsWith("application/grpc-web")) {
      // One enveloped message: flags (1 byte), length (4 bytes), payload.
      const compressed = (msg[0] & 1) === 1;
      msg = msg.subarray(5);
      if (compressed) msg = await gzip.decompress(msg, maxBodyBytes);
    } else if (headers.get("content-encoding") === "gzip") {
      msg = await gzip.decompress(msg, maxBodyBytes);
    }
    decode(input, msg);
  } catch (e) {
    if (e instanceof QmtlError) return e;
  }
  return new ContractError(
    `decode ${input.name}: ${
      original.rawMessage.replace(/^parse binary: /, "")
    }`,
    { cause: original },
  );
}
