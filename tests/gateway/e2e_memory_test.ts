import assert from "node:assert/strict";
import { StrategyState } from "../../lib/contracts/mod.ts";
import {
  chain,
  client,
  dag,
  node,
  readSse,
  submitDag,
  submitReusing,
  token,
  waitForState,
  withGateway,
} from "./helpers.ts";

Deno.test("e2e (memory): submit → QUEUED → PROCESSING → COMPLETED, topic reuse, SSE, retire", async () => {
  await withGateway({}, async (gw) => {
    const alice = await token("alice", ["submitter", "reader"]);
    const src = node("src", {
      type: "StreamInput",
      params: { symbol: "BTC" },
      tags: ["btc"],
    });
    const shared = chain("sma", 3, src);
    const dagA = dag("A", [src, ...shared]);
    const ack = await submitDag(gw, alice, dagA);
    assert.equal(ack.state, StrategyState.QUEUED);
    assert.equal(ack.duplicate, false);
    assert.match(ack.strategyId, /^st_[0-9a-f]{24}$/);

    const done = await waitForState(
      gw,
      ack.strategyId,
      StrategyState.COMPLETED,
      alice,
      10_000,
    );
    assert.equal(Object.keys(done.queueMap).length, 4);
    assert.equal(done.created.length, 4);

    // Same DAG again → same id, duplicate.
    const again = await submitDag(gw, alice, dagA);
    assert.equal(again.strategyId, ack.strategyId);
    assert.equal(again.duplicate, true);

    // Second strategy sharing nodes reuses their topics.
    const { status: b, extra } = await submitReusing(
      gw,
      alice,
      done,
      src,
      shared,
      "rsi",
      10_000,
    );
    assert.equal(b.reused.length, 4);

    // REST status + queue map.
    const rest = await gw.app.request(`/v1/strategies/${ack.strategyId}`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    assert.equal(rest.status, 200);
    const view = await rest.json();
    assert.equal(view.state, "COMPLETED");
    assert.deepEqual(view.queueMap, done.queueMap);

    // SSE: the whole history of strategy A.
    const sse = await gw.app.request(`/v1/events?strategy=${ack.strategyId}`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get("content-type") ?? "", /text\/event-stream/);
    const evs = await readSse(sse, (e) => e.length >= 3, 5_000);
    assert.deepEqual(evs.map((e) => e.event), [
      "qmtl.strategy.queued",
      "qmtl.strategy.processing",
      "qmtl.strategy.completed",
    ]);

    // Resume after the first event with Last-Event-ID.
    const resumed = await gw.app.request(
      `/v1/events?strategy=${ack.strategyId}`,
      {
        headers: {
          authorization: `Bearer ${alice}`,
          "last-event-id": evs[0].id,
        },
      },
    );
    const evs2 = await readSse(resumed, (e) => e.length >= 2, 5_000);
    assert.deepEqual(evs2.map((e) => e.id), [evs[1].id, evs[2].id]);

    // Retire.
    const retired =
      (await client(gw, alice).retireStrategy({ strategyId: ack.strategyId }))
        .status!;
    assert.equal(retired.state, StrategyState.RETIRED);
    const n0 = await gw.registry.getNode(extra.nodeId);
    assert.equal(n0?.refCount, 1);
    const s0 = await gw.registry.getNode(src.nodeId);
    assert.equal(s0?.refCount, 1);
  });
});
