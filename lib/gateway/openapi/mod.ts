/**
 * `/openapi.json`: an OpenAPI 3.1 document generated from the route table
 * ({@link ROUTES}) and the JSON schemas of the REST views. Nothing is written
 * twice: adding a REST route to the table adds it here.
 *
 * @module
 */

import {
  type QueryParam,
  type RouteDef,
  type RouteId,
  ROUTES,
} from "../acl/routes.ts";

const str = { type: "string" };
const int = { type: "integer" };
const strArr = { type: "array", items: str };
const strMap = { type: "object", additionalProperties: str };
const errorRef = { $ref: "#/components/schemas/Error" };
const STATES = ["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "RETIRED"];
const state = { type: "string", enum: STATES };
const strategyError = {
  oneOf: [{ type: "null" }, {
    type: "object",
    properties: { code: str, message: str, nodeId: str },
    required: ["code", "message", "nodeId"],
    additionalProperties: false,
  }],
};

/** A closed object: every listed property present, nothing else. */
function closed(
  properties: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: "object",
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
    ...extra,
  };
}

/**
 * JSON schemas of the REST and operational responses (component
 * `schemas`). Objects are closed (`additionalProperties: false`) and list
 * every property they always carry as `required`:
 * `tests/gateway/openapi_test.ts` validates every response against them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REST_SCHEMAS } from "@qmtl/qmtl/gateway";
 * assert.ok(Object.keys(REST_SCHEMAS).includes("StrategyStatus"));
 * ```
 */
export const REST_SCHEMAS: Readonly<Record<string, Record<string, unknown>>> =
  Object.freeze({
    Error: {
      type: "object",
      description:
        "RFC 9457 problem details with the QMTL error code (`field`, `nodeId`, `details` when the error has them).",
      properties: {
        type: str,
        title: str,
        status: int,
        detail: str,
        code: str,
        requestId: str,
        field: str,
        nodeId: str,
        details: strMap,
      },
      required: ["type", "title", "status", "detail", "code", "requestId"],
      additionalProperties: false,
    },
    StrategyStatus: closed({
      strategyId: str,
      name: str,
      owner: str,
      version: str,
      state,
      dagHash: str,
      nodeCount: int,
      attempts: int,
      queueMap: strMap,
      reused: strArr,
      created: strArr,
      sentinelId: str,
      error: strategyError,
      callbackUrl: str,
      createdAtMs: int,
      updatedAtMs: int,
    }),
    StrategyStateView: closed({
      strategyId: str,
      state,
      attempts: int,
      retrying: { type: "boolean" },
      error: strategyError,
      updatedAtMs: int,
    }),
    StrategyPage: closed({
      strategies: {
        type: "array",
        items: { $ref: "#/components/schemas/StrategyStatus" },
      },
      nextPageToken: {
        type: "string",
        description:
          "Pass as `page_token` for the next page; empty at the end.",
      },
    }),
    QueueMap: closed({ strategyId: str, state, queueMap: strMap }),
    NodeRecord: closed({
      nodeId: str,
      nodeType: str,
      intervalS: int,
      period: int,
      paramsJson: str,
      inputs: strArr,
      codeHash: str,
      schemaCompatId: str,
      name: str,
      tags: strArr,
      topic: str,
      refCount: int,
      createdAtMs: int,
      updatedAtMs: int,
    }),
    NodeList: closed({
      nodes: {
        type: "array",
        items: { $ref: "#/components/schemas/NodeRecord" },
      },
    }),
    NodePage: closed({
      nodes: {
        type: "array",
        items: { $ref: "#/components/schemas/NodeRecord" },
      },
      nextPageToken: str,
    }),
    TopicDescriptor: closed({
      name: str,
      nodeId: str,
      retentionMs: int,
      partitions: int,
      createdAtMs: int,
    }),
    TopicPage: closed({
      topics: {
        type: "array",
        items: { $ref: "#/components/schemas/TopicDescriptor" },
      },
      nextPageToken: str,
    }),
    CloudEvent: closed({
      specversion: { type: "string", enum: ["1.0"] },
      id: str,
      source: str,
      type: str,
      subject: str,
      time: str,
      datacontenttype: str,
      data: { $ref: "#/components/schemas/LifecycleData" },
    }, {
      description:
        "A lifecycle event, CloudEvents 1.0 in structured JSON mode: the `data:` line of each SSE event.",
    }),
    LifecycleData: {
      type: "object",
      properties: {
        strategyId: str,
        owner: str,
        version: str,
        from: { type: "string", description: '`""` for the first event.' },
        state,
        attempts: int,
        dagHash: str,
        queueMap: strMap,
        reused: strArr,
        created: strArr,
        error: {
          type: "object",
          properties: { code: str, message: str },
          required: ["code", "message"],
          additionalProperties: false,
        },
      },
      required: [
        "strategyId",
        "owner",
        "version",
        "from",
        "state",
        "attempts",
        "dagHash",
      ],
      additionalProperties: false,
    },
    Health: closed({ status: { type: "string", enum: ["ok"] } }),
    Readiness: closed({
      status: { type: "string", enum: ["ready", "not ready"] },
      reasons: { ...strArr, description: "One line per failing check." },
      checks: {
        type: "object",
        description:
          "Each check's result; dependency checks add latency and their last error.",
        additionalProperties: {
          type: "object",
          properties: { ok: { type: "boolean" }, detail: str },
          required: ["ok", "detail"],
        },
      },
    }),
  });

function openapiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const p = path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: p, params };
}

function querySchema(q: QueryParam): Record<string, unknown> {
  if (q.type === "integer") {
    return {
      type: "integer",
      ...(q.minimum !== undefined ? { minimum: q.minimum } : {}),
      ...(q.maximum !== undefined ? { maximum: q.maximum } : {}),
    };
  }
  if (q.enum) return { type: "string", enum: q.enum };
  return {
    type: "string",
    ...(q.minLength !== undefined ? { minLength: q.minLength } : {}),
    ...(q.pattern !== undefined ? { pattern: q.pattern } : {}),
  };
}

/** The 200 answer of a route that is not a plain JSON view. */
const OK_CONTENT: Partial<Record<RouteId, Record<string, unknown>>> = {
  "ops.healthz": {
    "application/json": { schema: { $ref: "#/components/schemas/Health" } },
  },
  "ops.readyz": {
    "application/json": {
      schema: { $ref: "#/components/schemas/Readiness" },
    },
  },
  "ops.metrics": {
    "text/plain; version=0.0.4": {
      schema: {
        type: "string",
        description: "Prometheus text exposition format 0.0.4.",
      },
    },
  },
  "ops.openapi": {
    "application/json": {
      schema: { type: "object", description: "This document." },
    },
  },
  "rest.events": {
    "text/event-stream": {
      schema: {
        type: "string",
        description:
          "Server-sent events: `retry:` and `:` comment lines, then per event `id: <entry id>`, `event: <type>` and one `data:` line holding a CloudEvent as JSON (see `x-qmtl-event-data`); heartbeat comments every 15 s; the stream ends after 5 minutes.",
      },
      "x-qmtl-event-data": {
        type: "string",
        contentMediaType: "application/json",
        contentSchema: { $ref: "#/components/schemas/CloudEvent" },
      },
    },
  },
};

function operation(r: RouteDef): Record<string, unknown> {
  const { params } = openapiPath(r.path);
  const parameters: Record<string, unknown>[] = [
    ...params.map((name) => ({
      name,
      in: "path",
      required: true,
      schema: str,
    })),
    ...(r.query ?? []).map((q) => ({
      name: q.name,
      in: "query",
      required: q.required ?? false,
      description: q.description,
      schema: querySchema(q),
    })),
  ];
  if (r.id === "rest.events") {
    parameters.push({
      name: "Last-Event-ID",
      in: "header",
      required: false,
      description: "Resume after this event (the SSE `id`).",
      schema: { type: "string", pattern: "^(\\d{1,20}-\\d{1,20})?$" },
    });
  }
  const problem = (d: string) => ({
    description: d,
    content: { "application/problem+json": { schema: errorRef } },
  });
  const responses: Record<string, unknown> = {
    "200": {
      description: "OK",
      content: OK_CONTENT[r.id] ?? {
        [r.mediaType ?? "application/json"]: {
          schema: r.response
            ? { $ref: `#/components/schemas/${r.response}` }
            : { type: "object" },
        },
      },
    },
  };
  if (r.query?.length || r.id === "rest.events") {
    responses["400"] = problem(
      "A query parameter (or `Last-Event-ID`) does not satisfy its schema; `field` names it.",
    );
  }
  if (r.roles !== "public") {
    responses["401"] = problem(
      "Missing or invalid bearer token (`WWW-Authenticate` challenge).",
    );
    responses["403"] = problem(
      `Requires one of the roles: ${r.roles.join(", ")}.`,
    );
  }
  if (params.length > 0 || r.id === "rest.events") {
    responses["404"] = problem("Not found (or not visible to the caller).");
  }
  responses["405"] = problem(
    "Any method other than GET/HEAD (`Allow: GET, HEAD`).",
  );
  if (r.kind === "rest") {
    responses["503"] = problem(
      "A backing service is unavailable (`Retry-After`).",
    );
  }
  if (r.id === "ops.readyz") {
    responses["503"] = {
      description: "Not ready: `reasons` says which checks fail.",
      content: OK_CONTENT["ops.readyz"],
    };
  }
  return {
    operationId: r.id,
    summary: r.summary,
    tags: [r.kind === "rest" ? "rest" : "ops"],
    ...(r.roles === "public" ? { security: [] } : { "x-qmtl-roles": r.roles }),
    ...(parameters.length ? { parameters } : {}),
    responses,
  };
}

/**
 * Build the OpenAPI document of every GET route of the table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildOpenApi } from "@qmtl/qmtl/gateway";
 * const doc = buildOpenApi({ version: "0.1.0" });
 * assert.ok(Object.keys(doc.paths as object).includes("/v1/strategies"));
 * ```
 */
export function buildOpenApi(
  options: { version?: string; routes?: readonly RouteDef[] } = {},
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of options.routes ?? ROUTES) {
    if (r.method !== "GET") continue;
    const { path } = openapiPath(r.path);
    paths[path] = { get: operation(r) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "QMTL Gateway REST API",
      version: options.version ?? "0.1.0",
      description:
        "Read-only REST views of strategies, nodes, topics and events. Writes go through the Connect API `qmtl.v1.GatewayService`.",
    },
    paths,
    components: {
      schemas: REST_SCHEMAS,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
      },
    },
    security: [{ bearer: [] }],
  };
}
