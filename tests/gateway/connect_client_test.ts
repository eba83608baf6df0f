import assert from "node:assert/strict";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { create } from "@bufbuild/protobuf";
import {
  GatewayService,
  NodeSpecSchema,
  schemaHeaders,
  StrategyDagSchema,
  StrategyState,
} from "../../lib/contracts/mod.ts";
import {
  chain,
  closeAll,
  dag,
  memoryGateway,
  token,
  waitFor,
} from "./helpers.ts";

Deno.test({
  name:
    "connect: a generated Connect client (binary and JSON) calls every method",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const gw = memoryGateway();
    const ac = new AbortController();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: () => {},
    }, gw.app.fetch);
    try {
      const tok = await token("alice", ["submitter", "reader"]);
      const headers: Interceptor = (next) => (req) => {
        req.header.set("authorization", `Bearer ${tok}`);
        for (const [k, v] of Object.entries(schemaHeaders())) {
          req.header.set(k, v);
        }
        return next(req);
      };
      for (const useBinaryFormat of [true, false]) {
        const client = createClient(
          GatewayService,
          createConnectTransport({
            baseUrl: `http://127.0.0.1:${server.addr.port}`,
            useBinaryFormat,
            interceptors: [headers],
          }),
        );
        const nodes = chain(`c${useBinaryFormat}`, 2).map((n) => ({
          ...n,
          tags: ["cx"],
        }));
        const d = dag(`connect-${useBinaryFormat}`, nodes);
        const ack = await client.submitStrategy({
          dag: create(StrategyDagSchema, {
            name: d.name,
            checksum: d.checksum,
            nodes: d.nodes.map((n) => create(NodeSpecSchema, n)),
          }),
          version: "1",
        });
        assert.equal(ack.state, StrategyState.QUEUED);
        const done = await waitFor(async () => {
          const { status } = await client.getStrategy({
            strategyId: ack.strategyId,
          });
          return status?.state === StrategyState.COMPLETED ? status : undefined;
        });
        assert.equal(Object.keys(done.queueMap).length, 2);
        const listed = await client.listNodes({ pageSize: 10 });
        assert.ok(listed.nodes.length >= 2);
        const tagged = await client.queryNodesByTags({
          tags: ["cx"],
          matchMode: "any",
        });
        assert.ok(tagged.nodes.length >= 2);
        const retired = await client.retireStrategy({
          strategyId: ack.strategyId,
        });
        assert.equal(retired.status?.state, StrategyState.RETIRED);
        // Errors surface as ConnectError with the QMTL code in the message.
        await assert.rejects(
          client.getStrategy({ strategyId: "st_nope" }),
          (e: unknown) =>
            e instanceof ConnectError && /E_NOT_FOUND/.test(e.message),
        );
      }
    } finally {
      ac.abort();
      await server.finished;
      await closeAll(gw);
    }
  },
});
