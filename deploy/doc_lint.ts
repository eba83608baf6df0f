/**
 * `deno doc --lint` for the package's entry points, as `deno task check`
 * runs it: every diagnostic fails the check, except `private-type-ref` for a
 * type that belongs to another package (the protobuf-es / connect-es types
 * in the generated contract code and its callers: `Message`, `GenMessage`,
 * `HandlerContext`, …). Deno 2.9 reports those too although they are public
 * in their own package (denoland/deno#27364); such a type is recognised by
 * not being declared in this repository.
 *
 * `deno doc` also warns "Failed resolving types" for triple-slash references
 * *inside npm packages* that `deno check` resolves: `/// <reference
 * types="node" />` (ioredis, csv-parse; `deno check` supplies its built-in
 * Node types, `deno doc` does not — denoland/deno#18385) and relative
 * `path` references written without `./` (rxjs, and all of `@types/node`
 * once it is resolvable — denoland/deno#36751). They say nothing about this
 * package and are counted, not printed; a warning about a file of this
 * repository still is.
 *
 *     deno run --allow-run --allow-read deploy/doc_lint.ts mod.ts lib/contracts/mod.ts …
 *
 * @module
 */

const entries = Deno.args;
if (entries.length === 0) {
  console.error("usage: doc_lint.ts <entry.ts>…");
  Deno.exit(2);
}

const out = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--lint", ...entries],
  env: { NO_COLOR: "1" },
  stdout: "piped",
  stderr: "piped",
}).output();
const stderr = new TextDecoder().decode(out.stderr);
// "Warning Failed resolving types. … from referrer 'file:///…/npm/…'" and its
// indented "at …" lines: deno doc's own limits inside npm packages (above).
const NPM_TYPES_WARNING =
  /^Warning Failed resolving types\. .* from referrer 'file:\/\/\/[^']*\/npm\/[^']*'.*\n(?:[ \t]+at .*\n?)*/gm;
let npmTypeWarnings = 0;
const text = new TextDecoder().decode(out.stdout) +
  stderr.replace(NPM_TYPES_WARNING, () => {
    npmTypeWarnings++;
    return "";
  });

/** Names of the types, interfaces, classes and enums declared here. */
function declaredNames(): Set<string> {
  const names = new Set<string>();
  const re =
    /(?:^|\s)(?:type|interface|class|enum|const|function)\s+([A-Za-z_$][\w$]*)/g;
  // Imports and re-exports name other modules' declarations: skip them.
  const imports = /(?:import|export)\s[^;]*?\sfrom\s*"[^"]*";/gs;
  const scan = (path: string) => {
    const source = Deno.readTextFileSync(path).replace(imports, "");
    for (const m of source.matchAll(re)) names.add(m[1]);
  };
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.name.endsWith(".ts")) scan(p);
    }
  };
  for (const d of ["lib", "sdk"]) walk(d);
  scan("mod.ts");
  return names;
}

const blocks = text.split(/\n(?=(?:error|warning)\[|Warning )/).filter((b) =>
  /^(?:error\[|warning\[|Warning )/.test(b.trimStart())
);
const local = declaredNames();
let ignored = 0;
const kept: string[] = [];
for (const block of blocks) {
  const m =
    /^\s*error\[private-type-ref\]: .* references private type '([^'[]+)/
      .exec(block);
  if (m && !local.has(m[1])) {
    ignored++;
    continue;
  }
  kept.push(block.trimEnd());
}
if (kept.length > 0) {
  console.error(kept.join("\n\n"));
  console.error(`\ndoc lint: ${kept.length} problem(s)`);
  Deno.exit(1);
}
if (!out.success && blocks.length === 0) {
  console.error(text);
  Deno.exit(1);
}
console.log(
  `doc lint: clean (${ignored} references to other packages' types and ${npmTypeWarnings} unresolved type references inside npm packages ignored)`,
);
