// live() through a Gateway (in process, memory backends) with the SDK client:
// submission, queue map, topic I/O, and tag queries re-resolved when the set
// of matching nodes changes.
import assert from "node:assert/strict";
import {
  live,
  type LiveEvent,
  type NodeView,
  QmtlClient,
  StrategyBuilder,
} from "../../../sdk/mod.ts";
import { closeAll, memoryGateway, token } from "../../gateway/helpers.ts";
import { query60, step60 } from "../fixtures/nodes.ts";

async function clientFor(gw: ReturnType<typeof memoryGateway>) {
  return new QmtlClient({
    url: "http://gateway.test",
    token: await token("alice", ["submitter"]),
    fetch: (input, init) =>
      Promise.resolve(gw.app.fetch(new Request(input, init))),
  });
}

function feed(name: string, tag: string): StrategyBuilder {
  const s = new StrategyBuilder(name);
  s.streamInput({ name: "px", tags: ["tq", tag], intervalS: 60, period: 1 });
  return s;
}

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms = 10_000,
) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("live through the Gateway: a tag query picks up a node that appears later", async () => {
  const gw = memoryGateway();
  const client = await clientFor(gw);
  try {
    // One feed exists; the basket strategy averages every "tq" stream.
    await client.submit(feed("feed_btc", "btc"), { version: "1" });
    const basket = new StrategyBuilder("basket");
    const q = query60(basket, "all", ["tq"]);
    step60(basket, "mean", [q], 1, (v: NodeView<Record<string, number>>) => {
      const xs = Object.values(v.last);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    });
    const events: LiveEvent[] = [];
    const outputs: [number, unknown][] = [];
    const run = await live(basket, {
      client,
      holder: "basket-runner",
      renewMs: 100,
      waitMs: 200,
      tagRefreshMs: 100,
      onEvent: (e) => events.push(e),
      onOutput: (o) => o.name === "mean" && outputs.push([o.barTs, o.value]),
    });
    try {
      const [btc] = await client.streamTopics(["tq", "btc"]);
      await client.publishBars(btc, [{ barTs: 60, value: 100 }]);
      await until("the first mean", () => outputs.length === 1);
      assert.deepEqual(outputs[0], [60, 100]);

      // A second feed appears: the query must now read it too.
      await client.submit(feed("feed_eth", "eth"), { version: "1" });
      const [eth] = await client.streamTopics(["tq", "eth"]);
      await until(
        "the query to match two nodes",
        () =>
          events.some((e) =>
            e.type === "tag_query_changed" && e.matches?.length === 2
          ),
      );
      await client.publishBars(eth, [{ barTs: 120, value: 10 }]);
      await client.publishBars(btc, [{ barTs: 120, value: 110 }]);
      await until("a mean of both", () => outputs.some(([t]) => t === 120));
      assert.deepEqual(outputs.find(([t]) => t === 120), [120, 60]);
      // The run produced the query and the mean (nobody else held their leases).
      const stats = Object.values(run.stats());
      assert.ok(stats.filter((s) => s.role === "producer").length >= 2);
    } finally {
      await run.stop();
    }
  } finally {
    await closeAll(gw);
  }
});
