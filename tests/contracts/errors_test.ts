import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  connectCodeOf,
  ContractError,
  ERROR_TABLE,
  ErrorCode,
  ErrorDetailSchema,
  fromErrorDetail,
  httpStatusOf,
  isErrorCode,
  QmtlError,
} from "../../lib/contracts/mod.ts";

Deno.test("error table covers every code with HTTP status and Connect code", () => {
  const codes = Object.values(ErrorCode);
  assert.equal(codes.length, 17);
  for (const [k, v] of Object.entries(ErrorCode)) assert.equal(k, v);
  assert.deepEqual(Object.keys(ERROR_TABLE).sort(), [...codes].sort());
  const expected: Record<string, [number, string]> = {
    E_NODE_ID_MISMATCH: [400, "invalid_argument"],
    E_CHECKSUM_MISMATCH: [400, "invalid_argument"],
    E_CYCLE: [400, "invalid_argument"],
    E_UNKNOWN_INPUT: [422, "failed_precondition"],
    E_DUPLICATE: [400, "invalid_argument"],
    E_SCHEMA_INCOMPATIBLE: [412, "failed_precondition"],
    E_UNAUTHENTICATED: [401, "unauthenticated"],
    E_FORBIDDEN: [403, "permission_denied"],
    E_POLICY: [403, "permission_denied"],
    E_UNAVAILABLE: [503, "unavailable"],
    E_INVALID: [400, "invalid_argument"],
    E_NOT_FOUND: [404, "not_found"],
    E_CONFLICT: [409, "aborted"],
    E_LEASE_LOST: [409, "failed_precondition"],
    E_PAYLOAD_TOO_LARGE: [413, "resource_exhausted"],
    E_RATE_LIMITED: [429, "resource_exhausted"],
    E_INTERNAL: [500, "internal"],
  };
  for (const c of codes) {
    assert.deepEqual(
      [ERROR_TABLE[c].httpStatus, ERROR_TABLE[c].connectCode],
      expected[c],
      c,
    );
    assert.equal(httpStatusOf(c), expected[c][0]);
    assert.equal(connectCodeOf(c), expected[c][1]);
  }
  assert.equal(httpStatusOf("E_WHAT"), 500);
  assert.equal(connectCodeOf("E_WHAT"), "internal");
  assert.ok(isErrorCode("E_CYCLE"));
  assert.ok(!isErrorCode("toString"));
  assert.ok(!isErrorCode(3));
  assert.ok(Object.isFrozen(ERROR_TABLE));
});

Deno.test("QmtlError and ContractError", () => {
  const cause = new Error("root");
  const e = new QmtlError("E_NOT_FOUND", "no such strategy", {
    field: "strategy_id",
    nodeId: "sha256:x",
    details: { id: "st_9" },
    cause,
  });
  assert.ok(e instanceof Error);
  assert.equal(e.name, "QmtlError");
  assert.equal(e.httpStatus, 404);
  assert.equal(e.connectCode, "not_found");
  assert.equal(e.cause, cause);
  assert.deepEqual(
    e.toErrorDetail(),
    create(ErrorDetailSchema, {
      code: "E_NOT_FOUND",
      message: "no such strategy",
      field: "strategy_id",
      nodeId: "sha256:x",
      details: { id: "st_9" },
    }),
  );
  const bare = new QmtlError("E_INTERNAL", "oops");
  assert.equal(bare.field, undefined);
  assert.equal("cause" in bare, false);
  assert.deepEqual(
    bare.toErrorDetail(),
    create(ErrorDetailSchema, { code: "E_INTERNAL", message: "oops" }),
  );

  const c = new ContractError("bad");
  assert.ok(c instanceof QmtlError);
  assert.equal(c.name, "ContractError");
  assert.equal(c.code, "E_INVALID");
  assert.equal(c.httpStatus, 400);
  assert.equal(
    new ContractError("x", { code: "E_CHECKSUM_MISMATCH", field: "checksum" })
      .code,
    "E_CHECKSUM_MISMATCH",
  );

  const back = fromErrorDetail(e.toErrorDetail());
  assert.equal(back.code, "E_NOT_FOUND");
  assert.equal(back.field, "strategy_id");
  assert.equal(back.nodeId, "sha256:x");
  assert.deepEqual(back.details, { id: "st_9" });
  const unknown = fromErrorDetail(
    create(ErrorDetailSchema, { code: "E_MARS", message: "m" }),
  );
  assert.equal(unknown.code, "E_INTERNAL");
  assert.deepEqual(unknown.details, { code: "E_MARS" });
  assert.equal(unknown.field, undefined);
  assert.equal(fromErrorDetail(bare.toErrorDetail()).details, undefined);
});
