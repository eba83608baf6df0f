/**
 * `deno task migrate`: apply the DAG Manager's Neo4j schema migrations and
 * re-create any missing index or constraint.
 *
 * Reads `QMTL_NEO4J_URL` (required), `QMTL_NEO4J_USER`,
 * `QMTL_NEO4J_PASSWORD`, `QMTL_NEO4J_DATABASE`. Flags:
 * - `--check`: change nothing; print pending migrations and schema issues,
 *   exit 1 if there are any.
 * - `--scope=NAME`: migration ledger scope (default `qmtl`).
 *
 * Exit codes: 0 done / healthy, 1 issues found (`--check`), 2 usage or
 * configuration error, 3 Neo4j unavailable, 4 other failure.
 *
 * @module
 */

import { createNeo4jDriver } from "../lib/dag/neo4j/driver.ts";
import { toRegistryError } from "../lib/dag/neo4j/errors_map.ts";
import {
  applyMigrations,
  migrationStatus,
  RegistryError,
} from "../lib/dag/mod.ts";
import { configFromEnv } from "../lib/gateway/server/config.ts";

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  const scope = args.find((a) => a.startsWith("--scope="))?.slice(8) || "qmtl";
  const unknown = args.filter((a) =>
    a !== "--check" && !a.startsWith("--scope=")
  );
  if (unknown.length > 0 || args.includes("--help")) {
    console.error("usage: deno task migrate [--check] [--scope=NAME]");
    return 2;
  }
  const options = configFromEnv().neo4j;
  if (!options) {
    console.error("QMTL_NEO4J_URL is not set (e.g. bolt://127.0.0.1:7687)");
    return 2;
  }
  const driver = createNeo4jDriver({ ...options, maxRetryTimeMs: 5000 });
  const target = { driver, database: options.database, scope };
  try {
    await driver.getServerInfo(
      options.database ? { database: options.database } : {},
    );
    if (check) {
      const s = await migrationStatus(target);
      for (const m of s.pending) {
        console.log(`pending   migration ${m.version}: ${m.name}`);
      }
      for (const i of s.issues) {
        console.log(
          `${i.problem.padEnd(9)} ${i.object.kind} ${i.object.name}${
            i.detail ? ` (${i.detail})` : ""
          }`,
        );
      }
      const ok = s.pending.length === 0 && s.issues.length === 0;
      console.log(ok ? "schema up to date" : "run: deno task migrate");
      return ok ? 0 : 1;
    }
    const r = await applyMigrations(target);
    for (const m of r.applied) {
      console.log(`applied   migration ${m.version}: ${m.name}`);
    }
    for (const name of r.repaired) console.log(`repaired  ${name}`);
    if (r.applied.length === 0 && r.repaired.length === 0) {
      console.log(
        `nothing to do: migrations ${
          r.alreadyApplied.join(", ") || "(none)"
        } already applied (scope ${scope})`,
      );
    }
    const left = await migrationStatus(target);
    for (const i of left.issues) {
      console.error(`still ${i.problem}: ${i.object.name} ${i.detail}`);
    }
    return left.issues.length === 0 ? 0 : 4;
  } catch (e) {
    // The driver's own errors (ServiceUnavailable when nothing listens) are
    // classified like the registry's, so "unavailable" is exit 3 whichever
    // layer noticed it.
    const err = e instanceof RegistryError ? e : toRegistryError(e);
    console.error(`migrate failed: ${err.message}`);
    return err.code === "E_UNAVAILABLE" ? 3 : 4;
  } finally {
    await driver.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
