/**
 * Every `QMTL_*` name written anywhere in the repository (code, docs,
 * examples, scripts, the Java launcher) is declared in CONFIG_VARIABLES —
 * so the server never refuses a name the docs or tools use — and a
 * family written with a trailing `*` names at least one declared variable.
 */
import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../../../lib/gateway/server/config.ts";

const ROOT = new URL("../../../", import.meta.url);

/** Names that look like variables but are not, with the reason. */
const NOT_VARIABLES: Readonly<Record<string, string>> = {
  QMTL_NEO4J_READY:
    "the line deploy/local/neo4j prints when Bolt is up (stack.sh waits for it)",
  QMTL_PROT: "a typo the config test feeds in to see it refused",
  QMTL_TOKNE: "a typo the config test feeds in to see it refused",
};

const SKIP_DIRS = new Set([".git", "node_modules", "target", "golden"]);

async function* files(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) {
      if (!SKIP_DIRS.has(e.name)) yield* files(new URL(`${e.name}/`, dir));
    } else if (e.isFile && !/\.(bin|lock|jar|png)$/.test(e.name)) {
      yield new URL(e.name, dir);
    }
  }
}

Deno.test("every QMTL_ name in the repository is a declared variable", async () => {
  const declared = new Set(CONFIG_VARIABLES.map((v) => v.name));
  const undeclared = new Map<string, string>();
  let scanned = 0;
  for await (const url of files(ROOT)) {
    const bytes = await Deno.readFile(url);
    if (bytes.length > 2_000_000) continue;
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      continue; // binary
    }
    scanned++;
    for (const m of text.matchAll(/QMTL_[A-Z0-9_]+(\*?)/g)) {
      const name = m[0].replace(/\*$/, "");
      const family = m[1] === "*" || name.endsWith("_");
      const ok = family
        ? [...declared].some((d) => d.startsWith(name))
        : declared.has(name) || name in NOT_VARIABLES;
      if (!ok && !undeclared.has(name)) {
        undeclared.set(name, url.pathname.slice(ROOT.pathname.length));
      }
    }
  }
  assert.ok(scanned > 100, `scanned ${scanned} files`);
  assert.deepEqual(
    [...undeclared].map(([n, f]) => `${n} (${f})`),
    [],
    "names used but not declared in lib/gateway/server/config.ts",
  );
});

Deno.test("the scan would catch an undeclared name", () => {
  const declared = new Set(CONFIG_VARIABLES.map((v) => v.name));
  assert.ok(!declared.has("QMTL_" + "NOT_A_SETTING"));
  assert.ok(declared.has("QMTL_PORT"));
  for (const name of Object.keys(NOT_VARIABLES)) {
    assert.ok(!declared.has(name), `${name} is declared after all`);
  }
});
