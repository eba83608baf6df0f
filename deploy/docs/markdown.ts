/**
 * Markdown helpers of the generated documentation: formatting through
 * `deno fmt` (so that a check compares like with like) and escaping of table
 * cells.
 *
 * @module
 */

/**
 * Formats Markdown the way `deno fmt` does.
 *
 * @throws Error with `deno fmt`'s message when it refuses the text
 * @example
 * ```ts ignore
 * await fmtMarkdown("# Title\n\ntext"); // "# Title\n\ntext\n"
 * ```
 */
export async function fmtMarkdown(text: string): Promise<string> {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await p.output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/**
 * Escapes a Markdown table cell: pipes would split it, line breaks end the
 * row (they become spaces).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(cell("a | b\nc"), "a \\| b c");
 * ```
 */
export function cell(s: string): string {
  return s.replaceAll("|", "\\|").replace(/\s*\n\s*/g, " ").trim();
}
