/**
 * Request / response bodies of the Connect unary calls: `application/proto`
 * (binary protobuf) or `application/json` (proto3 JSON, for debugging).
 *
 * @module
 */

import {
  type DescMessage,
  fromJson,
  type JsonValue,
  type MessageShape,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { ContractError, decode } from "../contracts/mod.ts";
import {
  type ErrorDetail,
  ErrorDetailSchema,
  type SubmitStrategyRequest,
  SubmitStrategyRequestSchema,
} from "../contracts/messages.ts";

/**
 * Wire format of a Connect unary call.
 *
 * @example
 * ```ts
 * import type { WireFormat } from "@qmtl/qmtl/gateway";
 * const f: WireFormat = "proto";
 * ```
 */
export type WireFormat = "proto" | "json";

/**
 * The wire format named by a `content-type`, or `undefined` when unsupported.
 *
 * @example
 * ```ts
 * import { wireFormatOf } from "@qmtl/qmtl/gateway";
 * wireFormatOf("application/proto"); // "proto"
 * wireFormatOf("application/json; charset=utf-8"); // "json"
 * ```
 */
export function wireFormatOf(
  contentType: string | null | undefined,
): WireFormat | undefined {
  const base = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (base === "application/proto" || base === "application/x-protobuf") {
    return "proto";
  }
  if (base === "application/json") return "json";
  return undefined;
}

/**
 * Decode a request body as message `name` in `format`.
 *
 * @example
 * ```ts
 * import { GetStrategyRequestSchema } from "@qmtl/qmtl/contracts";
 * import { decodeBody } from "@qmtl/qmtl/gateway";
 * decodeBody(GetStrategyRequestSchema, new TextEncoder().encode('{"strategyId":"st_1"}'), "json");
 * ```
 */
export function decodeBody<D extends DescMessage>(
  schema: D,
  bytes: Uint8Array,
  format: WireFormat,
): MessageShape<D> {
  if (format === "proto") return decode(schema, bytes);
  let json: JsonValue;
  try {
    json = bytes.length === 0
      ? {}
      : JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ContractError(`malformed JSON body: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    return fromJson(schema, json);
  } catch (e) {
    throw new ContractError(`malformed JSON body: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Encode a response message in `format`.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { GetStrategyRequestSchema } from "@qmtl/qmtl/contracts";
 * import { encodeBody } from "@qmtl/qmtl/gateway";
 * encodeBody(GetStrategyRequestSchema, create(GetStrategyRequestSchema, { strategyId: "st_1" }), "proto");
 * ```
 */
export function encodeBody<D extends DescMessage>(
  schema: D,
  message: MessageShape<D>,
  format: WireFormat,
): Uint8Array {
  if (format === "proto") return toBinary(schema, message);
  return new TextEncoder().encode(JSON.stringify(toJson(schema, message)));
}

/**
 * Decode a SubmitStrategy request body (format from its content type).
 *
 * @example
 * ```ts
 * import { decodeSubmitRequest } from "@qmtl/qmtl/gateway";
 * decodeSubmitRequest(new Uint8Array(), "application/proto").dag; // undefined
 * ```
 */
export function decodeSubmitRequest(
  bytes: Uint8Array,
  contentType: string | null | undefined,
): SubmitStrategyRequest {
  const format = wireFormatOf(contentType);
  if (!format) {
    throw new ContractError(
      `unsupported content-type ${
        JSON.stringify(contentType ?? "")
      } (use application/proto or application/json)`,
    );
  }
  return decodeBody(SubmitStrategyRequestSchema, bytes, format);
}

/**
 * Binary `qmtl.v1.ErrorDetail` (for Connect error details).
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { ErrorDetailSchema } from "@qmtl/qmtl/contracts";
 * import { encodeErrorDetail } from "@qmtl/qmtl/gateway";
 * encodeErrorDetail(create(ErrorDetailSchema, { code: "E_CYCLE", message: "cycle" }));
 * ```
 */
export function encodeErrorDetail(detail: ErrorDetail): Uint8Array {
  return toBinary(ErrorDetailSchema, detail);
}
