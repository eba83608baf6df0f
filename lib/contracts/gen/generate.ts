/**
 * Generates `lib/contracts/gen/descriptor.json` from `proto/qmtl/v1/*.proto`
 * (run with `deno task proto`). The parser is used at generation time only;
 * at run time the codec loads the JSON with `Root.fromJSON`.
 *
 * The output holds the schema version (from the `// Schema version:` header
 * every proto file carries, which must agree), the schema hash
 * (`"sha256:" + hex(sha256(canonicalJson(descriptor)))`) and the descriptor
 * itself (protobufjs JSON, proto field names kept, comments dropped).
 *
 * @module
 */

import protobuf from "protobufjs";
import { canonicalJson, sha256Hex } from "../node_id.ts";

/**
 * Result of {@link generate}.
 *
 * @example
 * ```ts
 * import { generate, type GeneratedDescriptor } from "./generate.ts";
 * const g: GeneratedDescriptor = generate();
 * ```
 */
export interface GeneratedDescriptor {
  /** Schema version found in the proto headers. */
  version: string;
  /** `"sha256:"` + hex SHA-256 of the canonical descriptor JSON. */
  hash: string;
  /** The protobufjs JSON descriptor (keys sorted). */
  descriptor: Record<string, unknown>;
  /** The exact text of `descriptor.json`. */
  text: string;
}

/**
 * Default directory of the `.proto` files.
 *
 * @example
 * ```ts
 * import { PROTO_DIR } from "./generate.ts";
 * console.log(PROTO_DIR.pathname);
 * ```
 */
export const PROTO_DIR: URL = new URL(
  "../../../proto/qmtl/v1/",
  import.meta.url,
);
/**
 * Default output file.
 *
 * @example
 * ```ts
 * import { OUTPUT_FILE } from "./generate.ts";
 * console.log(OUTPUT_FILE.pathname);
 * ```
 */
export const OUTPUT_FILE: URL = new URL("./descriptor.json", import.meta.url);

const VERSION_RE = /^\/\/ Schema version: (\d+\.\d+\.\d+)$/m;

/**
 * Parse every `.proto` file of `protoDir` (sorted by name) and build the
 * descriptor JSON text. Throws when a header lacks the schema version or the
 * versions disagree, or when a type does not resolve.
 *
 * @example
 * ```ts
 * import { generate } from "./generate.ts";
 * const g = generate();
 * console.log(g.version, g.hash);
 * ```
 */
export function generate(protoDir: URL = PROTO_DIR): GeneratedDescriptor {
  const files = [...Deno.readDirSync(protoDir)]
    .filter((e) => e.isFile && e.name.endsWith(".proto"))
    .map((e) => e.name)
    .sort();
  if (files.length === 0) throw new Error(`no .proto files in ${protoDir}`);
  const root = new protobuf.Root();
  let version: string | undefined;
  for (const file of files) {
    const source = Deno.readTextFileSync(new URL(file, protoDir));
    const m = VERSION_RE.exec(source);
    if (!m) {
      throw new Error(`${file}: missing "// Schema version: x.y.z" header`);
    }
    if (!/^\/\/ Change log:$/m.test(source)) {
      throw new Error(`${file}: missing "// Change log:" header`);
    }
    if (version !== undefined && m[1] !== version) {
      throw new Error(`${file}: schema version ${m[1]} != ${version}`);
    }
    version = m[1];
    const parsed = protobuf.parse(source, root, {
      keepCase: true,
      alternateCommentMode: false,
    });
    if (parsed.package !== "qmtl.v1") {
      throw new Error(
        `${file}: package must be qmtl.v1, got ${parsed.package}`,
      );
    }
  }
  root.resolveAll();
  const raw = JSON.parse(JSON.stringify(root.toJSON({ keepComments: false })));
  const canonical = canonicalJson(raw, "descriptor");
  const descriptor = JSON.parse(canonical) as Record<string, unknown>;
  const hash = "sha256:" + sha256Hex(canonical);
  const text = JSON.stringify(
    { version, hash, descriptor },
    null,
    2,
  ) + "\n";
  return { version: version as string, hash, descriptor, text };
}

if (import.meta.main) {
  const g = generate();
  Deno.writeTextFileSync(OUTPUT_FILE, g.text);
  console.log(
    `wrote ${OUTPUT_FILE.pathname} (schema ${g.version}, ${g.hash})`,
  );
}
