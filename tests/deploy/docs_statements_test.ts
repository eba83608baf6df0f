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
