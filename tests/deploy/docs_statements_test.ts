/**
 * Statements of the docs that are about the code base as a whole, checked
 * against it: docs/queue.md says Redis clients are closed with `closeRedis`
 * (a plain `quit()` leaves ioredis's Sentinel connections — and the process
 * — alive), so nothing but `closeRedis` itself calls `quit()` on a client
 * made by `createRedis`.
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
