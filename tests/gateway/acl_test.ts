import assert from "node:assert/strict";
import { schemaHeaders } from "../../lib/contracts/mod.ts";
import { ROLES, type RouteDef, ROUTES } from "../../lib/gateway/mod.ts";
import { type memoryGateway, token, withGateway } from "./helpers.ts";

async function call(
  gw: ReturnType<typeof memoryGateway>,
  route: RouteDef,
  tok: string | undefined,
): Promise<Response> {
  const headers: Record<string, string> = tok
    ? { authorization: `Bearer ${tok}` }
    : {};
  const path = route.path
    .replace(":id", "st_000000000000000000000000")
    .replace(":nodeId", "sha256:" + "0".repeat(64))
    .replace(":name", "t_v1") +
    (route.id === "rest.nodesByTags" ? "?tags=btc" : "");
  if (route.method === "POST") {
    Object.assign(headers, {
      "content-type": "application/proto",
      ...schemaHeaders(),
    });
    return await gw.app.request(path, {
      method: "POST",
      headers,
      body: new Uint8Array(),
    });
  }
  return await gw.app.request(path, {
    headers,
    signal: AbortSignal.timeout(2_000),
  });
}

Deno.test("acl: every route × every role (allowed / denied), no token → 401", async () => {
  await withGateway({
    worker: { autoStart: false },
    sse: { maxDurationMs: 50, pollMs: 10 },
  }, async (gw) => {
    const tokens = Object.fromEntries(
      await Promise.all(
        ROLES.map(async (r) => [r, await token(`u-${r}`, [r])]),
      ),
    );
    const roleless = await token("nobody", []);
    let checked = 0;
    for (const route of ROUTES) {
      if (route.roles === "public") {
        const res = await call(gw, route, undefined);
        await res.body?.cancel();
        assert.notEqual(res.status, 401, route.id);
        assert.notEqual(res.status, 403, route.id);
        continue;
      }
      const noTok = await call(gw, route, undefined);
      assert.equal(noTok.status, 401, `${route.id} without a token`);
      await noTok.body?.cancel();
      const none = await call(gw, route, roleless);
      assert.equal(none.status, 403, `${route.id} without roles`);
      await none.body?.cancel();
      for (const role of ROLES) {
        const res = await call(gw, route, tokens[role]);
        const allowed = route.roles.includes(role);
        if (allowed) {
          assert.ok(
            res.status !== 401 && res.status !== 403,
            `${route.id} as ${role}: ${res.status}`,
          );
          await res.body?.cancel();
        } else {
          assert.equal(res.status, 403, `${route.id} as ${role}`);
          const body = await res.json();
          assert.equal(
            route.kind === "rpc" ? body.code : body.code,
            route.kind === "rpc" ? "permission_denied" : "E_FORBIDDEN",
          );
          const text = route.kind === "rpc" ? body.message : body.detail;
          for (const need of route.roles) {
            assert.ok(text.includes(need), `403 names ${need}: ${text}`);
          }
        }
        checked++;
      }
    }
    assert.equal(
      checked,
      ROUTES.filter((r) => r.roles !== "public").length * ROLES.length,
    );
  });
});

Deno.test("acl: unknown paths are 404, unknown procedures unimplemented (default deny)", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const tok = await token("op", ["operator"]);
    for (const p of ["/v1/secret", "/admin"]) {
      const res = await gw.app.request(p, {
        method: "POST",
        headers: { authorization: `Bearer ${tok}` },
      });
      assert.equal(res.status, 404, p);
      await res.body?.cancel();
    }
    const res = await gw.app.request("/qmtl.v1.GatewayService/DropAll", {
      method: "POST",
      headers: { authorization: `Bearer ${tok}` },
    });
    assert.equal(res.status, 501); // Connect: unimplemented
    assert.equal((await res.json()).code, "unimplemented");
  });
});
