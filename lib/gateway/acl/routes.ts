/**
 * The one route table of the Gateway: every REST route, RPC method and
 * operational endpoint, with the roles that may call it. The app, the ACL,
 * the 405 handling and `/openapi.json` are all built from it.
 *
 * @module
 */

import type { ApiKind, Role } from "../types.ts";

/**
 * Identifier of every route the Gateway serves.
 *
 * @example
 * ```ts
 * import type { RouteId } from "@qmtl/qmtl/gateway";
 * const id: RouteId = "rpc.SubmitStrategy";
 * ```
 */
export type RouteId =
  | "rpc.SubmitStrategy"
  | "rpc.GetStrategy"
  | "rpc.RetireStrategy"
  | "rpc.ListNodes"
  | "rpc.QueryNodesByTags"
  | "rpc.PublishBars"
  | "rpc.ReadBars"
  | "rpc.AcquireLeases"
  | "rpc.ReleaseLeases"
  | "rest.listStrategies"
  | "rest.getStrategy"
  | "rest.getStrategyStatus"
  | "rest.getQueueMap"
  | "rest.listNodes"
  | "rest.getNode"
  | "rest.getDependencies"
  | "rest.getDependents"
  | "rest.nodesByTags"
  | "rest.listTopics"
  | "rest.getTopic"
  | "rest.events"
  | "ops.healthz"
  | "ops.readyz"
  | "ops.metrics"
  | "ops.openapi";

/**
 * A query parameter of a REST route (used for validation docs and OpenAPI).
 *
 * @example
 * ```ts
 * import type { QueryParam } from "@qmtl/qmtl/gateway";
 * const q: QueryParam = { name: "state", type: "string", description: "Filter by state" };
 * ```
 */
export interface QueryParam {
  /** Parameter name. */
  name: string;
  /** JSON-schema type. */
  type: "string" | "integer";
  /** One line. */
  description: string;
  /** Allowed values, if an enumeration (an empty value is not one). */
  enum?: string[];
  /** True when required. */
  required?: boolean;
  /** Integers: smallest accepted value. */
  minimum?: number;
  /** Integers: largest accepted value. */
  maximum?: number;
  /** Strings: shortest accepted value (an empty string is absent otherwise). */
  minLength?: number;
  /** Strings: a regular expression (ECMA-262) the value must contain a match of. */
  pattern?: string;
}

/**
 * One entry of the route table.
 *
 * @example
 * ```ts
 * import { ROUTES } from "@qmtl/qmtl/gateway";
 * const r = ROUTES.find((r) => r.id === "rest.getNode")!;
 * console.log(r.method, r.path, r.roles);
 * ```
 */
export interface RouteDef {
  /** Stable identifier. */
  id: RouteId;
  /** API surface. */
  kind: ApiKind;
  /** The one method the route answers (`GET` also answers `HEAD`). */
  method: "GET" | "POST";
  /** Hono path pattern. */
  path: string;
  /** Roles allowed to call it; `"public"` needs no token. */
  roles: readonly Role[] | "public";
  /** One-line summary (OpenAPI `summary`). */
  summary: string;
  /** Query parameters (REST only). */
  query?: readonly QueryParam[];
  /** Name of the JSON schema of a 200 response (REST only, see `openapi/`). */
  response?: string;
  /** Response media type, default `application/json`. */
  mediaType?: string;
}

const READ_ALL: readonly Role[] = ["reader", "operator", "service"];
/**
 * Reads of the global DAG: a submitter must be able to look up existing
 * nodes to build its strategies on them.
 */
const READ_NODES: readonly Role[] = [
  "reader",
  "submitter",
  "operator",
  "service",
];
const READ_STRATEGIES: readonly Role[] = [
  "reader",
  "submitter",
  "operator",
  "service",
];
const PAGE: readonly QueryParam[] = [
  {
    name: "page_size",
    type: "integer",
    description: "Page size (default 100).",
    minimum: 1,
    maximum: 1000,
  },
  {
    name: "page_token",
    type: "string",
    description:
      "`nextPageToken` of the previous page; absent or empty: the first page.",
  },
];

