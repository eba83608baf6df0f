/**
 * The schema-version sentinel: the version and descriptor hash of `qmtl.v1`,
 * the header names that carry them, and the pure compatibility check the
 * Gateway applies to every contract call (412 `E_SCHEMA_INCOMPATIBLE` on
 * failure).
 *
 * @module
 */

import { create, toBinary } from "@bufbuild/protobuf";
import type { GenFile } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { isNodeId, sha256Hex } from "./node_id.ts";
import {
  file_qmtl_v1_error,
  file_qmtl_v1_event,
  file_qmtl_v1_gateway,
  file_qmtl_v1_node,
  file_qmtl_v1_queue,
  file_qmtl_v1_strategy,
  file_qmtl_v1_topic,
  type SchemaVersion,
  SchemaVersionSchema,
} from "./messages.ts";

/**
 * Semver of the `qmtl.v1` proto package (matches the proto file headers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEMA_VERSION } from "@qmtl/qmtl/contracts";
 * assert.equal(SCHEMA_VERSION, "2.0.0");
 * ```
 */
export const SCHEMA_VERSION = "2.0.0";

/**
 * The generated file descriptors of `qmtl.v1`, sorted by file name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEMA_FILES } from "@qmtl/qmtl/contracts";
 * const names = SCHEMA_FILES.map((f) => f.name);
 * assert.deepEqual(names.slice(0, 2), ["qmtl/v1/error", "qmtl/v1/event"]);
 * ```
 */
export const SCHEMA_FILES: readonly GenFile[] = Object.freeze(
  [
    file_qmtl_v1_error,
    file_qmtl_v1_event,
    file_qmtl_v1_gateway,
    file_qmtl_v1_node,
    file_qmtl_v1_queue,
    file_qmtl_v1_strategy,
    file_qmtl_v1_topic,
  ].sort((a, b) => a.proto.name < b.proto.name ? -1 : 1),
);

/**
 * The schema hash of a set of file descriptors: `"sha256:"` + hex SHA-256 of
 * the binary `google.protobuf.FileDescriptorSet` holding each file's
 * `FileDescriptorProto` (as embedded by protoc-gen-es: no
 * `source_code_info`, so comments never count), files sorted by name.
 *
 * @param files the file descriptors
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEMA_FILES, SCHEMA_HASH, schemaHashOf } from "@qmtl/qmtl/contracts";
 * assert.equal(schemaHashOf([...SCHEMA_FILES].reverse()), SCHEMA_HASH); // order does not count
 * ```
 */
export function schemaHashOf(files: readonly GenFile[]): string {
  const set = create(FileDescriptorSetSchema, {
    file: [...files]
      .sort((a, b) => a.proto.name < b.proto.name ? -1 : 1)
      .map((f) => f.proto),
  });
  return "sha256:" + sha256Hex(toBinary(FileDescriptorSetSchema, set));
}

/**
 * This build's schema hash, computed from the generated descriptors
 * ({@link schemaHashOf} of {@link SCHEMA_FILES}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEMA_HASH } from "@qmtl/qmtl/contracts";
 * assert.match(SCHEMA_HASH, /^sha256:[0-9a-f]{64}$/);
 * ```
 */
export const SCHEMA_HASH: string = schemaHashOf(SCHEMA_FILES);

/**
 * Request/response header carrying the schema version.
 *
 * @example
 * ```ts
 * import { SCHEMA_VERSION, SCHEMA_VERSION_HEADER } from "@qmtl/qmtl/contracts";
 * new Headers({ [SCHEMA_VERSION_HEADER]: SCHEMA_VERSION });
 * ```
 */
export const SCHEMA_VERSION_HEADER = "qmtl-schema-version";

/**
 * Request/response header carrying the schema hash.
 *
 * @example
 * ```ts
 * import { SCHEMA_HASH, SCHEMA_HASH_HEADER } from "@qmtl/qmtl/contracts";
 * new Headers({ [SCHEMA_HASH_HEADER]: SCHEMA_HASH });
 * ```
 */
export const SCHEMA_HASH_HEADER = "qmtl-schema-hash";

/**
 * Every released schema version this build knows → its descriptor hash.
 * Append a line on every release; never change an existing one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KNOWN_SCHEMAS } from "@qmtl/qmtl/contracts";
 * assert.match(KNOWN_SCHEMAS["1.0.0"], /^sha256:[0-9a-f]{64}$/);
 * ```
 */
export const KNOWN_SCHEMAS: Readonly<Record<string, string>> = Object.freeze({
  // 1.0.0 was hashed over the protobufjs JSON descriptor (RFC 8785).
  "1.0.0":
    "sha256:5eb5fdad65dd60437830a6b54f7616b70283ffa35189474a310e23c1250bf14b",
  "2.0.0":
    "sha256:a40d84bc9e089fa869993254fe1559b481b43e1e97c49b037295b5d74d94bfcf",
});

