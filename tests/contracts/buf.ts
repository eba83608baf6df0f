/**
 * Runs buf (from npm, the version `deno task proto` uses) in `proto/`.
 *
 * @module
 */

/** The pinned buf of `deno task proto` / `deno task proto:lint`. */
export const BUF = "npm:@bufbuild/buf@1.75.0";

const PROTO_DIR = new URL("../../proto/", import.meta.url);

/** Run `buf <args>` in `proto/`; throws with its output when it fails. */
export async function buf(
  args: string[],
): Promise<{ stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BUF, ...args],
    cwd: PROTO_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`buf ${args.join(" ")} failed:\n${stdout}\n${stderr}`);
  }
  return { stdout, stderr };
}
