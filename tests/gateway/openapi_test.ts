/**
 * `/openapi.json` tells the truth: every REST and operational response the
 * gateway gives — 200s, 400s for each query constraint the document
 * declares, 401, 403, 404, 405, 503 — has its status documented for that
 * operation, the documented content type, and a body valid against the
 * documented schema (SSE `data:` lines against the CloudEvent schema). The
 * constraints are probed from the document itself: a value it forbids is
 * refused, a boundary it allows is accepted.
 */
import assert from "node:assert/strict";
import {
  createGateway,
  createLogger,
  type Gateway,
  ROUTES,
} from "../../lib/gateway/mod.ts";
import { MemoryRegistry, UnavailableError } from "../../lib/dag/mod.ts";
import type { NodeRegistry } from "../../lib/dag/mod.ts";
import { MemoryEventLog, MemoryQueue } from "../../lib/queue/mod.ts";
import { QmtlClient, StrategyBuilder } from "../../sdk/mod.ts";
import { validate } from "../support/json_schema.ts";
import { TEST_AUTH, token } from "../support/auth.ts";
import { input60, step60 } from "../sdk/fixtures/nodes.ts";

type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
type Operation = {
  operationId: string;
  parameters?: {
    name: string;
    in: string;
    required: boolean;
    schema: Record<string, unknown>;
  }[];
  responses: Record<
    string,
    { content?: Record<string, Record<string, unknown>> }
  >;
};

const auth = TEST_AUTH;

/** A registry that can be switched to "unavailable". */
function switchable(inner: NodeRegistry): NodeRegistry & { down: boolean } {
  const state = { down: false };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "down") return state.down;
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        if (state.down && prop !== "close") {
          if (prop === "health") {
            return Promise.resolve({ ok: false, detail: "switched off" });
          }
          return Promise.reject(new UnavailableError("registry switched off"));
        }
        return v.apply(target, args);
      };
    },
    set(_t, prop, value) {
      if (prop === "down") {
        state.down = value;
        return true;
      }
      return false;
    },
  }) as NodeRegistry & { down: boolean };
}

function mediaMatches(actual: string, documented: string): boolean {
  const parse = (t: string) => {
    const [type, ...params] = t.split(";").map((s) => s.trim().toLowerCase());
    return { type, params };
  };
  const a = parse(actual);
  const d = parse(documented);
  return a.type === d.type && d.params.every((p) => a.params.includes(p));
}

async function sseEvents(res: Response, want: number): Promise<string[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const data: string[] = [];
  const until = Date.now() + 10_000;
  while (data.length < want && Date.now() < until) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of block.split("\n")) {
        if (line.startsWith("data: ")) data.push(line.slice(6));
      }
    }
  }
  await reader.cancel();
  return data;
}