/**
 * Result of {@link checkCompatibility}.
 *
 * @example
 * ```ts
 * import type { Compatibility } from "@qmtl/qmtl/contracts";
 * const c: Compatibility = { ok: false, reason: "major 2 != 1", accepted: ["1.0.0", "^1.0.0"] };
 * ```
 */
export type Compatibility =
  | { ok: true }
  | { ok: false; reason: string; accepted: string[] };

const SEMVER_RE = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

/**
 * Parse a strict `MAJOR.MINOR.PATCH` version (no pre-release or build
 * suffix); `undefined` when malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSemver } from "@qmtl/qmtl/contracts";
 * assert.deepEqual(parseSemver("1.2.3"), [1, 2, 3]);
 * assert.equal(parseSemver("v1"), undefined);
 * ```
 */
export function parseSemver(
  version: string,
): [number, number, number] | undefined {
  const m = typeof version === "string" ? SEMVER_RE.exec(version) : null;
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(
  a: [number, number, number],
  b: [number, number, number],
): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * The versions this build accepts, for 412 bodies: every known version of
 * the current major, then the caret range of the current major (newer
 * minor/patch versions are accepted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptedVersions } from "@qmtl/qmtl/contracts";
 * assert.deepEqual(acceptedVersions(), ["2.0.0", "^2.0.0"]);
 * ```
 */
export function acceptedVersions(): string[] {
  const major = parseSemver(SCHEMA_VERSION)![0];
  const known = Object.keys(KNOWN_SCHEMAS)
    .filter((v) => parseSemver(v)?.[0] === major)
    .sort((a, b) => compare(parseSemver(a)!, parseSemver(b)!));
  return [...known, `^${major}.0.0`];
}

/**
 * Decide whether a client's schema version and hash are accepted:
 *
 * - malformed version (not `MAJOR.MINOR.PATCH`) → rejected;
 * - different major → rejected;
 * - a known version → accepted only with its exact hash;
 * - an unknown version of the same major newer than this build → accepted
 *   (its unknown fields are kept), provided the hash is well-formed;
 * - an unknown version older than this build → rejected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCompatibility, SCHEMA_HASH, SCHEMA_VERSION } from "@qmtl/qmtl/contracts";
 * assert.deepEqual(checkCompatibility(SCHEMA_VERSION, SCHEMA_HASH), { ok: true });
 * assert.equal(checkCompatibility("1.0.0", SCHEMA_HASH).ok, false);
 * ```
 */
export function checkCompatibility(
  clientVersion: string | null | undefined,
  clientHash: string | null | undefined,
): Compatibility {
  const reject = (reason: string): Compatibility => ({
    ok: false,
    reason,
    accepted: acceptedVersions(),
  });
  if (
    clientVersion === null || clientVersion === undefined ||
    clientVersion === ""
  ) {
    return reject(`missing ${SCHEMA_VERSION_HEADER}`);
  }
  const client = parseSemver(clientVersion);
  if (client === undefined) {
    return reject(
      `malformed schema version ${
        JSON.stringify(clientVersion)
      } (expected MAJOR.MINOR.PATCH)`,
    );
  }
  const server = parseSemver(SCHEMA_VERSION)!;
  if (client[0] !== server[0]) {
    return reject(
      `schema major ${
        client[0]
      } is not supported (server speaks ${SCHEMA_VERSION})`,
    );
  }
  if (clientHash === null || clientHash === undefined || clientHash === "") {
    return reject(`missing ${SCHEMA_HASH_HEADER}`);
  }
  const known = KNOWN_SCHEMAS[clientVersion];
  if (Object.hasOwn(KNOWN_SCHEMAS, clientVersion)) {
    return clientHash === known ? { ok: true } : reject(
      `schema hash ${clientHash} does not match known version ${clientVersion} (${known})`,
    );
  }
  if (!isNodeId(clientHash)) { // same form as a node ID
    return reject(`malformed schema hash ${JSON.stringify(clientHash)}`);
  }
  if (compare(client, server) > 0) return { ok: true };
  return reject(
    `unknown schema version ${clientVersion} (older than ${SCHEMA_VERSION})`,
  );
}

/**
 * The two sentinel headers for this build, to send with requests and echo
 * in responses.
 *
 * @example
 * ```ts
 * import { schemaHeaders } from "@qmtl/qmtl/contracts";
 * const res = new Response(null, { headers: schemaHeaders() });
 * ```
 */
export function schemaHeaders(): Record<string, string> {
  return {
    [SCHEMA_VERSION_HEADER]: SCHEMA_VERSION,
    [SCHEMA_HASH_HEADER]: SCHEMA_HASH,
  };
}

/**
 * This build's version as a `SchemaVersion` message (with `accepted`
 * filled), e.g. for a 412 body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schemaVersionMessage } from "@qmtl/qmtl/contracts";
 * assert.deepEqual(schemaVersionMessage().accepted, ["2.0.0", "^2.0.0"]);
 * ```
 */
export function schemaVersionMessage(): SchemaVersion {
  return create(SchemaVersionSchema, {
    version: SCHEMA_VERSION,
    hash: SCHEMA_HASH,
    accepted: acceptedVersions(),
  });
}
