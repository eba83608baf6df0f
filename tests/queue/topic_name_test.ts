import { TopicNameError } from "../../lib/queue/errors.ts";
import { topicName } from "../../lib/queue/topic_name.ts";
import assert from "node:assert/strict";

const ID =
  "sha256:AB12cd34ef567890ab12cd34ef567890ab12cd34ef567890ab12cd34ef567890";

Deno.test("topicName builds {asset}_{node_type}_{short_hash}_v{n}", () => {
  assert.deepEqual(
    topicName({ asset: "btc", nodeType: "Processing", nodeId: ID, version: 1 }),
    "btc_Processing_ab12cd34_v1",
  );
  assert.deepEqual(
    topicName({
      asset: " btc/usdt ",
      nodeType: "Tag Query!",
      nodeId: ID,
      version: 12,
    }),
    "btc-usdt_Tag-Query_ab12cd34_v12",
  );
  assert.deepEqual(
    topicName({
      asset: "eth_perp",
      nodeType: "x",
      nodeId: "sha256:0123456789",
      version: 2,
    }),
    "eth-perp_x_01234567_v2",
  );
  assert.deepEqual(
    topicName({
      asset: "a".repeat(100),
      nodeType: "x",
      nodeId: ID,
      version: 1,
    }),
    `${"a".repeat(64)}_x_ab12cd34_v1`,
  );
});

Deno.test("topicName rejects bad components", () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ asset: "", nodeType: "P", nodeId: ID, version: 1 }, "asset"],
    [{ asset: "///", nodeType: "P", nodeId: ID, version: 1 }, "asset"],
    [{ asset: "btc", nodeType: "  ", nodeId: ID, version: 1 }, "nodeType"],
    [{ asset: "btc", nodeType: "P", nodeId: "ab12cd34", version: 1 }, "nodeId"],
    [
      { asset: "btc", nodeType: "P", nodeId: "sha256:abc", version: 1 },
      "nodeId",
    ],
    [
      { asset: "btc", nodeType: "P", nodeId: "sha256:zzzzzzzz", version: 1 },
      "nodeId",
    ],
    [{ asset: "btc", nodeType: "P", nodeId: ID, version: 0 }, "version"],
    [{ asset: "btc", nodeType: "P", nodeId: ID, version: 1.5 }, "version"],
    [{ asset: 7, nodeType: "P", nodeId: ID, version: 1 }, "asset"],
  ];
  for (const [parts, what] of bad) {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => topicName(parts as any),
      (e: unknown) => e instanceof TopicNameError && e.message.includes(what),
      what,
    );
  }
});
