/**
 * Statements of the docs that are about the code base as a whole, checked
 * against it: docs/queue.md says Redis clients are closed with `closeRedis`
 * (a plain `quit()` leaves ioredis's Sentinel connections — and the process
 * — alive), so nothing but `closeRedis` itself calls `quit()` on a client
 * made by `createRedis`. And the JSDoc examples (run as doc tests) that show
 * a result in a comment assert it.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** Files allowed to call `.quit()`, and why. */
const QUIT_ALLOWED: Readonly<Record<string, string>> = {
  "lib/queue/connection.ts": "closeRedis itself: quit(), then disconnect()",
  "lib/queue/sentinel_observer.ts":
    "plain connections to each Sentinel (no failover detector), disconnect() on failure",
};

async function* sources(dir: URL, rel = ""): AsyncGenerator<[string, URL]> {
  for await (const e of Deno.readDir(dir)) {
    if (e.name === "gen" || e.name === "target") continue;
    if (e.isDirectory) {
      yield* sources(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
    } else if (e.name.endsWith(".ts")) {
      yield [`${rel}${e.name}`, new URL(e.name, dir)];
    }
  }
}

Deno.test("docs/queue.md: clients are closed with closeRedis, never a bare quit()", async () => {
  const doc = await Deno.readTextFile(new URL("docs/queue.md", ROOT));
  assert.match(doc.replace(/\s+/g, " "), /Close clients with `closeRedis`/);
  const offenders: string[] = [];
  for (const top of ["lib", "sdk", "deploy", "examples", "bench"]) {
    for await (const [rel, url] of sources(new URL(`${top}/`, ROOT))) {
      const path = `${top}/${rel}`;
      if (path in QUIT_ALLOWED) continue;
      const text = await Deno.readTextFile(url);
      text.split("\n").forEach((line, i) => {
        if (/\.quit\(\)/.test(line)) offenders.push(`${path}:${i + 1}`);
      });
    }
  }
  assert.deepEqual(offenders, [], "use closeRedis (lib/queue/connection.ts)");
});

Deno.test("examples (JSDoc and examples/) import the published entry points, not files", async () => {
  const { findRelativePublicImports } = await import(
    "../support/jsdoc_imports.ts"
  );
  const found = await findRelativePublicImports();
  assert.deepEqual(
    found.map((f) =>
      `${f.file}:${f.line}: ${f.text.trim()} → ${f.fixed.trim()}`
    ),
    [],
    "fix with: deno run -A tests/support/jsdoc_imports.ts --fix",
  );
});

Deno.test("the example-import check sees a relative import of a public name", async () => {
  const { findRelativePublicImports } = await import(
    "../support/jsdoc_imports.ts"
  );
  const probe = new URL("sdk/zz_probe_example.ts", ROOT);
  await Deno.writeTextFile(
    probe,
    [
      "/**",
      " * @example",
      " * ```ts",
      ' * import { StrategyBuilder } from "./builder.ts";',
      " * ```",
      " */",
      "export const probe = 1;",
      "",
    ].join("\n"),
  );
  try {
    const found = await findRelativePublicImports();
    assert.deepEqual(
      found.filter((f) => f.file === "sdk/zz_probe_example.ts").map((f) =>
        f.fixed.trim()
      ),
      ['* import { StrategyBuilder } from "@qmtl/qmtl/sdk";'],
    );
  } finally {
    await Deno.remove(probe);
  }
});

/** A code line followed by `// <value>`, or a line that is only `// <value>`. */
const SHOWN_RESULT =
  /(\S.*;\s*|^\s*)\/\/\s*(→\s*)?(true|false|null|undefined|-?\d|"|'|`|\[|\{|0x|sha256)/;

/**
 * The JSDoc examples of `text` (run as doc tests, so not `ignore`) that show
 * a result in a comment without asserting anything: `[line, shown]` each.
 */
function unassertedResults(text: string): [number, string][] {
  const lines = text.split("\n");
  const out: [number, string][] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*\*\s*```(ts|typescript)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]); j++) {
      body.push(lines[j].replace(/^\s*\*\s?/, ""));
    }
    const shown = body.find((l) => SHOWN_RESULT.test(l));
    if (
      !/\bignore\b/.test(open[2]) && shown &&
      !/\bassert\b/.test(body.join("\n"))
    ) {
      out.push([i + 1, shown.trim()]);
    }
    i = j;
  }
  return out;
}

Deno.test("JSDoc examples that show a result assert it (they run as doc tests)", async () => {
  // the check itself flags what it should, and only that
  const example = (code: string) => ` * \`\`\`ts\n${code}\n * \`\`\``;
  assert.deepEqual(unassertedResults(example(" * f(1); // 2")), [
    [1, "f(1); // 2"],
  ]);
  assert.deepEqual(unassertedResults(example(' * f(1);\n * // "two"')), [
    [1, '// "two"'],
  ]);
  assert.deepEqual(
    unassertedResults(example(" * assert.equal(f(1), 2); // as shown")),
    [],
  );
  assert.deepEqual(unassertedResults(example(" * f(1); // computes it")), []);
  const offenders: string[] = [];
  for (const top of ["lib", "sdk"]) {
    for await (const [rel, url] of sources(new URL(`${top}/`, ROOT))) {
      if (rel.endsWith(".gen.ts")) continue;
      for (
        const [line, shown] of unassertedResults(await Deno.readTextFile(url))
      ) {
        offenders.push(`${top}/${rel}:${line}: ${shown}`);
      }
    }
  }
  assert.deepEqual(
    offenders,
    [],
    'assert the shown result (import assert from "node:assert/strict")',
  );
});
