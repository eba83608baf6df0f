/**
 * Strategy statuses and store plumbing shared by the gateway store tests and
 * the SDK's fake gateway.
 *
 * @module
 */

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type StrategyState,
  type StrategyStatus,
  StrategyStatusSchema,
} from "../../lib/contracts/mod.ts";
import {
  type PendingEventBuilder,
  RedisStrategyStore,
} from "../../lib/gateway/mod.ts";
import { createRedis } from "../../lib/queue/mod.ts";
import { lifecycleEventId } from "../../lib/gateway/events/emitter.ts";

/** A strategy status with defaults for every field `extra` does not set. */
export function statusOf(
  strategyId: string,
  state: StrategyState,
  extra: Partial<MessageInitShape<typeof StrategyStatusSchema>> = {},
): StrategyStatus {
  return create(StrategyStatusSchema, {
    strategyId,
    owner: "alice",
    version: "1",
    state,
    dagHash: "sha256:" + "0".repeat(64),
    queueMap: {},
    reused: [],
    created: [],
    sentinelId: "",
    attempts: 0,
    nodeCount: 1,
    createdAtMs: 0,
    updatedAtMs: 0,
    callbackUrl: "",
    name: "s",
    ...extra,
  });
}

/** A pending-event builder for store tests: the lifecycle event ID, type "t", the state as data. */
export const testEventBuilder: PendingEventBuilder = (s, _from, seq) => ({
  id: lifecycleEventId(s.strategyId, seq),
  type: "t",
  subject: s.strategyId,
  time: new Date().toISOString(),
  data: JSON.stringify({ state: s.state }),
});

/**
 * Runs `fn` on a RedisStrategyStore at `url` under a fresh key prefix named
 * after `what`, on a connection of its own; closes both afterwards.
 */
export async function withRedisStore(
  url: string,
  what: string,
  fn: (store: RedisStrategyStore) => Promise<void>,
): Promise<void> {
  const client = createRedis(url, { connectionName: `${what}-test` });
  const store = new RedisStrategyStore({
    redis: client,
    prefix: `qmtl:${what}:${crypto.randomUUID()}:`,
  });
  try {
    await fn(store);
  } finally {
    await store.close();
    await client.quit();
  }
}