Deno.test("openapi: every response matches the document (status, content type, schema), and every declared constraint is enforced", async () => {
  const registry = switchable(new MemoryRegistry());
  const gw: Gateway = createGateway({
    registry,
    queue: new MemoryQueue(),
    events: new MemoryEventLog(),
    auth,
    logger: createLogger({ level: "error", sink: () => {} }),
    sse: { maxDurationMs: 5_000, heartbeatMs: 1_000, pollMs: 50 },
  });
  const fetchApp = (input: string | URL | Request, init?: RequestInit) =>
    Promise.resolve(gw.app.fetch(new Request(input, init)));
  const sign = token;
  const tokens = {
    reader: await sign("rita", ["reader"]),
    submitter: await sign("sam", ["submitter"]),
    operator: await sign("olga", ["operator"]),
  };
  try {
    // Something to read: a completed strategy with nodes and topics.
    const client = new QmtlClient({
      url: "http://gateway",
      token: tokens.submitter,
      fetch: fetchApp,
    });
    const s = new StrategyBuilder("openapi_probe");
    const px = input60(s, "px", ["oa", "px"]);
    step60(s, "twice", [px], 1, (v) => v.last * 2);
    const ack = await client.submit(s, { version: "1" });
    const status = await client.waitFor(ack.strategyId, "COMPLETED", {
      timeoutMs: 10_000,
    });
    const nodeId = Object.keys(status.queueMap)[1];
    const topic = status.queueMap[nodeId];

    const doc: Doc = await (await gw.app.request("/openapi.json")).json();
    const seen = new Set<string>();

    const call = async (
      template: string,
      concrete: string,
      token: string | undefined,
      expect: number,
      init: RequestInit = {},
    ) => {
      const headers = new Headers(init.headers);
      if (token) headers.set("authorization", `Bearer ${token}`);
      const res = await gw.app.request(concrete, { ...init, headers });
      const method = (init.method ?? "GET").toLowerCase();
      const op = doc.paths[template]?.get;
      assert.ok(op, `${template} is documented`);
      const what = `${init.method ?? "GET"} ${concrete} → ${res.status}`;
      const documented = op.responses[String(res.status)];
      assert.ok(documented, `${what}: status not documented for ${template}`);
      assert.equal(res.status, expect, `${what}: ${await res.clone().text()}`);
      seen.add(`${template} ${res.status}`);
      const type = res.headers.get("content-type") ?? "";
      const media = Object.entries(documented.content ?? {}).find(([m]) =>
        mediaMatches(type, m)
      );
      assert.ok(
        media,
        `${what}: content type ${type} not documented (${
          Object.keys(documented.content ?? {})
        })`,
      );
      const [mediaType, mediaObj] = media;
      const schema = mediaObj.schema as Record<string, unknown>;
      if (mediaType === "text/event-stream") {
        const data = await sseEvents(res, 3);
        assert.ok(data.length >= 3, `${what}: ${data.length} events`);
        const dataSchema = mediaObj["x-qmtl-event-data"] as Record<
          string,
          unknown
        >;
        for (const d of data) {
          assert.deepEqual(validate(d, dataSchema, doc), [], `${what}: ${d}`);
        }
        return;
      }
      const text = await res.text();
      const body = mediaType.startsWith("text/plain") ? text : JSON.parse(text);
      assert.deepEqual(
        validate(body, schema, doc),
        [],
        `${what}: ${text.slice(0, 300)}`,
      );
      if (method === "get" && res.status === 200) seen.add(`${template} ok`);
    };

    const concrete: Record<string, string> = {
      "/v1/strategies/{id}": `/v1/strategies/${ack.strategyId}`,
      "/v1/strategies/{id}/status": `/v1/strategies/${ack.strategyId}/status`,
      "/v1/strategies/{id}/queue-map":
        `/v1/strategies/${ack.strategyId}/queue-map`,
      "/v1/nodes/{nodeId}": `/v1/nodes/${encodeURIComponent(nodeId)}`,
      "/v1/nodes/{nodeId}/dependencies": `/v1/nodes/${
        encodeURIComponent(nodeId)
      }/dependencies`,
      "/v1/nodes/{nodeId}/dependents": `/v1/nodes/${
        encodeURIComponent(Object.keys(status.queueMap)[0])
      }/dependents`,
      "/v1/topics/{name}": `/v1/topics/${topic}`,
      "/v1/nodes/by-tags": "/v1/nodes/by-tags?tags=oa,px&match=all",
      "/v1/events": `/v1/events?strategy=${ack.strategyId}`,
    };
    const bogus: Record<string, string> = {
      "/v1/strategies/{id}": "/v1/strategies/st_nope",
      "/v1/strategies/{id}/status": "/v1/strategies/st_nope/status",
      "/v1/strategies/{id}/queue-map": "/v1/strategies/st_nope/queue-map",
      "/v1/nodes/{nodeId}": "/v1/nodes/sha256%3Anope",
      "/v1/topics/{name}": "/v1/topics/nope_v1",
      "/v1/events": "/v1/events?strategy=st_nope",
    };
    const tokenFor = (roles: readonly string[] | "public") =>
      roles === "public"
        ? undefined
        : roles.includes("reader")
        ? tokens.reader
        : tokens.operator;

    for (const route of ROUTES) {
      if (route.method !== "GET") continue;
      const template = route.path.replace(/:([A-Za-z]+)/g, "{$1}");
      const path = concrete[template] ?? template;
      const good = tokenFor(route.roles);
      // 200
      await call(template, path, good, 200);
      // 405
      await call(template, path, good, 405, { method: "POST" });
      if (route.roles !== "public") {
        // 401, and 403 for a role the route does not admit
        await call(template, path, undefined, 401);
        const outsider = !route.roles.includes("reader")
          ? tokens.reader
          : !route.roles.includes("submitter")
          ? tokens.submitter
          : undefined;
        if (outsider) await call(template, path, outsider, 403);
      }
      if (bogus[template]) await call(template, bogus[template], good, 404);
      // 400s and accepted boundaries, from the document's own parameters
      const op = doc.paths[template].get;
      for (const p of op.parameters ?? []) {
        if (p.in !== "query" && p.in !== "header") continue;
        const send = (value: string | undefined, expect: number) => {
          const url = new URL(path, "http://x");
          if (p.in === "query") {
            if (value === undefined) url.searchParams.delete(p.name);
            else url.searchParams.set(p.name, value);
          }
          const headers = p.in === "header" && value !== undefined
            ? { [p.name]: value }
            : undefined;
          return call(template, url.pathname + url.search, good, expect, {
            headers,
          });
        };
        const sc = p.schema;
        if (p.required) await send(undefined, 400);
        if (sc.type === "integer") {
          await send("", 400);
          await send("abc", 400);
          await send("-1", 400);
          await send("1.5", 400);
          if (typeof sc.minimum === "number") {
            await send(String(sc.minimum - 1), 400);
            await send(String(sc.minimum), 200);
          }
          if (typeof sc.maximum === "number") {
            await send(String(sc.maximum + 1), 400);
            await send(String(sc.maximum), 200);
          }
        } else if (Array.isArray(sc.enum)) {
          await send("", 400);
          await send("bogus", 400);
          for (const v of sc.enum as string[]) await send(v, 200);
        } else {
          if (sc.minLength === 1) await send("", 400);
          if (typeof sc.pattern === "string") {
            const bad = p.name === "tags" ? ", ," : "not-an-id";
            assert.ok(!new RegExp(sc.pattern).test(bad));
            await send(bad, 400);
          }
        }
      }
    }

    // 503: the registry is unavailable.
    registry.down = true;
    await call("/v1/nodes", "/v1/nodes", tokens.reader, 503);
    await call("/readyz", "/readyz", undefined, 503);
    registry.down = false;

    // Every GET operation was answered 200 and checked.
    for (const [template, ops] of Object.entries(doc.paths)) {
      assert.ok(ops.get, template);
      assert.ok(seen.has(`${template} 200`), `${template}: no 200 checked`);
    }
  } finally {
    await gw.close();
  }
});

