// The drill's verdict logic: what counts as lost, as completed twice, which
// checks fail, and what the text report says.
import assert from "node:assert/strict";
import {
  finishReport,
  renderText,
  strategyChecks,
  tallyStrategies,
} from "../../../deploy/drills/report.ts";
import type { CompletionResult } from "../../../deploy/drills/completion.ts";
import type { FeedEvent } from "../../../deploy/drills/event_feed.ts";
import type { LoggedLifecycle } from "../../../deploy/drills/event_audit.ts";

const done = (ids: string[]): CompletionResult => ({
  completed: ids,
  pending: {},
  failed: {},
  missing: [],
  waitedMs: 10,
});
const logged = (
  entries: Record<string, string[]>,
): Map<string, LoggedLifecycle> =>
  new Map(
    Object.entries(entries).map(([id, evs]) => [id, {
      types: evs.map(() => "qmtl.strategy.completed"),
      completed: evs.map((e, i) => ({ id: e, timeMs: i })),
    }]),
  );
const sse = (m: Record<string, string[]>) => (id: string): FeedEvent[] =>
  (m[id] ?? []).map((e) => ({
    id: e,
    type: "qmtl.strategy.completed",
    atMs: 1,
    timeMs: 1,
  }));

Deno.test("tally: every acknowledged strategy completed once → nothing lost, no duplicates, checks pass", () => {
  const t = tallyStrategies(
    ["a", "b", "a"],
    1,
    done(["a", "b"]),
    logged({ a: ["e1"], b: ["e2"] }),
    sse({ a: ["e1"], b: ["e2", "e2"] }), // the same event twice (at-least-once) is one
  );
  assert.equal(t.acknowledged, 2);
  assert.equal(t.completed, 2);
  assert.equal(t.lost, 0);
  assert.equal(t.duplicates, 0);
  assert.equal(t.duplicateAcks, 1);
  assert.equal(t.completedEventsInLog, 2);
  assert.equal(t.completedEventsOverSse, 2);
  assert.ok(strategyChecks(t).every((c) => c.ok));
});

Deno.test("tally: pending, FAILED and unknown strategies are lost, with reasons", () => {
  const t = tallyStrategies(
    ["a", "b", "c", "d"],
    0,
    {
      completed: ["a"],
      pending: { b: "QUEUED" },
      failed: { c: "E_CONFLICT boom" },
      missing: ["d"],
      waitedMs: 5,
    },
    logged({ a: ["e1"] }),
    sse({ a: ["e1"] }),
  );
  assert.equal(t.lost, 3);
  assert.deepEqual(t.lostSample.map((l) => l.id).sort(), ["b", "c", "d"]);
  assert.match(
    t.lostSample.find((l) => l.id === "c")!.reason,
    /^FAILED: E_CONFLICT/,
  );
  assert.match(t.lostSample.find((l) => l.id === "d")!.reason, /E_NOT_FOUND/);
  const failing = strategyChecks(t).filter((c) => !c.ok).map((c) => c.name);
  assert.deepEqual(failing, [
    "every acknowledged strategy COMPLETED (none lost)",
  ]);
});

Deno.test("tally: two distinct COMPLETED events — in the log or only over SSE — are a duplicate", () => {
  const inLog = tallyStrategies(
    ["a"],
    0,
    done(["a"]),
    logged({ a: ["e1", "e2"] }),
    sse({ a: ["e1"] }),
  );
  assert.equal(inLog.duplicates, 1);
  assert.deepEqual(inLog.duplicateSample, [{ id: "a", inLog: 2, overSse: 1 }]);
  const overSse = tallyStrategies(
    ["a"],
    0,
    done(["a"]),
    logged({ a: ["e1"] }),
    sse({ a: ["e1", "e9"] }),
  );
  assert.equal(overSse.duplicates, 1);
  const r = finishReport({
    drill: "neo4j",
    mode: "short",
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1,
    setup: {},
    marks: {},
    timings: [],
    strategies: overSse,
    clients: {
      clients: 1,
      submitted: 1,
      httpStatuses: {},
      errors: {},
      errorSample: [],
    },
    alerts: { received: [], byCondition: {} },
    checks: strategyChecks(overSse),
  });
  assert.equal(r.ok, false);
  assert.match(
    r.problems.join("\n"),
    /no strategy COMPLETED more than once: 1 strategies, e\.g\. a \(log 1, SSE 2\)/,
  );
  const text = renderText(r);
  assert.match(text, /TWICE a: 1 in the log, 2 over SSE/);
  assert.match(text, /verdict: FAILED \(1 problem\(s\)\)/);
});

Deno.test("tally: a COMPLETED strategy without its event in the log fails its check", () => {
  const t = tallyStrategies(
    ["a"],
    0,
    done(["a"]),
    new Map(),
    sse({ a: ["e1"] }),
  );
  assert.equal(t.completedWithoutEvent, 1);
  assert.equal(
    strategyChecks(t).find((c) => !c.ok)?.name,
    "every COMPLETED strategy has its COMPLETED event in the event log",
  );
});

Deno.test("tally: nothing acknowledged fails the drill (a drill without load proves nothing)", () => {
  const t = tallyStrategies([], 0, done([]), new Map(), sse({}));
  assert.deepEqual(strategyChecks(t).filter((c) => !c.ok).map((c) => c.name), [
    "load acknowledged strategies",
  ]);
});
