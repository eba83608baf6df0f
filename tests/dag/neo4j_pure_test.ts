// Unit tests of the Neo4j backend's pure parts: column parameters, the diff
// plan (chunks in dependency order) and error classification.
import assert from "node:assert/strict";
import { Columns, FIELD_SEP, ITEM_SEP } from "../../lib/dag/neo4j/columns.ts";
import {
  dependencyOrder,
  nodeBytes,
  planDiff,
} from "../../lib/dag/neo4j/diff_plan.ts";
import {
  classifyNeo4jError,
  ConcurrentChange,
  toRegistryError,
} from "../../lib/dag/neo4j/errors_map.ts";
import {
  StoreRejectedError,
  UnavailableError,
  validateDag,
} from "../../lib/dag/mod.ts";
import { dagOf, spec } from "./helpers.ts";

/** What the Cypher expressions of columns.ts compute, in TypeScript. */
function readText(p: Record<string, unknown>, name: string): string[] {
  const list = p[`${name}_l`] as string[] | null;
  return list ?? (p[name] as string).split(FIELD_SEP).slice(1);
}
function readLists(p: Record<string, unknown>, name: string): string[][] {
  const list = p[`${name}_l`] as string[][] | null;
  return list ??
    (p[name] as string).split(FIELD_SEP).slice(1).map((x) =>
      x === "" ? [] : x.split(ITEM_SEP)
    );
}
function readInts(p: Record<string, unknown>, name: string): number[] {
  const s = p[name] as string;
  return s === "" ? [] : s.split(",").map(Number);
}

Deno.test("columns: every shape round-trips, one string per safe column", () => {
  const cases: string[][] = [[], [""], ["", ""], ["a"], ["a", "", "b c"], [
    "x\u001fy",
  ]];
  for (const values of cases) {
    const p = new Columns().text("c", values).params;
    assert.deepEqual(readText(p, "c"), values, JSON.stringify(values));
  }
  // a safe column travels as one string, the parameter types stay the same
  const safe = new Columns().text("c", ["a", "b"]).params;
  assert.equal(typeof safe.c, "string");
  assert.equal(safe.c_l, null);
  const empty = new Columns().text("c", []).params;
  assert.equal(typeof empty.c, "string");
  assert.equal(empty.c_l, null);
  // the separator inside a value: that column (only) falls back to a list
  const unsafe = new Columns().text("c", ["x\u001fy"]).text("d", ["z"]).params;
  assert.equal(unsafe.c, null);
  assert.deepEqual(unsafe.c_l, ["x\u001fy"]);
  assert.equal(typeof unsafe.d, "string");

  const lists: string[][][] = [[], [[]], [[], []], [["a", "b"], [], ["c"]], [[
    "",
  ]], [["a\u001eb"]]];
  for (const values of lists) {
    const p = new Columns().lists("l", values).params;
    assert.deepEqual(readLists(p, "l"), values, JSON.stringify(values));
  }
  for (const values of [[], [0], [1, 20, 300]]) {
    assert.deepEqual(
      readInts(new Columns().int("k", values).params, "k"),
      values,
    );
  }
  assert.throws(() => new Columns().int("k", [1.5]), RangeError);
});

Deno.test("diff plan: one chunk when it fits, dependency-ordered chunks otherwise", () => {
  const a = spec("a");
  const b = spec("b", { inputs: [a.nodeId] });
  const c = spec("c", { inputs: [b.nodeId, a.nodeId] });
  const d = spec("d");
  // submitted consumers first: the plan still puts inputs first
  const v = validateDag(dagOf("p", [c, d, b, a]));
  assert.deepEqual(planDiff(v, { maxNodes: 10, maxBytes: 1e9 }).chunks, [
    v.nodes,
  ]);
  const order = dependencyOrder(v.nodes).map((n) => n.name);
  assert.deepEqual(order, ["a", "b", "c", "d"]);
  const chunks = planDiff(v, { maxNodes: 2, maxBytes: 1e9 }).chunks;
  assert.deepEqual(chunks.map((ch) => ch.map((n) => n.name)), [
    ["a", "b"],
    ["c", "d"],
  ]);
  // bytes bound too, at least one node per chunk however large
  const big = spec("big", { params: { blob: "x".repeat(5000) } });
  const w = validateDag(dagOf("w", [a, big, d]));
  const byBytes = planDiff(w, {
    maxNodes: 100,
    maxBytes: nodeBytes(big) - 1,
  }).chunks;
  assert.deepEqual(byBytes.map((ch) => ch.map((n) => n.name)), [["a"], [
    "big",
  ], ["d"]]);
  // every node appears once, after its inputs
  const many = Array.from({ length: 50 }, (_, i) => spec(`m${i}`));
  const deps = many.map((n, i) =>
    i === 0 ? n : spec(`m${i}x`, { inputs: [many[(i * 7) % i].nodeId] })
  );
  const all = validateDag(dagOf("all", [...deps].reverse()));
  const planned = planDiff(all, { maxNodes: 3, maxBytes: 1e9 }).chunks.flat();
  assert.equal(planned.length, all.nodes.length);
  const seen = new Set<string>();
  for (const n of planned) {
    for (const input of n.inputs) {
      if (all.nodes.some((x) => x.nodeId === input)) assert.ok(seen.has(input));
    }
    seen.add(n.nodeId);
  }
});

