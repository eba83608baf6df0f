/**
 * `/openapi.json`: an OpenAPI 3.1 document generated from the route table
 * ({@link ROUTES}) and the JSON schemas of the REST views. Nothing is written
 * twice: adding a REST route to the table adds it here.
 *
 * @module
 */

import { type RouteDef, ROUTES } from "../acl/routes.ts";

const str = { type: "string" };
const int = { type: "integer" };
const strArr = { type: "array", items: str };
const errorRef = { $ref: "#/components/schemas/Error" };

/**
 * JSON schemas of the REST responses (component `schemas`).
 *
 * @example
 * ```ts
 * import { REST_SCHEMAS } from "@qmtl/qmtl/gateway";
 * Object.keys(REST_SCHEMAS).includes("StrategyStatus"); // true
 * ```
 */
export const REST_SCHEMAS: Readonly<Record<string, Record<string, unknown>>> =
  Object.freeze({
    Error: {
      type: "object",
      description: "RFC 9457 problem details with the QMTL error code.",
      properties: {
        type: str,
        title: str,
        status: int,
        detail: str,
        code: str,
        requestId: str,
        field: str,
        nodeId: str,
        details: { type: "object", additionalProperties: str },
      },
      required: ["type", "title", "status", "code"],
    },
    StrategyStatus: {
      type: "object",
      properties: {
        strategyId: str,
        name: str,
        owner: str,
        version: str,
        state: {
          type: "string",
          enum: ["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "RETIRED"],
        },
        dagHash: str,
        nodeCount: int,
        attempts: int,
        queueMap: { type: "object", additionalProperties: str },
        reused: strArr,
        created: strArr,
        sentinelId: str,
        error: {
          oneOf: [{ type: "null" }, {
            type: "object",
            properties: { code: str, message: str, nodeId: str },
          }],
        },
        callbackUrl: str,
        createdAtMs: int,
        updatedAtMs: int,
      },
      required: ["strategyId", "state", "dagHash"],
    },
    StrategyStateView: {
      type: "object",
      properties: {
        strategyId: str,
        state: str,
        attempts: int,
        retrying: { type: "boolean" },
        error: { oneOf: [{ type: "null" }, { type: "object" }] },
        updatedAtMs: int,
      },
    },
    StrategyPage: {
      type: "object",
      properties: {
        strategies: {
          type: "array",
          items: { $ref: "#/components/schemas/StrategyStatus" },
        },
        nextPageToken: str,
      },
    },
    QueueMap: {
      type: "object",
      properties: {
        strategyId: str,
        state: str,
        queueMap: { type: "object", additionalProperties: str },
      },
    },
    NodeRecord: {
      type: "object",
      properties: {
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
      },
    },
    NodeList: {
      type: "object",
      properties: {
        nodes: {
          type: "array",
          items: { $ref: "#/components/schemas/NodeRecord" },
        },
      },
    },
    NodePage: {
      type: "object",
      properties: {
        nodes: {
          type: "array",
          items: { $ref: "#/components/schemas/NodeRecord" },
        },
        nextPageToken: str,
      },
    },
    TopicDescriptor: {
      type: "object",
      properties: {
        name: str,
        nodeId: str,
        retentionMs: int,
        partitions: int,
        createdAtMs: int,
      },
    },
    TopicPage: {
      type: "object",
      properties: {
        topics: {
          type: "array",
          items: { $ref: "#/components/schemas/TopicDescriptor" },
        },
        nextPageToken: str,
      },
    },
    CloudEvent: {
      type: "object",
      description:
        "One SSE `data:` line: a CloudEvents 1.0 event in structured JSON mode.",
      properties: {
        specversion: str,
        id: str,
        source: str,
        type: str,
        subject: str,
        time: str,
        datacontenttype: str,
        data: { type: "object" },
      },
    },
  });

function openapiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const p = path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: p, params };
}

function operation(r: RouteDef): Record<string, unknown> {
  const { params } = openapiPath(r.path);
  const parameters = [
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
      schema: q.enum ? { type: q.type, enum: q.enum } : { type: q.type },
    })),
  ];
  const media = r.mediaType ?? "application/json";
  const errors: Record<string, unknown> = {};
  const problem = (d: string) => ({
    description: d,
    content: { "application/problem+json": { schema: errorRef } },
  });
  if (r.roles !== "public") {
    errors["401"] = problem(
      "Missing or invalid bearer token (`WWW-Authenticate` challenge).",
    );
    errors["403"] = problem(
      `Requires one of the roles: ${r.roles.join(", ")}.`,
    );
  }
  errors["405"] = {
    description: "Any method other than GET/HEAD (`Allow: GET, HEAD`).",
  };
  if (r.kind === "rest") {
    errors["400"] = problem("Invalid parameter.");
    errors["404"] = problem("Not found (or not visible to the caller).");
    errors["503"] = problem(
      "A backing service is unavailable (`Retry-After`).",
    );
  }
  return {
    operationId: r.id,
    summary: r.summary,
    tags: [r.kind === "rest" ? "rest" : "ops"],
    ...(r.roles === "public" ? { security: [] } : { "x-qmtl-roles": r.roles }),
    ...(parameters.length ? { parameters } : {}),
    responses: {
      "200": {
        description: "OK",
        content: {
          [media]: {
            schema: r.response
              ? { $ref: `#/components/schemas/${r.response}` }
              : { type: "object" },
          },
        },
      },
      ...errors,
    },
  };
}

/**
 * Build the OpenAPI document of every GET route of the table.
 *
 * @example
 * ```ts
 * import { buildOpenApi } from "@qmtl/qmtl/gateway";
 * const doc = buildOpenApi({ version: "0.1.0" });
 * Object.keys(doc.paths as object).includes("/v1/strategies"); // true
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
