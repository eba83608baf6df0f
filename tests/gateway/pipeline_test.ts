// The per-route pipeline (lib/gateway/pipeline.ts), the one way the gateway
// builds a request's path, driven directly in a plain Hono app: request id
// → log → error mapper → schema echo → body limit → auth → ACL → policy →
// schema version → handler, each step in its own folder.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { schemaHeaders } from "../../lib/contracts/mod.ts";
import {
  createAuthenticator,
  createLogger,
  createPolicy,
  type GatewayEnv,
  routeById,
} from "../../lib/gateway/mod.ts";
import { readBodyLimited } from "../../lib/gateway/body_limit/mod.ts";
import { routePipeline } from "../../lib/gateway/pipeline.ts";
import { AUDIENCE, ISSUER, SECRET, token } from "./helpers.ts";

interface Done {
  status: number;
  routeId: string | undefined;
}

function app(): { app: Hono<GatewayEnv>; logs: string[]; done: Done[] } {
  const logs: string[] = [];
  const done: Done[] = [];
  const submit = routeById("rpc.SubmitStrategy");
  const health = routeById("ops.healthz");
  const o = {
    logger: createLogger({ sink: (l: string) => logs.push(l) }),
    done: (c: { get(k: "routeId"): string | undefined }, status: number) =>
      done.push({ status, routeId: c.get("routeId") }),
    authenticator: createAuthenticator({
      secret: SECRET,
      issuer: ISSUER,
      audience: AUDIENCE,
    }),
    maxBodyBytes: 64,
    policy: createPolicy({ defaults: { submissionsPerMinute: 1 } }),
  };
  const a = new Hono<GatewayEnv>();
  a.post(
    submit.path,
    routePipeline(submit, async (c) => {
      const bytes = await readBodyLimited(c.req.raw, 64);
      return c.json({
        subject: c.get("principal")?.subject,
        bytes: bytes.byteLength,
        requestId: c.get("requestId"),
      });
    }, o),
  );
  a.get(
    health.path,
    routePipeline(health, () => {
      throw new Error("secret internals at /srv/db:7687");
    }, o),
  );
  return { app: a, logs, done };
}

Deno.test("pipeline: request id, auth, ACL, policy, body limit and schema version run in order", async () => {
  const { app: a, done } = app();
  const path = routeById("rpc.SubmitStrategy").path;
  const submitter = await token("alice", ["submitter"]);
  const reader = await token("rita", ["reader"]);
  const call = (tok: string | undefined, init: RequestInit = {}) =>
    a.request(path, {
      method: "POST",
      body: "hello",
      ...init,
      headers: {
        ...schemaHeaders(),
        ...(tok ? { authorization: `Bearer ${tok}` } : {}),
        ...(init.headers as Record<string, string> ?? {}),
      },
    });

  // Accepted: the request id is the client's when well-formed, echoed with
  // the schema headers; the body was read, so the connection stays open.
  const ok = await call(submitter, { headers: { "x-request-id": "req-42" } });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), {
    subject: "alice",
    bytes: 5,
    requestId: "req-42",
  });
  assert.equal(ok.headers.get("x-request-id"), "req-42");
  assert.equal(
    ok.headers.get("qmtl-schema-version"),
    schemaHeaders()["qmtl-schema-version"],
  );
  assert.equal(ok.headers.get("connection"), null);

  // A malformed request id is replaced.
  const fresh = await call(await token("bob", ["submitter"]), {
    headers: { "x-request-id": "bad id\u0007" },
  });
  assert.match(fresh.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  await fresh.body?.cancel();

  // Over the rate: 429 E_RATE_LIMITED with Retry-After (RPC: Connect JSON).
  const rated = await call(submitter);
  assert.equal(rated.status, 429);
  assert.match(rated.headers.get("retry-after") ?? "", /^\d+$/);
  assert.equal((await rated.json()).code, "resource_exhausted");

  // No token: 401 with the challenge and a request id; the unread body
  // closes the connection.
  const anon = await call(undefined);
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get("www-authenticate") ?? "", /^Bearer /);
  assert.ok(anon.headers.get("x-request-id"));
  assert.equal(anon.headers.get("connection"), "close");
  await anon.body?.cancel();
  // A reader: 403 naming the roles.
  const forbidden = await call(reader);
  assert.equal(forbidden.status, 403);
  assert.match(
    (await forbidden.json()).message,
    /requires one of the roles submitter, service; the token grants reader/,
  );

  // A declared body over the limit: refused before authentication reads a
  // token (Connect maps resource_exhausted to 429), the connection closed.
  const big = await call(undefined, {
    body: "x".repeat(65),
    headers: { "content-length": "65" },
  });
  assert.equal(big.status, 429);
  assert.equal(big.headers.get("connection"), "close");
  assert.match((await big.json()).message, /^\[E_PAYLOAD_TOO_LARGE\]/);

  // A foreign schema major: failed_precondition (400 in Connect) naming
  // the accepted versions.
  const schema = await call(await token("dave", ["submitter"]), {
    headers: { "qmtl-schema-version": "99.0.0" },
  });
  assert.equal(schema.status, 400);
  const refused = await schema.json();
  assert.equal(refused.code, "failed_precondition");
  assert.match(
    refused.message,
    /^\[E_SCHEMA_INCOMPATIBLE\].*accepted versions: /,
  );

  // Every answer went through the end-of-request step with its route.
  assert.deepEqual(
    done.map((d) => d.status),
    [200, 200, 429, 401, 403, 429, 400],
  );
  assert.ok(done.every((d) => d.routeId === path));
});

Deno.test("pipeline: the error mapper answers problem+json, keeps internals out and logs the cause", async () => {
  const { app: a, logs } = app();
  const res = await a.request(routeById("ops.healthz").path);
  assert.equal(res.status, 500);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const text = await res.text();
  assert.doesNotMatch(text, /srv\/db|7687/);
  const body = JSON.parse(text);
  assert.equal(body.code, "E_INTERNAL");
  assert.equal(body.detail, "internal server error");
  assert.equal(body.requestId, res.headers.get("x-request-id"));
  assert.match(logs.join("\n"), /secret internals at \/srv\/db:7687/);
});
