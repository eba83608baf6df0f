/**
 * The implementation of `qmtl.v1.GatewayService` (generated descriptor
 * `GatewayService`): one function per method, run by connect-es after the
 * gateway's pipeline authenticated the caller, checked the ACL, the
 * submission rate and the schema version. The caller arrives as the
 * {@link PRINCIPAL} context value.
 *
 * @module
 */

import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { ContextKey, ServiceImpl } from "@connectrpc/connect";
import { QmtlError } from "../../contracts/errors.ts";
import { checkQueryTags, FIELD_LIMITS } from "../../contracts/fields.ts";
import {
  BarRecordSchema,
  type GatewayService,
} from "../../contracts/messages.ts";
import type { TopicService } from "../topics/mod.ts";
import type { NodeRegistry } from "../../dag/registry.ts";
import type { Policy } from "../policy/mod.ts";
import type { StrategyService } from "../service.ts";
import type { Principal } from "../types.ts";

/**
 * Context value: the authenticated caller of a contract call (set by the
 * gateway's pipeline; `undefined` outside it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createContextValues } from "@connectrpc/connect";
 * import { PRINCIPAL } from "./gateway_service.ts";
 * const values = createContextValues().set(PRINCIPAL, { subject: "alice", roles: ["reader"] });
 * assert.equal(values.get(PRINCIPAL)?.subject, "alice");
 * ```
 */
export const PRINCIPAL: ContextKey<Principal | undefined> = createContextKey<
  Principal | undefined
>(undefined, { description: "qmtl principal" });

/**
 * Context value: the gateway's request id of a contract call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createContextValues } from "@connectrpc/connect";
 * import { REQUEST_ID } from "./gateway_service.ts";
 * assert.equal(createContextValues().set(REQUEST_ID, "r-1").get(REQUEST_ID), "r-1");
 * ```
 */
export const REQUEST_ID: ContextKey<string> = createContextKey("", {
  description: "qmtl request id",
});

/** Largest ListNodes page. */
const MAX_PAGE = 1000;

function principalOf(ctx: HandlerContext): Principal {
  const p = ctx.values.get(PRINCIPAL);
  if (p === undefined) {
    throw new QmtlError("E_UNAUTHENTICATED", "no authenticated caller");
  }
  return p;
}

function requireId(id: string): string {
  if (!id) {
    throw new QmtlError("E_INVALID", "strategy_id is required", {
      field: "strategy_id",
    });
  }
  return id;
}

/**
 * What {@link gatewayServiceImpl} needs.
 *
 * @example
 * ```ts
 * import type { GatewayServiceDeps } from "./gateway_service.ts";
 * function show(d: GatewayServiceDeps): void {
 *   console.log(d.policy.limitsFor("alice"));
 * }
 * ```
 */
export interface GatewayServiceDeps {
  /** Strategy operations. */
  service: StrategyService;
  /** The global DAG (node reads). */
  registry: NodeRegistry;
  /** Submission policy: the DAG limits are checked here, once decoded. */
  policy: Policy;
  /** Node topics and producer leases. */
  topics: TopicService;
}

/**
 * The `GatewayService` methods.
 *
 * @example
 * ```ts
 * import { createConnectRouter } from "@connectrpc/connect";
 * import { GatewayService } from "@qmtl/qmtl/contracts";
 * import type { GatewayServiceDeps } from "./gateway_service.ts";
 * import { gatewayServiceImpl } from "./gateway_service.ts";
 * function routes(deps: GatewayServiceDeps) {
 *   return createConnectRouter().service(GatewayService, gatewayServiceImpl(deps));
 * }
 * ```
 */
export function gatewayServiceImpl(
  deps: GatewayServiceDeps,
): ServiceImpl<typeof GatewayService> {
  const { service, registry, policy, topics } = deps;
  return {
    async submitStrategy(req, ctx) {
      const p = principalOf(ctx);
      if (req.dag === undefined) {
        throw new QmtlError("E_INVALID", "dag is required", { field: "dag" });
      }
      policy.checkDag(p.subject, req.dag);
      return await service.submit(p, req);
    },
    async getStrategy(req, ctx) {
      const rec = await service.visible(
        principalOf(ctx),
        requireId(req.strategyId),
      );
      return { status: rec.status };
    },
    async retireStrategy(req, ctx) {
      return {
        status: await service.retire(
          principalOf(ctx),
          requireId(req.strategyId),
        ),
      };
    },
    async listNodes(req) {
      const page = await registry.listNodes({
        pageSize: req.pageSize ? Math.min(req.pageSize, MAX_PAGE) : undefined,
        pageToken: req.pageToken || undefined,
        nodeType: req.nodeType || undefined,
        intervalS: req.intervalS || undefined,
      });
      return { nodes: page.nodes, nextPageToken: page.nextPageToken };
    },
    async queryNodesByTags(req) {
      const mode = req.matchMode || "any";
      if (mode !== "any" && mode !== "all") {
        throw new QmtlError("E_INVALID", "match_mode must be any or all", {
          field: "match_mode",
        });
      }
      checkQueryTags(req.tags, "tags");
      const nodes = await registry.queryByTags(req.tags, {
        matchMode: mode,
        intervalS: req.intervalS || undefined,
        limit: FIELD_LIMITS.queryResults,
      });
      return { nodes };
    },
    async publishBars(req) {
      const bars = req.bars.map((b, i) => {
        if (b.value.case === undefined) {
          throw new QmtlError("E_INVALID", `bars[${i}] has no value`, {
            field: `bars[${i}].value`,
          });
        }
        return { barTs: b.barTs, data: toBinary(BarRecordSchema, b) };
      });
      const r = await topics.publish(req.topic, bars, req.leaseToken);
      return {
        accepted: r.accepted,
        dropped: r.dropped,
        ...(r.lastBarTs !== null ? { lastBarTs: r.lastBarTs } : {}),
      };
    },
    async readBars(req, ctx) {
      const got = await topics.read(
        req.cursors.map((c) => ({
          topic: c.topic,
          ...(c.afterBarTs !== undefined ? { afterBarTs: c.afterBarTs } : {}),
        })),
        {
          ...(req.limit ? { limit: req.limit } : {}),
          ...(req.waitMs ? { waitMs: req.waitMs } : {}),
          ...(req.tail ? { tail: req.tail } : {}),
          signal: ctx.signal,
        },
      );
      return {
        topics: got.map((t) => ({
          topic: t.topic,
          // The stored bar time is authoritative.
          bars: t.bars.map((b) => ({
            ...fromBinary(BarRecordSchema, b.data),
            barTs: b.barTs,
          })),
        })),
      };
    },
    async acquireLeases(req) {
      const grants = await topics.acquire(
        req.holder,
        req.ttlMs,
        req.leases.map((l) => ({ topic: l.topic, token: l.token })),
      );
      return {
        grants: grants.map((g) => ({
          topic: g.topic,
          granted: g.granted,
          holder: g.holder,
          token: g.token,
          ttlMs: Math.max(0, Math.round(g.ttlMs)),
          takeover: g.takeover,
          previousHolder: g.previousHolder,
          ...(g.lastBarTs !== null ? { lastBarTs: g.lastBarTs } : {}),
        })),
      };
    },
    async releaseLeases(req) {
      return {
        released: await topics.release(
          req.leases.map((l) => ({ topic: l.topic, token: l.token })),
        ),
      };
    },
  };
}
