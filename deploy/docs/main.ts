/**
 * `deno task docs`: writes the generated documentation and the README's
 * configuration tables; `deno task docs --check` writes nothing and exits 1
 * naming every file that is stale (CI runs it).
 *
 * Generated: the README configuration tables (from `CONFIG_VARIABLES`).
 *
 * @module
 */

import { replaceBetween, serverTable, toolingTable } from "./config_tables.ts";

const ROOT = new URL("../../", import.meta.url);

/** Formats Markdown the way `deno fmt` does, so a check compares like with like. */
async function fmtMarkdown(text: string): Promise<string> {
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

/** Every generated file: path relative to the repository → its content. */
async function generate(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  let readme = await Deno.readTextFile(new URL("README.md", ROOT));
  readme = replaceBetween(readme, "config:server", serverTable());
  readme = replaceBetween(readme, "config:tooling", toolingTable());
  files.set("README.md", await fmtMarkdown(readme));
  return files;
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const stale: string[] = [];
  for (const [path, text] of await generate()) {
    const url = new URL(path, ROOT);
    const now = await Deno.readTextFile(url).catch(() => null);
    if (now === text) continue;
    if (check) stale.push(path);
    else {
      await Deno.mkdir(new URL(".", url), { recursive: true });
      await Deno.writeTextFile(url, text);
      console.log(`wrote ${path}`);
    }
  }
  if (stale.length > 0) {
    console.error(
      `stale generated docs (run deno task docs):\n  ${stale.join("\n  ")}`,
    );
    Deno.exit(1);
  }
}