const INTERVAL: QueryParam = {
  name: "interval_s",
  type: "integer",
  description: "Only nodes with this interval, seconds.",
  minimum: 1,
  maximum: 999_999_999,
};

/**
 * Every route. Default deny: a path or method not listed here is 404 or 405,
 * and a listed route admits only its `roles`.
 *
 * @example
 * ```ts
 * import { ROUTES } from "@qmtl/qmtl/gateway";
 * for (const r of ROUTES) console.log(r.method, r.path, r.roles);
 * ```
 */
export const ROUTES: readonly RouteDef[] = Object.freeze(
  [
    {
      id: "rpc.SubmitStrategy",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/SubmitStrategy",
      roles: ["submitter", "service"],
      summary: "Submit a strategy DAG (idempotent per owner and DAG).",
    },
    {
      id: "rpc.GetStrategy",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/GetStrategy",
      roles: READ_STRATEGIES,
      summary: "Full status of one strategy.",
    },
    {
      id: "rpc.RetireStrategy",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/RetireStrategy",
      roles: ["submitter", "operator", "service"],
      summary:
        "Retire a completed strategy version (submitters: their own only).",
    },
    {
      id: "rpc.ListNodes",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/ListNodes",
      roles: READ_NODES,
      summary: "Page through the nodes of the global DAG.",
    },
    {
      id: "rpc.QueryNodesByTags",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/QueryNodesByTags",
      roles: READ_NODES,
      summary: "Nodes whose tags match a query.",
    },
    {
      id: "rpc.PublishBars",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/PublishBars",
      roles: ["submitter", "operator", "service"],
      summary:
        "Publish bars to a topic (under the producer lease for computed nodes).",
    },
    {
      id: "rpc.ReadBars",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/ReadBars",
      roles: READ_NODES,
      summary: "New bars of several topics (long poll).",
    },
    {
      id: "rpc.AcquireLeases",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/AcquireLeases",
      roles: ["submitter", "operator", "service"],
      summary: "Acquire or renew producer leases on topics.",
    },
    {
      id: "rpc.ReleaseLeases",
      kind: "rpc",
      method: "POST",
      path: "/qmtl.v1.GatewayService/ReleaseLeases",
      roles: ["submitter", "operator", "service"],
      summary: "Release producer leases.",
    },
    {
      id: "rest.listStrategies",
      kind: "rest",
      method: "GET",
      path: "/v1/strategies",
      roles: READ_STRATEGIES,
      summary: "Strategies the caller may see, newest first.",
      query: [
        ...PAGE,
        {
          name: "state",
          type: "string",
          description: "Only strategies in this state.",
          enum: ["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "RETIRED"],
        },
      ],
      response: "StrategyPage",
    },
    {
      id: "rest.getStrategy",
      kind: "rest",
      method: "GET",
      path: "/v1/strategies/:id",
      roles: READ_STRATEGIES,
      summary: "One strategy: status, queue map, error.",
      response: "StrategyStatus",
    },
    {
      id: "rest.getStrategyStatus",
      kind: "rest",
      method: "GET",
      path: "/v1/strategies/:id/status",
      roles: READ_STRATEGIES,
      summary: "Lifecycle state, attempts and last error of one strategy.",
      response: "StrategyStateView",
    },
    {
      id: "rest.getQueueMap",
      kind: "rest",
      method: "GET",
      path: "/v1/strategies/:id/queue-map",
      roles: READ_STRATEGIES,
      summary: "node ID → topic of a completed strategy.",
      response: "QueueMap",
    },
    {
      id: "rest.listNodes",
      kind: "rest",
      method: "GET",
      path: "/v1/nodes",
      roles: READ_NODES,
      summary: "Nodes of the global DAG, ordered by ID.",
      query: [
        ...PAGE,
        {
          name: "node_type",
          type: "string",
          description: "Only nodes of this type (empty: any).",
        },
        INTERVAL,
      ],
      response: "NodePage",
    },
    {
      id: "rest.nodesByTags",
      kind: "rest",
      method: "GET",
      path: "/v1/nodes/by-tags",
      roles: READ_NODES,
      summary: "Nodes carrying any / all of the given tags.",
      query: [
        {
          name: "tags",
          type: "string",
          description:
            "Comma-separated tags: 1-64 tags of 1-128 bytes each (no commas, printable).",
          required: true,
          minLength: 1,
          pattern: "[^,\\s]",
        },
        {
          name: "match",
          type: "string",
          description: "`any` (default) or `all`.",
          enum: ["any", "all"],
        },
        INTERVAL,
        {
          name: "limit",
          type: "integer",
          description:
            "Most nodes answered, 1-1000 (default 1000), in node-ID order.",
          minimum: 1,
          maximum: 1000,
        },
      ],
      response: "NodeList",
    },
    {
      id: "rest.getNode",
      kind: "rest",
      method: "GET",
      path: "/v1/nodes/:nodeId",
      roles: READ_NODES,
      summary: "One node of the global DAG.",
      response: "NodeRecord",
    },
    {
      id: "rest.getDependencies",
      kind: "rest",
      method: "GET",
      path: "/v1/nodes/:nodeId/dependencies",
      roles: READ_NODES,
      summary: "The inputs of a node.",
      response: "NodeList",
    },
    {
      id: "rest.getDependents",
      kind: "rest",
      method: "GET",
      path: "/v1/nodes/:nodeId/dependents",
      roles: READ_NODES,
      summary: "The nodes that consume a node.",
      response: "NodeList",
    },
    {
      id: "rest.listTopics",
      kind: "rest",
      method: "GET",
      path: "/v1/topics",
      roles: READ_ALL,
      summary: "Topics, ordered by name.",
      query: PAGE,
      response: "TopicPage",
    },
    {
      id: "rest.getTopic",
      kind: "rest",
      method: "GET",
      path: "/v1/topics/:name",
      roles: READ_ALL,
      summary: "One topic.",
      response: "TopicDescriptor",
    },
    {
      id: "rest.events",
      kind: "rest",
      method: "GET",
      path: "/v1/events",
      roles: READ_STRATEGIES,
      summary:
        "Server-sent lifecycle events (CloudEvents JSON), per strategy or every strategy the caller may see; resumable with Last-Event-ID.",
      query: [
        {
          name: "strategy",
          type: "string",
          description: "Only events of this strategy (absent or empty: all).",
        },
        {
          name: "last_event_id",
          type: "string",
          description:
            "Resume after this event (the SSE `id`); the `Last-Event-ID` header wins.",
          pattern: "^(\\d{1,20}-\\d{1,20})?$",
        },
      ],
      response: "CloudEvent",
      mediaType: "text/event-stream",
    },
    {
      id: "ops.healthz",
      kind: "ops",
      method: "GET",
      path: "/healthz",
      roles: "public",
      summary: "Liveness of the process.",
    },
    {
      id: "ops.readyz",
      kind: "ops",
      method: "GET",
      path: "/readyz",
      roles: "public",
      summary: "Readiness: registry, queue, migrations, worker.",
    },
    {
      id: "ops.metrics",
      kind: "ops",
      method: "GET",
      path: "/metrics",
      roles: ["operator", "service"],
      summary: "Prometheus metrics.",
    },
    {
      id: "ops.openapi",
      kind: "ops",
      method: "GET",
      path: "/openapi.json",
      roles: "public",
      summary: "This API's OpenAPI 3.1 document.",
    },
  ] satisfies RouteDef[],
);

/**
 * The route with this id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { routeById } from "@qmtl/qmtl/gateway";
 * assert.equal(routeById("ops.healthz").path, "/healthz");
 * ```
 */
export function routeById(id: RouteId): RouteDef {
  const r = ROUTES.find((r) => r.id === id);
  if (!r) throw new Error(`unknown route ${id}`);
  return r;
}
