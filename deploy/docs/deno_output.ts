/**
 * Runs a `deno` subcommand of the documentation build and returns what it
 * printed; a failure is an error that carries its standard error.
 *
 * @module
 */

/**
 * Standard output of `deno <args>` run in `cwd` (`NO_COLOR=1`).
 *
 * @param args the subcommand and its arguments
 * @param cwd folder to run it in
 * @param what names the command in the error, e.g. `"deno doc --html"`
 * @throws Error `<what> failed:` and the command's standard error, when it
 * exits non-zero
 * @example
 * ```ts ignore
 * import { denoOutput } from "./deno_output.ts";
 * const out = await denoOutput(["--version"], new URL("../../", import.meta.url), "deno --version");
 * console.log(new TextDecoder().decode(out));
 * ```
 */
export async function denoOutput(
  args: string[],
  cwd: URL | string,
  what: string,
): Promise<Uint8Array> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!out.success) {
    throw new Error(`${what} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}
