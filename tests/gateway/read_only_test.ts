import assert from "node:assert/strict";
import { ROUTES } from "../../lib/gateway/mod.ts";
import {
  chain,
  dag,
  submitDag,
  token,
  waitFor,
  withGateway,
} from "./helpers.ts";
import { StrategyState } from "../../lib/contracts/mod.ts";

Deno.test("rest: every REST path answers POST/PUT/PATCH/DELETE with 405 + Allow, and nothing changes", async () => {
  await withGateway({}, async (gw) => {
    const tok = await token("alice", ["submitter", "reader", "operator"]);
    const ack = await submitDag(gw, tok, dag("s", chain("n", 3)));
    const done = await waitFor(async () => {
      const s = await gw.service.store.get(ack.strategyId);
      return s?.status.state === StrategyState.COMPLETED ? s : undefined;
    });
    const nodeId = done.status.created[0];
    const topic = done.status.queueMap[nodeId];
    const before = JSON.stringify([
      await gw.service.store.list(),
      await gw.registry.listNodes(),
      await gw.registry.listTopics(),
    ]);
    let n = 0;
    for (const route of ROUTES.filter((r) => r.kind === "rest")) {
      const path = route.path.replace(":id", ack.strategyId).replace(
        ":nodeId",
        nodeId,
      ).replace(":name", topic);
      for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
        const res = await gw.app.request(path, {
          method,
          headers: {
            authorization: `Bearer ${tok}`,
            "content-type": "application/json",
          },
          body: method === "DELETE" ? undefined : "{}",
        });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.get("allow"), "GET, HEAD");
        await res.body?.cancel();
        n++;
      }
      if (route.id !== "rest.events") {
        const head = await gw.app.request(
          path + (route.id === "rest.nodesByTags" ? "?tags=n" : ""),
          {
            method: "HEAD",
            headers: { authorization: `Bearer ${tok}` },
          },
        );
        assert.equal(head.status, 200, `HEAD ${path}`);
        assert.equal(await head.text(), "");
      }
    }
    assert.ok(n >= 40);
    const after = JSON.stringify([
      await gw.service.store.list(),
      await gw.registry.listNodes(),
      await gw.registry.listTopics(),
    ]);
    assert.equal(after, before);
    // RPC paths only accept POST.
    const res = await gw.app.request("/qmtl.v1.GatewayService/GetStrategy", {
      headers: { authorization: `Bearer ${tok}` },
    });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    await res.body?.cancel();
  });
});

Deno.test("openapi: generated from the route table, every REST route present", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const res = await gw.app.request("/openapi.json");
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.openapi, "3.1.0");
    for (const r of ROUTES.filter((r) => r.method === "GET")) {
      const p = r.path.replace(/:([A-Za-z]+)/g, "{$1}");
      assert.ok(doc.paths[p]?.get, `missing ${p}`);
      assert.equal(doc.paths[p].get.operationId, r.id);
    }
    for (const p of Object.keys(doc.paths)) {
      assert.equal(Object.keys(doc.paths[p]).join(), "get");
    }
  });
});

Deno.test("pipeline: every answer (2xx, 401, 403, 404, 405) carries the request id and schema echo and is logged once", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const reader = await token("alice", ["reader"]);
    const none = await token("carl", []);
    const cases: [string, RequestInit, number][] = [
      ["/healthz", {}, 200],
      ["/v1/nodes", { headers: { authorization: `Bearer ${reader}` } }, 200],
      ["/v1/nodes", {}, 401],
      ["/metrics", { headers: { authorization: `Bearer ${none}` } }, 403],
      ["/v1/strategies/nope", {
        headers: { authorization: `Bearer ${reader}` },
      }, 404],
      ["/no/such/path", {}, 404],
      ["/v1/nodes", { method: "DELETE" }, 405],
    ];
    for (const [path, init, status] of cases) {
      gw.logs.length = 0;
      const res = await gw.app.request(path, {
        ...init,
        headers: { ...init.headers, "x-request-id": "rid-1" },
      });
      await res.body?.cancel();
      assert.equal(res.status, status, path);
      assert.equal(res.headers.get("x-request-id"), "rid-1", path);
      assert.ok(res.headers.get("qmtl-schema-version"), path);
      assert.ok(res.headers.get("qmtl-schema-hash"), path);
      const lines = gw.logs.map((l) => JSON.parse(l)).filter((r) =>
        r.msg === "request"
      );
      assert.equal(lines.length, 1, path);
      assert.equal(lines[0].status, status, path);
      assert.equal(lines[0].requestId, "rid-1", path);
    }
  });
});
