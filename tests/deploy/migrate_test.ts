/**
 * `deno task migrate` exit codes, as docs/operations.md states them: 2 for
 * usage and configuration, 3 when Neo4j is unavailable (nothing listening),
 * 0 on the real stack with `--check` after a migration.
 */
import assert from "node:assert/strict";
import { serviceUrl } from "../support/services.ts";

const ROOT = new URL("../../", import.meta.url);

async function migrate(args: string[], env: Record<string, string>) {
  const clean = Deno.env.toObject();
  for (const k of Object.keys(clean)) {
    if (k.startsWith("QMTL_")) delete clean[k];
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "migrate", ...args],
    cwd: ROOT,
    env: { ...clean, NO_COLOR: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    text: new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr),
  };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function documented(): Promise<Record<string, number>> {
  const doc = await Deno.readTextFile(new URL("docs/operations.md", ROOT));
  const m =
    /Exit codes: 0 ok, 1 issues found\s+\(`--check`\), 2 configuration error, 3 Neo4j unavailable, 4 other failure/
      .exec(doc.replace(/\n/g, " "));
  assert.ok(m, "docs/operations.md states the migrate exit codes");
  return { ok: 0, issues: 1, config: 2, unavailable: 3, other: 4 };
}

Deno.test("migrate: usage and configuration errors exit 2", async () => {
  const codes = await documented();
  const noUrl = await migrate([], {});
  assert.equal(noUrl.code, codes.config, noUrl.text);
  assert.match(noUrl.text, /QMTL_NEO4J_URL is not set/);
  const bad = await migrate(["--frobnicate"], {
    QMTL_NEO4J_URL: "bolt://127.0.0.1:1",
  });
  assert.equal(bad.code, codes.config, bad.text);
  assert.match(bad.text, /usage: deno task migrate/);
});

Deno.test("migrate: Neo4j unavailable exits 3, saying so", async () => {
  const codes = await documented();
  const run = await migrate(["--check"], {
    QMTL_NEO4J_URL: `bolt://127.0.0.1:${freePort()}`,
  });
  assert.equal(run.code, codes.unavailable, run.text);
  assert.match(run.text, /migrate failed: neo4j is unavailable/);
});

const neo4j = serviceUrl("QMTL_NEO4J_URL");
Deno.test({
  name: "migrate: on the real Neo4j, apply then --check exit 0",
  ignore: neo4j.ignore,
  async fn() {
    const codes = await documented();
    const env = { QMTL_NEO4J_URL: neo4j.url! };
    const apply = await migrate([], env);
    assert.equal(apply.code, codes.ok, apply.text);
    const check = await migrate(["--check"], env);
    assert.equal(check.code, codes.ok, check.text);
    assert.match(check.text, /schema up to date/);
  },
});
