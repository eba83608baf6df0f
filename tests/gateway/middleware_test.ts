// The gateway's middleware modules used one by one in a plain Hono app (as
// a library user composes them), in the documented order: request id →
// error mapper → schema echo → body limit → auth → ACL → policy → schema
// version → handler. The gateway itself compiles the same checks into one
// handler per route (pipeline.ts); these are the building blocks.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { schemaHeaders } from "../../lib/contracts/mod.ts";
import { acl } from "../../lib/gateway/acl/mod.ts";
import { auth, createAuthenticator } from "../../lib/gateway/auth/mod.ts";
import { bodyLimit } from "../../lib/gateway/body_limit/mod.ts";
import { errorMapper } from "../../lib/gateway/error_mapper/mod.ts";
import {
  createLogger,
  createPolicy,
  type GatewayEnv,
  routeById,
} from "../../lib/gateway/mod.ts";
import { policy } from "../../lib/gateway/policy/mod.ts";
import { requestId } from "../../lib/gateway/request_id/mod.ts";
import {
  echoSchemaVersion,
  schemaVersion,
} from "../../lib/gateway/schema_version/mod.ts";
import { AUDIENCE, ISSUER, SECRET, token } from "./helpers.ts";

function app(): Hono<GatewayEnv> {
  const logs: string[] = [];
  const a = new Hono<GatewayEnv>();
  a.use(requestId());
  a.use(errorMapper(createLogger({ sink: (l) => logs.push(l) })));
  a.use(echoSchemaVersion());
  a.use("/v1/submit", bodyLimit({ maxBytes: 64 }));
  a.use(
    "/v1/submit",
    auth(
      createAuthenticator({
        secret: SECRET,
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    ),
  );
  a.use(
    "/v1/submit",
    acl(routeById("rpc.SubmitStrategy")),
  );
  a.use(
    "/v1/submit",
    policy(createPolicy({ defaults: { submissionsPerMinute: 1 } })),
  );
  a.use("/v1/submit", schemaVersion());
  a.post("/v1/submit", (c) =>
    c.json({
      subject: c.get("principal")?.subject,
      bytes: c.get("rawBody")?.byteLength,
      requestId: c.get("requestId"),
    }));
  a.get("/v1/boom", () => {
    throw new Error("secret internals at /srv/db:7687");
  });
  return a;
}

Deno.test("middleware: request id, auth, ACL, policy, body limit and schema version compose in order", async () => {
  const a = app();
  const submitter = await token("alice", ["submitter"]);
  const reader = await token("rita", ["reader"]);
  const call = (tok: string | undefined, init: RequestInit = {}) =>
    a.request("/v1/submit", {
      method: "POST",
      body: "hello",
      ...init,
      headers: {
        ...schemaHeaders(),
        ...(tok ? { authorization: `Bearer ${tok}` } : {}),
        ...(init.headers as Record<string, string> ?? {}),
      },
    });

  // Accepted: the body was read (bounded) and handed on; the request id is
  // the client's when well-formed, echoed with the schema headers.
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

  // A malformed request id is replaced.
  const fresh = await call(await token("bob", ["submitter"]), {
    headers: { "x-request-id": "bad id\u0007" },
  });
  assert.match(fresh.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);

  // Over the rate: 429 E_RATE_LIMITED with Retry-After.
  const rated = await call(submitter);
  assert.equal(rated.status, 429);
  assert.match(rated.headers.get("retry-after") ?? "", /^\d+$/);
  assert.equal((await rated.json()).code, "E_RATE_LIMITED");

  // No token: 401 with the challenge; a reader: 403 naming the roles.
  const anon = await call(undefined);
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get("www-authenticate") ?? "", /^Bearer /);
  assert.ok(anon.headers.get("x-request-id"));
  const forbidden = await call(reader);
  assert.equal(forbidden.status, 403);
  assert.match(
    (await forbidden.json()).detail,
    /requires one of the roles submitter, service; the token grants reader/,
  );

  // Too large a body: 413 before anything else reads it.
  const big = await call(await token("carol", ["submitter"]), {
    body: "x".repeat(65),
  });
  assert.equal(big.status, 413);
  assert.equal((await big.json()).code, "E_PAYLOAD_TOO_LARGE");

  // A foreign schema major: 412 with the accepted versions.
  const schema = await call(await token("dave", ["submitter"]), {
    headers: { "qmtl-schema-version": "99.0.0" },
  });
  assert.equal(schema.status, 412);
  const body = await schema.json();
  assert.equal(body.code, "E_SCHEMA_INCOMPATIBLE");
  assert.ok(body.details.accepted);
});

Deno.test("middleware: the error mapper answers problem+json and keeps internals out", async () => {
  const res = await app().request("/v1/boom");
  assert.equal(res.status, 500);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const text = await res.text();
  assert.doesNotMatch(text, /srv\/db|7687/);
  const body = JSON.parse(text);
  assert.equal(body.code, "E_INTERNAL");
  assert.equal(body.detail, "internal server error");
  assert.equal(body.requestId, res.headers.get("x-request-id"));
});
