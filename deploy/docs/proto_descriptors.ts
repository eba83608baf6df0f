/**
 * The descriptors of the `.proto` files under `proto/`, comments included:
 * `buf build` (run by Deno from npm, the version `deno task proto` uses)
 * writes a binary `FileDescriptorSet` with source info.
 *
 * @module
 */

import { fromBinary } from "@bufbuild/protobuf";
import {
  type FileDescriptorSet,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { denoOutput } from "./deno_output.ts";

/** The buf CLI, from npm (same pin as the `proto` tasks of deno.json). */
export const BUF = "npm:@bufbuild/buf@1.75.0";

/**
 * Builds the module at `protoDir` (a folder with `buf.yaml`) into a
 * `FileDescriptorSet` of its own files (imports excluded), with comments.
 *
 * @throws Error with buf's message when the build fails
 * @example
 * ```ts ignore
 * const set = await protoDescriptors(new URL("../../proto/", import.meta.url));
 * ```
 */
export async function protoDescriptors(
  protoDir: URL,
): Promise<FileDescriptorSet> {
  const out = await denoOutput(
    [
      "run",
      "-A",
      BUF,
      "build",
      "--as-file-descriptor-set",
      "--exclude-imports",
      "-o",
      "-",
    ],
    protoDir,
    "buf build",
  );
  return fromBinary(FileDescriptorSetSchema, out);
}
