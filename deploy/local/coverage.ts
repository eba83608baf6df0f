/**
 * Line coverage of the library (`lib/` and `sdk/` combined), from the
 * coverage data `deno test --coverage=<dir>` wrote (`deno task test` does).
 *
 *     deno run --allow-read --allow-write --allow-run deploy/local/coverage.ts <dir> [--min 85]
 *
 * How it counts: the executable lines `deno coverage --lcov` reports (`LF`,
 * hit: `LH`) for every `.ts` file under `lib/` and `sdk/`, generated code
 * under `lib/contracts/gen/` excluded; combined = Σ hit / Σ executable. Only
 * code run in the test process counts (unit, integration and doc tests);
 * code that runs only in a child process (a `deploy/server.ts` subprocess)
 * does not. A library file that no test loads has no data at all: it is
 * listed and fails the run (it would otherwise be silently left out) —
 * unless it declares types only (no code to run, so nothing to count).
 *
 * Prints a table per directory (worst files first) and the combined figure;
 * with `--min`, exits 1 when the combined line coverage is below it.
 *
 * @module
 */

const args = [...Deno.args];
const minAt = args.indexOf("--min");
let min: number | undefined;
if (minAt >= 0) {
  min = Number(args[minAt + 1]);
  args.splice(minAt, 2);
  if (!Number.isFinite(min) || min < 0 || min > 100) {
    console.error("coverage: --min takes a percentage 0-100");
    Deno.exit(2);
  }
}
const dir = args[0];
if (!dir) {
  console.error("usage: coverage.ts <coverage dir> [--min <percent>]");
  Deno.exit(2);
}

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const GENERATED = /^lib\/contracts\/gen\//;
const COUNTED = /^(lib|sdk)\/.*\.ts$/;

// A subprocess killed while it wrote its coverage (tests kill servers with
// SIGKILL) can leave a file deno coverage cannot read, which would fail the
// whole report: such files are moved aside (to `<dir>.unreadable/`) and
// counted, and the directory is passed whole (a list of thousands of file
// names would exceed the OS argument limit).
let unreadable = 0;
for await (const e of Deno.readDir(dir)) {
  if (!e.isFile || !e.name.endsWith(".json")) continue;
  const path = `${dir}/${e.name}`;
  try {
    JSON.parse(await Deno.readTextFile(path));
  } catch {
    unreadable++;
    await Deno.mkdir(`${dir}.unreadable`, { recursive: true });
    await Deno.rename(path, `${dir}.unreadable/${e.name}`);
  }
}
if (unreadable > 0) {
  console.log(
    `coverage: ${unreadable} unreadable coverage file(s) moved to ${dir}.unreadable (a process killed while writing)`,
  );
}

const out = await new Deno.Command(Deno.execPath(), {
  // An explicit --exclude replaces deno's default one, which would drop any
  // file named `*test.ts` (sdk/runner/backtest.ts).
  args: [
    "coverage",
    dir,
    "--lcov",
    `--include=^file://${root}/(lib|sdk)/`,
    `--exclude=^file://${root}/lib/contracts/gen/`,
  ],
  env: { NO_COLOR: "1" },
  stdout: "piped",
  stderr: "piped",
}).output();
if (!out.success) {
  console.error(new TextDecoder().decode(out.stderr));
  Deno.exit(1);
}

/** Per file: executable and hit lines. */
const files = new Map<string, { found: number; hit: number }>();
let current: string | undefined;
for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
  if (line.startsWith("SF:")) {
    const path = line.slice(3).replace(/^file:\/\//, "");
    const rel = path.startsWith(root + "/") ? path.slice(root.length + 1) : "";
    current = COUNTED.test(rel) && !GENERATED.test(rel) ? rel : undefined;
    if (current) files.set(current, { found: 0, hit: 0 });
  } else if (current && line.startsWith("LF:")) {
    files.get(current)!.found = Number(line.slice(3));
  } else if (current && line.startsWith("LH:")) {
    files.get(current)!.hit = Number(line.slice(3));
  } else if (line === "end_of_record") current = undefined;
}

/** Every library file, to find those no test loaded. */
function walk(rel: string): string[] {
  const found: string[] = [];
  for (const e of Deno.readDirSync(`${root}/${rel}`)) {
    const p = `${rel}/${e.name}`;
    if (e.isDirectory) found.push(...walk(p));
    else if (COUNTED.test(p) && !GENERATED.test(p)) found.push(p);
  }
  return found;
}
/** A top-level statement that runs (types and interfaces do not). */
const RUNTIME =
  /^(export )?(default )?(async )?(function|class|const|let|var|enum) |^export (\*|\{)/m;
const unloaded = [...walk("lib"), ...walk("sdk")].filter((f) =>
  !files.has(f) && RUNTIME.test(Deno.readTextFileSync(`${root}/${f}`))
).sort();

const pct = (hit: number, found: number) =>
  found === 0 ? 100 : (100 * hit) / found;
const fmt = (x: number) => x.toFixed(1).padStart(5) + " %";

const byDir = new Map<string, { found: number; hit: number }>();
for (const [f, c] of files) {
  const parts = f.split("/");
  const d = parts.length > 2 ? parts.slice(0, 2).join("/") : parts[0];
  const agg = byDir.get(d) ?? { found: 0, hit: 0 };
  agg.found += c.found;
  agg.hit += c.hit;
  byDir.set(d, agg);
}
let found = 0, hit = 0;
for (const c of files.values()) {
  found += c.found;
  hit += c.hit;
}

console.log("\nline coverage (lib/ + sdk/, lib/contracts/gen excluded)");
for (const [d, c] of [...byDir].sort((a, b) => a[0].localeCompare(b[0]))) {
  console.log(
    `  ${d.padEnd(24)} ${fmt(pct(c.hit, c.found))}  ${c.hit}/${c.found}`,
  );
}
const worst = [...files].filter(([, c]) => c.found > 0)
  .sort((a, b) => pct(a[1].hit, a[1].found) - pct(b[1].hit, b[1].found))
  .slice(0, 8);
console.log("  lowest files:");
for (const [f, c] of worst) {
  console.log(`    ${fmt(pct(c.hit, c.found))}  ${f} (${c.hit}/${c.found})`);
}
const total = pct(hit, found);
console.log(
  `coverage: ${total.toFixed(1)} % of ${found} lines in ${files.size} files`,
);
let failed = false;
if (unloaded.length > 0) {
  console.log(`coverage: loaded by no test: ${unloaded.join(", ")}`);
  failed = true;
}
if (min !== undefined && total < min) {
  console.log(`coverage: ${total.toFixed(1)} % is below the ${min} % gate`);
  failed = true;
}
if (failed) Deno.exit(1);