Deno.test("errors: Neo4j failures are classified by code, messages are safe", () => {
  // Codes that alone make a failure "unavailable" (retry later).
  const unavailableCodes = [
    "SessionExpired",
    "Neo.TransientError.Transaction.DeadlockDetected",
    "Neo.TransientError.Transaction.LockClientStopped",
    "Neo.TransientError.General.DatabaseUnavailable",
    "Neo.ClientError.Cluster.NotALeader",
    "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase",
    "Neo.ClientError.Transaction.TransactionTimedOut",
    "Neo.ClientError.Security.Unauthorized",
  ];
  type Case = [error: Record<string, unknown>, want: string];
  const cases: Case[] = [
    [
      { code: "ServiceUnavailable", message: "connect ECONNREFUSED" },
      "unavailable",
    ],
    ...unavailableCodes.map((code): Case => [{ code }, "unavailable"]),
    [{
      code: "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
      message:
        "The allocation of an extra 6.0 MiB would use more than the limit 716.8 MiB. Currently using 713.0 MiB. dbms.memory.transaction.total.max threshold reached",
    }, "unavailable"],
    [{
      code: "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
      message:
        "The allocation of an extra 2.0 MiB would use more than the limit 256.0 MiB. Currently using 254.6 MiB. db.memory.transaction.max threshold reached",
    }, "transaction_memory"],
    [
      { code: "Neo.ClientError.General.TransactionOutOfMemoryError" },
      "transaction_memory",
    ],
    [{
      code: "Neo.DatabaseError.Statement.ExecutionFailed",
      message:
        "Property value is too large to index, please see index documentation",
    }, "index_key_size"],
    [{ code: "Neo.ClientError.Schema.ConstraintValidationFailed" }, "race"],
    [{ code: "Neo.ClientError.Statement.EntityNotFound" }, "race"],
    [{ code: "Neo.ClientError.Statement.ArgumentError" }, "invalid_value"],
    [{ code: "Neo.ClientError.Statement.SyntaxError" }, "internal"],
    [{ code: "Neo.DatabaseError.General.UnknownError" }, "internal"],
    [{ message: "socket hang up" }, "unavailable"],
    [{ message: "something else" }, "internal"],
  ];
  for (const [e, want] of cases) {
    assert.equal(classifyNeo4jError(e), want, JSON.stringify(e));
  }
  assert.equal(classifyNeo4jError(new ConcurrentChange("x")), "race");

  const secret =
    "element id: 4:06eb4c09-…:2, Index( id=13, name='qmtl_tag_uid' )";
  const tooBig = toRegistryError({
    code: "Neo.DatabaseError.Statement.ExecutionFailed",
    message: `Property value is too large to index. ${secret}`,
  });
  assert.ok(tooBig instanceof StoreRejectedError);
  assert.equal(tooBig.code, "E_INVALID");
  assert.equal(tooBig.retryable, false);
  assert.equal(tooBig.reason, "index_key_size");
  assert.ok(!tooBig.message.includes("element id"), tooBig.message);
  assert.match(String((tooBig.cause as Error).message), /element id/);

  const mem = toRegistryError({
    code: "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
    message: "… 256.0 MiB … db.memory.transaction.max threshold reached",
  });
  assert.ok(mem instanceof StoreRejectedError);
  assert.equal(mem.code, "E_PAYLOAD_TOO_LARGE");
  assert.equal(mem.httpStatus, 413);
  assert.equal(mem.retryable, false);
  assert.equal(
    mem.storeCode,
    "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
  );

  const down = toRegistryError({
    code: "ServiceUnavailable",
    message: "Could not perform discovery at bolt://10.0.0.7:7687",
  });
  assert.ok(down instanceof UnavailableError);
  assert.equal(down.retryable, true);
  assert.ok(!down.message.includes("10.0.0.7"), down.message);

  const internal = toRegistryError({
    code: "Neo.ClientError.Statement.SyntaxError",
    message: "Invalid input 'MATC'",
  });
  assert.equal(internal.code, "E_INTERNAL");
  assert.equal(internal.retryable, false);
  assert.ok(!internal.message.includes("MATC"));
});
