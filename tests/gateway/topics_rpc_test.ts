// The runner's calls through the Gateway (PublishBars, ReadBars,
// AcquireLeases, ReleaseLeases) with the SDK client, in process: data in and
// out, fencing, the long poll, the ACL and bad input.
import assert from "node:assert/strict";
import {
  type LeaseLostError,
  QmtlClient,
  QmtlClientError,
} from "../../sdk/mod.ts";
import { LeaseLostError as LeaseLost } from "../../sdk/runner/topic_io.ts";
import { closeAll, memoryGateway, token } from "./helpers.ts";

async function setup(
  roles: ("submitter" | "reader" | "operator")[] = ["submitter"],
) {
  const gw = memoryGateway();
  await gw.topics.ensure(["px_v1", "out_v1"]);
  const client = (r = roles) =>
    token("alice", r).then((tok) =>
      new QmtlClient({
        url: "http://gateway.test",
        token: tok,
        fetch: (input, init) =>
          Promise.resolve(gw.app.fetch(new Request(input, init))),
      })
    );
  return { gw, client: await client(), clientAs: client };
}

Deno.test("topics rpc: publish, read after a bar, tail, dedup of a bar stored twice", async () => {
  const { gw, client } = await setup();
  try {
    let r = await client.publishBars("px_v1", [
      { barTs: 60, value: 1.5 },
      { barTs: 120, value: { a: [1, "x"] } },
      { barTs: 180, value: "text" },
    ]);
    assert.deepEqual(r, { accepted: 3, dropped: 0, lastBarTs: 180 });
    r = await client.publishBars("px_v1", [{ barTs: 180, value: true }, {
      barTs: 240,
      value: false,
    }]);
    assert.deepEqual(r, { accepted: 1, dropped: 1, lastBarTs: 240 });
    const got = await client.readBars([{ topic: "px_v1", afterBarTs: 60 }, {
      topic: "out_v1",
    }]);
    assert.deepEqual(got, [{
      topic: "px_v1",
      bars: [
        { barTs: 120, value: { a: [1, "x"] } },
        { barTs: 180, value: "text" },
        { barTs: 240, value: false },
      ],
    }]);
    const tail = await client.readBars([{ topic: "px_v1" }], { tail: 1 });
    assert.deepEqual(tail[0].bars, [{ barTs: 240, value: false }]);
  } finally {
    await closeAll(gw);
  }
});

