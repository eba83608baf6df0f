/**
 * Request / response bodies of the Connect unary calls: `application/proto`
 * (binary protobuf) or `application/json` (proto3 JSON, for debugging).
 *
 * @module
 */

import {
  ContractError,
  decode,
  encode,
  fromJson,
  type MessageName,
  type MessageTypes,
  toJson,
} from "../contracts/mod.ts";
import type { ErrorDetail, SubmitStrategyRequest } from "../contracts/types.ts";

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
 * import { decodeBody } from "@qmtl/qmtl/gateway";
 * decodeBody("GetStrategyRequest", new TextEncoder().encode('{"strategyId":"st_1"}'), "json");
 * ```
 */
export function decodeBody<N extends MessageName>(
  name: N,
  bytes: Uint8Array,
  format: WireFormat,
): MessageTypes[N] {
  if (format === "proto") return decode(name, bytes);
  let json: unknown;
  try {
    json = bytes.length === 0
      ? {}
      : JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ContractError(`malformed JSON body: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return fromJson(name, json);
}

/**
 * Encode a response message in `format`.
 *
 * @example
 * ```ts
 * import { encodeBody } from "@qmtl/qmtl/gateway";
 * encodeBody("GetStrategyRequest", { strategyId: "st_1" }, "proto");
 * ```
 */
export function encodeBody<N extends MessageName>(
  name: N,
  message: MessageTypes[N],
  format: WireFormat,
): Uint8Array {
  if (format === "proto") return encode(name, message);
  return new TextEncoder().encode(JSON.stringify(toJson(name, message)));
}

/**
 * Decode a SubmitStrategy request body (format from its content type).
 *
 * @example
 * ```ts
 * import { decodeSubmitRequest } from "@qmtl/qmtl/gateway";
 * decodeSubmitRequest(new Uint8Array(), "application/proto").dag.nodes.length; // 0
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
  return decodeBody("SubmitStrategyRequest", bytes, format);
}

/**
 * Binary `qmtl.v1.ErrorDetail` (for Connect error details).
 *
 * @example
 * ```ts
 * import { encodeErrorDetail } from "@qmtl/qmtl/gateway";
 * encodeErrorDetail({ code: "E_CYCLE", message: "cycle", field: "", nodeId: "", details: {} });
 * ```
 */
export function encodeErrorDetail(detail: ErrorDetail): Uint8Array {
  return encode("ErrorDetail", detail);
}
