/**
 * Read-only REST handlers under `/v1/` (GET and HEAD only).
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";
import { checkQueryTags, FIELD_LIMITS } from "../../contracts/fields.ts";
import type { StrategyStatus } from "../../contracts/messages.ts";
import type { NodeRegistry } from "../../dag/registry.ts";
import { seesAllStrategies } from "../acl/mod.ts";
import { stateFromName } from "../lifecycle/mod.ts";
import type { StrategyService } from "../service.ts";
import type { GatewayContext } from "../types.ts";
import { queryValues } from "./query.ts";
import { nodeView, stateView, strategyView, topicView } from "./views.ts";

/**
 * A REST handler.
 *
 * @example
 * ```ts
 * import type { RestHandler } from "./mod.ts";
 * const h: RestHandler = (c) => Promise.resolve(c.json({}));
 * ```
 */
export type RestHandler = (c: GatewayContext) => Promise<Response>;

function json(c: GatewayContext, body: unknown): Response {
  return c.json(body as Record<string, unknown>);
}

const JSON_TYPE = { "content-type": "application/json" } as const;

/**
 * The JSON text of a view of an immutable (frozen) record, computed once per
 * record: the memory store hands out the same frozen status until the next
 * transition, so repeated reads skip building and serialising the view.
 * Records that are not frozen (e.g. freshly parsed from Redis) are
 * serialised every time.
 */
function viewCache(
  view: (s: StrategyStatus) => unknown,
): (c: GatewayContext, s: StrategyStatus) => Response {
  const cache = new WeakMap<StrategyStatus, string>();
  return (c, s) => {
    let text = cache.get(s);
    if (text === undefined) {
      text = JSON.stringify(view(s));
      if (Object.isFrozen(s)) cache.set(s, text);
    }
    return c.body(text, 200, JSON_TYPE);
  };
}

/**
 * The REST handlers, keyed by route id suffix.
 *
 * @example
 * ```ts
 * import { restHandlers } from "./mod.ts";
 * import type { StrategyService } from "@qmtl/qmtl/gateway";
 * import type { NodeRegistry } from "@qmtl/qmtl/dag";
 * function handlersFor(service: StrategyService, registry: NodeRegistry) {
 *   const h = restHandlers(service, registry);
 *   return h.getStrategy;
 * }
 * ```
 */
export function restHandlers(
  service: StrategyService,
  registry: NodeRegistry,
): {
  listStrategies: RestHandler;
  getStrategy: RestHandler;
  getStrategyStatus: RestHandler;
  getQueueMap: RestHandler;
  listNodes: RestHandler;
  getNode: RestHandler;
  getDependencies: RestHandler;
  getDependents: RestHandler;
  nodesByTags: RestHandler;
  listTopics: RestHandler;
  getTopic: RestHandler;
} {
  const node = async (id: string) => {
    const r = await registry.getNode(id);
    if (!r) throw new QmtlError("E_NOT_FOUND", `no node ${id}`, { nodeId: id });
    return r;
  };
  const strategyJson = viewCache(strategyView);
  const stateJson = viewCache(stateView);
  const queueMapJson = viewCache((s) => ({
    strategyId: s.strategyId,
    state: strategyView(s).state,
    queueMap: s.queueMap,
  }));
  return {
    listStrategies: async (c) => {
      const p = c.get("principal");
      const q = queryValues(c, "rest.listStrategies");
      const page = await service.store.list({
        owner: seesAllStrategies(p) ? undefined : p?.subject,
        state: q.state === undefined
          ? undefined
          : stateFromName(q.state as string),
        pageSize: q.page_size as number | undefined,
        pageToken: q.page_token as string | undefined,
      });
      return json(c, {
        strategies: page.strategies.map(strategyView),
        nextPageToken: page.nextPageToken,
      });
    },
    getStrategy: async (c) =>
      strategyJson(
        c,
        (await service.visible(c.get("principal"), c.req.param("id")!)).status,
      ),
    getStrategyStatus: async (c) =>
      stateJson(
        c,
        (await service.visible(c.get("principal"), c.req.param("id")!)).status,
      ),
    getQueueMap: async (c) =>
      queueMapJson(
        c,
        (await service.visible(c.get("principal"), c.req.param("id")!)).status,
      ),
    listNodes: async (c) => {
      const q = queryValues(c, "rest.listNodes");
      const page = await registry.listNodes({
        pageSize: q.page_size as number | undefined,
        pageToken: q.page_token as string | undefined,
        nodeType: q.node_type as string | undefined,
        intervalS: q.interval_s as number | undefined,
      });
      return json(c, {
        nodes: page.nodes.map(nodeView),
        nextPageToken: page.nextPageToken,
      });
    },
    getNode: async (c) => json(c, nodeView(await node(c.req.param("nodeId")!))),
    getDependencies: async (c) =>
      json(c, {
        nodes: (await registry.dependencies(c.req.param("nodeId")!)).map(
          nodeView,
        ),
      }),
    getDependents: async (c) =>
      json(c, {
        nodes: (await registry.dependents(c.req.param("nodeId")!)).map(
          nodeView,
        ),
      }),
    nodesByTags: async (c) => {
      const q = queryValues(c, "rest.nodesByTags");
      const raw = q.tags as string;
      // Bounded before it is split: no valid list is longer than this.
      const longest = FIELD_LIMITS.queryTags * (FIELD_LIMITS.tagBytes * 3 + 2);
      if (raw.length > longest) {
        throw new QmtlError(
          "E_INVALID",
          `tags: the list is ${raw.length} characters long; at most ${FIELD_LIMITS.queryTags} tags of at most ${FIELD_LIMITS.tagBytes} bytes each are allowed`,
          { field: "tags", details: { limit: String(FIELD_LIMITS.queryTags) } },
        );
      }
      const tags = raw.split(",").map((t) => t.trim()).filter((t) => t !== "");
      checkQueryTags(tags, "tags");
      const nodes = await registry.queryByTags(tags, {
        matchMode: (q.match as "any" | "all" | undefined) ?? "any",
        intervalS: q.interval_s as number | undefined,
        limit: (q.limit as number | undefined) ?? FIELD_LIMITS.queryResults,
      });
      return json(c, { nodes: nodes.map(nodeView) });
    },
    listTopics: async (c) => {
      const q = queryValues(c, "rest.listTopics");
      const page = await registry.listTopics({
        pageSize: q.page_size as number | undefined,
        pageToken: q.page_token as string | undefined,
      });
      return json(c, {
        topics: page.topics.map(topicView),
        nextPageToken: page.nextPageToken,
      });
    },
    getTopic: async (c) => {
      const t = await registry.getTopic(c.req.param("name")!);
      if (!t) {
        throw new QmtlError("E_NOT_FOUND", `no topic ${c.req.param("name")}`);
      }
      return json(c, topicView(t));
    },
  };
}
