/**
 * Users copy examples, so examples import what users can import: the
 * published entry points (`@qmtl/qmtl/sdk`, `@qmtl/qmtl/gateway`, …), which
 * Deno resolves in this repository from deno.json's `name` and `exports`.
 * This finds JSDoc example imports of relative paths whose names are all
 * exported by the entry point that owns the imported file (an example of an
 * internal helper, which no entry point exports, keeps its relative import),
 * and relative imports in `examples/`.
 *
 *     deno run --allow-read --allow-run --allow-write tests/support/jsdoc_imports.ts --fix
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

/** Entry points by the folder they own, most specific first. */
export const OWNERS: readonly [prefix: string, entry: string][] = [
  ["lib/contracts/", "@qmtl/qmtl/contracts"],
  ["lib/dag/", "@qmtl/qmtl/dag"],
  ["lib/queue/", "@qmtl/qmtl/queue"],
  ["lib/gateway/server/", "@qmtl/qmtl/server"],
  ["lib/gateway/", "@qmtl/qmtl/gateway"],
  ["sdk/cli/", "@qmtl/qmtl/cli"],
  ["sdk/", "@qmtl/qmtl/sdk"],
];

/** A relative import that should name an entry point. */
export interface Finding {
  /** File (repository-relative) and line (1-based). */
  file: string;
  line: number;
  /** The import line as written. */
  text: string;
  /** What it should read. */
  fixed: string;
}

/**
 * What each entry point exports (values and types), from `deno doc`: each
 * name with the repository-relative files that declare it.
 */
export async function entryExports(): Promise<
  Map<string, Map<string, Set<string>>>
> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { name: string; exports: Record<string, string> };
  const out = new Map<string, Map<string, Set<string>>>();
  for (const [sub, path] of Object.entries(config.exports)) {
    if (sub === ".") continue;
    const entry = `${config.name}/${sub.slice(2)}`;
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["doc", "--json", path],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    const doc = JSON.parse(new TextDecoder().decode(res.stdout)) as {
      nodes: Record<string, {
        symbols: {
          name: string;
          declarations: { location: { filename: string } }[];
        }[];
      }>;
    };
    const names = new Map<string, Set<string>>();
    for (const node of Object.values(doc.nodes)) {
      for (const s of node.symbols) {
        const files = names.get(s.name) ?? new Set<string>();
        for (const d of s.declarations) {
          files.add(d.location.filename.slice(ROOT.href.length));
        }
        names.set(s.name, files);
      }
    }
    out.set(entry, names);
  }
  return out;
}

function ownerOf(file: string): string | undefined {
  return OWNERS.find(([prefix]) => file.startsWith(prefix))?.[1];
}

function resolve(from: string, spec: string): string {
  const url = new URL(spec, new URL(from, "file:///r/"));
  return url.pathname.slice("/r/".length);
}

async function* files(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(new URL(dir, ROOT))) {
    const p = `${dir}${e.name}`;
    if (e.isDirectory && e.name !== "gen") yield* files(`${p}/`);
    else if (e.isFile && e.name.endsWith(".ts")) yield p;
  }
}

const IMPORT =
  /^(\s*\*\s*)import\s+(type\s+)?\{([^}]*)\}\s+from\s+"(\.{1,2}\/[^"]+)";\s*$/;

/**
 * Every JSDoc example import (in `lib/`, `sdk/`) that should name an entry
 * point, and every relative import in `examples/`.
 */
export async function findRelativePublicImports(
  exportsOf?: Map<string, Map<string, Set<string>>>,
): Promise<Finding[]> {
  const exported = exportsOf ?? await entryExports();
  const found: Finding[] = [];
  for (const top of ["lib/", "sdk/"]) {
    for await (const file of files(top)) {
      const lines = (await Deno.readTextFile(new URL(file, ROOT))).split("\n");
      let inExample = false;
      lines.forEach((text, i) => {
        if (/^\s*\*\s*```/.test(text)) inExample = !inExample;
        if (!inExample) return;
        const m = IMPORT.exec(text);
        if (!m) return;
        const [, lead, typeOnly, list, spec] = m;
        const target = resolve(file, spec);
        const entry = ownerOf(target);
        if (entry === undefined) return;
        const names = exported.get(entry);
        if (names === undefined) return;
        const items = list.split(",").map((s) => s.trim()).filter((s) =>
          s !== ""
        );
        const bare = (s: string) =>
          s.replace(/^type\s+/, "").split(/\s+as\s+/)[0];
        // The entry point must export that very declaration (two modules
        // may declare types of the same name); a `mod.ts` re-exports.
        const reexports = target.endsWith("/mod.ts");
        const isPublic = (s: string) => {
          const files = names.get(bare(s));
          return files !== undefined && (reexports || files.has(target));
        };
        if (!items.every(isPublic)) return;
        found.push({
          file,
          line: i + 1,
          text,
          fixed: `${lead}import ${typeOnly ?? ""}{ ${
            items.join(", ")
          } } from "${entry}";`,
        });
      });
    }
  }
  for await (const file of files("examples/")) {
    const lines = (await Deno.readTextFile(new URL(file, ROOT))).split("\n");
    let stmt = "";
    let start = 0;
    lines.forEach((text, i) => {
      if (stmt === "" && !/^import\b/.test(text)) return;
      if (stmt === "") start = i;
      stmt += (stmt ? "\n" : "") + text;
      if (!/;\s*$/.test(text)) return;
      const m = /from\s+"(\.{1,2}\/[^"]+)";\s*$/.exec(stmt);
      if (m) {
        const target = resolve(file, m[1]);
        const entry = ownerOf(target);
        if (entry !== undefined) {
          found.push({
            file,
            line: start + 1,
            text: stmt,
            fixed: stmt.replace(m[1], entry),
          });
        }
      }
      stmt = "";
    });
  }
  return found;
}

if (import.meta.main) {
  const found = await findRelativePublicImports();
  if (!Deno.args.includes("--fix")) {
    for (const f of found) console.log(`${f.file}:${f.line}: ${f.text.trim()}`);
    console.log(`${found.length} import(s) to rewrite`);
  } else {
    const byFile = Map.groupBy(found, (f) => f.file);
    for (const [file, list] of byFile) {
      const url = new URL(file, ROOT);
      let text = await Deno.readTextFile(url);
      for (const f of list) text = text.replace(f.text, f.fixed);
      await Deno.writeTextFile(url, text);
    }
    console.log(`rewrote ${found.length} import(s) in ${byFile.size} file(s)`);
  }
}
