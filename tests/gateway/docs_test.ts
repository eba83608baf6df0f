/**
 * Statements of the gateway's docs that the code can check: the members
 * `createGateway` returns, as the module doc (lib/gateway/mod.ts) and
 * docs/gateway.md list them.
 */
import assert from "node:assert/strict";
import { bareGateway } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url);

function listed(text: string): string[] {
  const m =
    /`createGateway\([^`]*\)`\s*,?\s*(?:which\s*)?returns\s*`\{([^}]*)\}`/
      .exec(text.replace(/\n\s*\*?\s*/g, " "));
  assert.ok(m, "the doc lists what createGateway returns");
  return m[1].split(",").map((s) => s.trim().replace(/\(\)$/, "")).sort();
}

Deno.test("docs: createGateway's return members are the ones the docs list", async () => {
  const gw = bareGateway({ gc: { intervalMs: 60_000, graceMs: 60_000 } });
  try {
    const actual = Object.keys(gw).sort();
    for (const file of ["lib/gateway/mod.ts", "docs/gateway.md"]) {
      const text = await Deno.readTextFile(new URL(file, ROOT));
      assert.deepEqual(listed(text), actual, file);
    }
  } finally {
    await gw.close();
  }
});
