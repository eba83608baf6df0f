/**
 * Connect-protocol unary handlers for `qmtl.v1.GatewayService`:
 * `POST /qmtl.v1.GatewayService/<Method>` with `application/proto` or
 * `application/json`; the response uses the request's format. Errors are
 * produced by the error mapper as Connect error JSON.
 *
 * @module
 */

import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { QmtlError } from "../../contracts/errors.ts";
import {
  GetStrategyRequestSchema,
  GetStrategyResponseSchema,
  ListNodesRequestSchema,
  ListNodesResponseSchema,
  QueryNodesByTagsRequestSchema,
  QueryNodesByTagsResponseSchema,
  RetireStrategyRequestSchema,
  RetireStrategyResponseSchema,
  SubmitStrategyRequestSchema,
  SubmitStrategyResponseSchema,
} from "../../contracts/messages.ts";
import { decodeBody, encodeBody, wireFormatOf } from "../codec.ts";
import type { GatewayContext, Principal } from "../types.ts";
import type { StrategyService } from "../service.ts";
import type { NodeRegistry } from "../../dag/registry.ts";

/**
 * Build a unary handler from a typed function.
 *
 * @example
 * ```ts
 * import { GetStrategyRequestSchema, GetStrategyResponseSchema } from "@qmtl/qmtl/contracts";
 * import { unary } from "./mod.ts";
 * const h = unary(GetStrategyRequestSchema, GetStrategyResponseSchema, async (_p, req) => {
 *   throw new Error(`not implemented: ${req.strategyId}`);
 * });
 * ```
 */
export function unary<I extends DescMessage, O extends DescMessage>(
  input: I,
  output: O,
  fn: (
    principal: Principal,
    req: MessageShape<I>,
    c: GatewayContext,
  ) => Promise<MessageInitShape<O>>,
): (c: GatewayContext) => Promise<Response> {
  return async (c) => {
    const contentType = c.req.header("content-type");
    const format = wireFormatOf(contentType);
    if (!format) {
      throw new QmtlError(
        "E_INVALID",
        `unsupported content-type ${
          JSON.stringify(contentType ?? "")
        } (use application/proto or application/json)`,
      );
    }
    const pre = input.typeName === SubmitStrategyRequestSchema.typeName
      ? c.get("submitRequest")
      : undefined;
    const req = (pre ??
      decodeBody(
        input,
        c.get("rawBody") ?? new Uint8Array(),
        format,
      )) as MessageShape<I>;
    const out = create(output, await fn(c.get("principal")!, req, c));
    return new Response(encodeBody(output, out, format) as BodyInit, {
      status: 200,
      headers: {
        "content-type": format === "proto"
          ? "application/proto"
          : "application/json",
      },
    });
  };
}

/** Largest ListNodes page. */
const MAX_PAGE = 1000;

/**
 * The five GatewayService handlers.
 *
 * @example
 * ```ts
 * import { rpcHandlers } from "./mod.ts";
 * import type { StrategyService } from "@qmtl/qmtl/gateway";
 * import type { NodeRegistry } from "@qmtl/qmtl/dag";
 * function handlersFor(service: StrategyService, registry: NodeRegistry) {
 *   const handlers = rpcHandlers(service, registry);
 *   return handlers.SubmitStrategy;
 * }
 * ```
 */
export function rpcHandlers(service: StrategyService, registry: NodeRegistry): {
  SubmitStrategy: (c: GatewayContext) => Promise<Response>;
  GetStrategy: (c: GatewayContext) => Promise<Response>;
  RetireStrategy: (c: GatewayContext) => Promise<Response>;
  ListNodes: (c: GatewayContext) => Promise<Response>;
  QueryNodesByTags: (c: GatewayContext) => Promise<Response>;
} {
  return {
    SubmitStrategy: unary(
      SubmitStrategyRequestSchema,
      SubmitStrategyResponseSchema,
      (p, req) => service.submit(p, req),
    ),
    GetStrategy: unary(
      GetStrategyRequestSchema,
      GetStrategyResponseSchema,
      async (p, req) => {
        if (!req.strategyId) {
          throw new QmtlError("E_INVALID", "strategy_id is required", {
            field: "strategy_id",
          });
        }
        return { status: (await service.visible(p, req.strategyId)).status };
      },
    ),
    RetireStrategy: unary(
      RetireStrategyRequestSchema,
      RetireStrategyResponseSchema,
      async (p, req) => {
        if (!req.strategyId) {
          throw new QmtlError("E_INVALID", "strategy_id is required", {
            field: "strategy_id",
          });
        }
        return { status: await service.retire(p, req.strategyId) };
      },
    ),
    ListNodes: unary(
      ListNodesRequestSchema,
      ListNodesResponseSchema,
      async (_p, req) => {
        const page = await registry.listNodes({
          pageSize: req.pageSize ? Math.min(req.pageSize, MAX_PAGE) : undefined,
          pageToken: req.pageToken || undefined,
          nodeType: req.nodeType || undefined,
          intervalS: req.intervalS || undefined,
        });
        return { nodes: page.nodes, nextPageToken: page.nextPageToken };
      },
    ),
    QueryNodesByTags: unary(
      QueryNodesByTagsRequestSchema,
      QueryNodesByTagsResponseSchema,
      async (_p, req) => {
        const mode = req.matchMode || "any";
        if (mode !== "any" && mode !== "all") {
          throw new QmtlError("E_INVALID", "match_mode must be any or all", {
            field: "match_mode",
          });
        }
        if (req.tags.length === 0) {
          throw new QmtlError("E_INVALID", "tags must not be empty", {
            field: "tags",
          });
        }
        const nodes = await registry.queryByTags(req.tags, {
          matchMode: mode,
          intervalS: req.intervalS || undefined,
        });
        return { nodes };
      },
    ),
  };
}
