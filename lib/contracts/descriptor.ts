/**
 * The generated static descriptor of `qmtl.v1` (from
 * `lib/contracts/gen/descriptor.json`, produced by `deno task proto`) and its
 * protobufjs reflection root, loaded with `Root.fromJSON` (no file access at
 * run time).
 *
 * @module
 */

import protobuf from "protobufjs/light";
import generated from "./gen/descriptor.json" with { type: "json" };

/**
 * Schema version and hash recorded by the generator.
 *
 * @example
 * ```ts
 * import { GENERATED_SCHEMA } from "./descriptor.ts";
 * GENERATED_SCHEMA.version; // "1.0.0"
 * ```
 */
export const GENERATED_SCHEMA: {
  readonly version: string;
  readonly hash: string;
} = Object.freeze({ version: generated.version, hash: generated.hash });

/**
 * The protobufjs JSON descriptor of the whole `qmtl.v1` package (proto field
 * names, keys sorted, no comments).
 *
 * @example
 * ```ts
 * import { DESCRIPTOR } from "./descriptor.ts";
 * Object.keys(DESCRIPTOR.nested); // ["qmtl"]
 * ```
 */
export const DESCRIPTOR: { readonly nested: Record<string, unknown> } =
  generated.descriptor as { nested: Record<string, unknown> };

/**
 * Full name prefix of every message: `"qmtl.v1."`.
 *
 * @example
 * ```ts
 * import { PACKAGE_PREFIX, protoRoot } from "./descriptor.ts";
 * protoRoot().lookupType(PACKAGE_PREFIX + "Edge");
 * ```
 */
export const PACKAGE_PREFIX = "qmtl.v1.";

let cachedRoot: protobuf.Root | undefined;

/**
 * The protobufjs reflection root of `qmtl.v1`, built once from
 * {@link DESCRIPTOR} and fully resolved.
 *
 * @example
 * ```ts
 * import { protoRoot } from "./descriptor.ts";
 * protoRoot().lookupType("qmtl.v1.NodeSpec").fieldsArray.length; // 11
 * ```
 */
export function protoRoot(): protobuf.Root {
  if (cachedRoot === undefined) {
    const root = protobuf.Root.fromJSON(
      DESCRIPTOR as unknown as protobuf.INamespace,
    );
    root.resolveAll();
    cachedRoot = root;
  }
  return cachedRoot;
}
