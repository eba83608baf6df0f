/**
 * A clean terminal for a clean repository: running a program that uses the
 * project's npm packages, and the doc lint of `deno task check`, print
 * nothing but their own output (no "Ignored build scripts" box, no "Failed
 * resolving types" warnings).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const dec = new TextDecoder();

Deno.test("a program using the npm packages prints no lifecycle-script warning, in a directory Deno has never seen", async () => {
  // Deno warns about ignored build scripts once per project directory (a
  // marker in its cache), so the check runs in a fresh copy of the config.
  const dir = await Deno.makeTempDir({ prefix: "qmtl-clean-" });
  try {
    for (const f of ["deno.json", "deno.lock"]) {
      await Deno.copyFile(new URL(f, ROOT), `${dir}/${f}`);
    }
    const config = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
    // Every npm package of the project, so that every one is set up.
    const names = Object.keys(config.imports).filter((k) => !k.endsWith("/"));
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      names.map((n, i) => `import * as m${i} from "${n}";\n`).join("") +
        `console.log([${names.map((_, i) => `m${i}`).join(",")}].length);\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "main.ts"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    // A cold cache (CI) prints "Download …" progress lines: not warnings.
    const stderr = dec.decode(out.stderr).split("\n").filter((l) =>
      !l.startsWith("Download ")
    ).join("\n");
    assert.equal(out.code, 0, stderr);
    assert.equal(dec.decode(out.stdout).trim(), String(names.length));
    assert.doesNotMatch(stderr, /Ignored build scripts|lifecycle scripts/i);
    assert.equal(stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the doc lint of `deno task check` prints one line and no warnings", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const task: string = config.tasks.check;
  const entries = task.split("deploy/doc_lint.ts")[1].trim().split(/\s+/);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      "--allow-read",
      "deploy/doc_lint.ts",
      ...entries,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = dec.decode(out.stdout);
  const stderr = dec.decode(out.stderr);
  assert.equal(out.code, 0, stdout + stderr);
  assert.equal(stderr, "");
  assert.match(stdout, /^doc lint: clean \(.*\)\n$/);
});