Deno.test("topics rpc: a long poll returns as soon as a bar is published", async () => {
  const { gw, client } = await setup();
  try {
    const t0 = Date.now();
    const pending = client.readBars([{ topic: "out_v1" }], { waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    await client.publishBars("out_v1", [{ barTs: 60, value: 7 }]);
    const got = await pending;
    assert.deepEqual(got[0].bars, [{ barTs: 60, value: 7 }]);
    assert.ok(Date.now() - t0 < 5_000);
  } finally {
    await closeAll(gw);
  }
});

Deno.test("topics rpc: leases — one holder, renewal, a stale token is fenced as E_LEASE_LOST", async () => {
  const { gw, client } = await setup();
  try {
    const [a] = await client.acquireLeases("runner-a", 1_000, [{
      topic: "out_v1",
    }]);
    assert.ok(a.granted && a.token && a.lastBarTs === null);
    const [b] = await client.acquireLeases("runner-b", 1_000, [{
      topic: "out_v1",
    }]);
    assert.deepEqual([b.granted, b.holder, b.token], [false, "runner-a", ""]);
    const [renew] = await client.acquireLeases("runner-a", 5_000, [{
      topic: "out_v1",
      token: a.token,
    }]);
    assert.ok(renew.granted && renew.token === a.token);
    await client.publishBars("out_v1", [{ barTs: 60, value: 1 }], {
      leaseToken: a.token,
    });
    await assert.rejects(
      () =>
        client.publishBars("out_v1", [{ barTs: 120, value: 2 }], {
          leaseToken: "stale",
        }),
      (e) =>
        e instanceof QmtlClientError && e.code === "E_LEASE_LOST" &&
        e.details?.holder === "runner-a",
    );
    // Through the runner's TopicIO the same refusal is a LeaseLostError.
    await assert.rejects(
      () =>
        client.topicIO().publish("out_v1", [{ barTs: 120, value: 2 }], "stale"),
      (e) =>
        e instanceof LeaseLost && (e as LeaseLostError).holder === "runner-a",
    );
    assert.equal(
      await client.releaseLeases([{ topic: "out_v1", token: a.token }]),
      1,
    );
    const [c] = await client.acquireLeases("runner-b", 1_000, [{
      topic: "out_v1",
    }]);
    assert.ok(c.granted && !c.takeover && c.lastBarTs === 60);
  } finally {
    await closeAll(gw);
  }
});

Deno.test("topics rpc: the ACL — readers read, only submitters/operators/services write; no token, no call", async () => {
  const { gw, client, clientAs } = await setup();
  try {
    await client.publishBars("px_v1", [{ barTs: 60, value: 1 }]);
    const reader = await clientAs(["reader"]);
    assert.equal(
      (await reader.readBars([{ topic: "px_v1" }]))[0].bars.length,
      1,
    );
    for (
      const call of [
        () => reader.publishBars("px_v1", [{ barTs: 120, value: 2 }]),
        () => reader.acquireLeases("r", 1_000, [{ topic: "px_v1" }]),
        () => reader.releaseLeases([{ topic: "px_v1", token: "t" }]),
      ]
    ) {
      await assert.rejects(
        call,
        (e) => e instanceof QmtlClientError && e.code === "E_FORBIDDEN",
      );
    }
    const anonymous = new QmtlClient({
      url: "http://gateway.test",
      fetch: (input, init) =>
        Promise.resolve(gw.app.fetch(new Request(input, init))),
    });
    await assert.rejects(
      () => anonymous.readBars([{ topic: "px_v1" }]),
      (e) => e instanceof QmtlClientError && e.code === "E_UNAUTHENTICATED",
    );
  } finally {
    await closeAll(gw);
  }
});

Deno.test("topics rpc: bad input is refused with a clear error and changes nothing", async () => {
  const { gw, client } = await setup();
  try {
    const bad = async (
      fn: () => Promise<unknown>,
      re: RegExp,
      code = "E_INVALID",
    ) => {
      await assert.rejects(
        fn,
        (e) =>
          e instanceof QmtlClientError && e.code === code && re.test(e.message),
      );
    };
    await bad(
      () =>
        client.publishBars("px_v1", [{ barTs: 120, value: 1 }, {
          barTs: 60,
          value: 2,
        }]),
      /increasing bar time/,
    );
    await bad(
      () => client.publishBars("px_v1", [{ barTs: -60, value: 1 }]),
      /seconds ≥ 0/,
    );
    await bad(
      () => client.publishBars("", [{ barTs: 60, value: 1 }]),
      /topic is required/,
    );
    await bad(
      () => client.publishBars("nope_v1", [{ barTs: 60, value: 1 }]),
      /no topic nope_v1/,
      "E_NOT_FOUND",
    );
    await bad(() => client.readBars([]), /cursors must not be empty/);
    await bad(
      () => client.acquireLeases("r", 10, [{ topic: "px_v1" }]),
      /ttl_ms must be/,
    );
    await bad(
      () => client.acquireLeases("", 1_000, [{ topic: "px_v1" }]),
      /holder/,
    );
    await bad(
      () =>
        client.readBars(
          Array.from({ length: 1_001 }, () => ({ topic: "px_v1" })),
        ),
      /at most 1000/,
    );
    assert.deepEqual(
      await client.readBars([{ topic: "px_v1" }]),
      [],
      "nothing was written",
    );
  } finally {
    await closeAll(gw);
  }
});