Deno.test("openapi: the document names its own constraints the way the server reads them", async () => {
  const gw = createGateway({
    registry: new MemoryRegistry(),
    queue: new MemoryQueue(),
    events: new MemoryEventLog(),
    auth,
    worker: { autoStart: false },
  });
  try {
    const doc: Doc = await (await gw.app.request("/openapi.json")).json();
    const params = (path: string) =>
      Object.fromEntries(
        (doc.paths[path].get.parameters ?? []).map((p) => [p.name, p]),
      );
    assert.deepEqual(params("/v1/nodes").page_size.schema, {
      type: "integer",
      minimum: 1,
      maximum: 1000,
    });
    assert.deepEqual(params("/v1/nodes/by-tags").tags.schema, {
      type: "string",
      minLength: 1,
      pattern: "[^,\\s]",
    });
    const metrics = doc.paths["/metrics"].get.responses["200"].content!;
    assert.deepEqual(Object.keys(metrics), ["text/plain; version=0.0.4"]);
    const events = doc.paths["/v1/events"].get.responses["200"].content!;
    assert.deepEqual(Object.keys(events), ["text/event-stream"]);
    assert.equal(
      (events["text/event-stream"].schema as { type: string }).type,
      "string",
    );
  } finally {
    await gw.close();
  }
});
