/**
 * Versioned, idempotent schema migrations for the Neo4j backend.
 *
 * Each migration lists schema objects of `schema.ts` (so the schema stays
 * the single source of truth) and is recorded once applied as
 * `(:Migration {uid: "{scope}:{version}", scope, version, name, applied_at})`.
 * Every statement is `CREATE … IF NOT EXISTS`, so re-running a migration is
 * harmless; {@link applyMigrations} also re-creates any object that went
 * missing after its migration was recorded (a dropped index).
 *
 * @module
 */

import neo4j from "neo4j-driver";
import { toRegistryError } from "./errors_map.ts";
import {
  diffSchema,
  type ExistingSchemaRow,
  RETIRED_SCHEMA,
  SCHEMA,
  type SchemaIssue,
  type SchemaObject,
} from "./schema.ts";

/**
 * One migration.
 *
 * @example
 * ```ts
 * import { MIGRATIONS } from "@qmtl/qmtl/dag";
 * for (const m of MIGRATIONS) console.log(m.version, m.name, m.objects.length);
 * ```
 */
export interface Migration {
  /** Strictly increasing version, from 1. */
  version: number;
  /** What it does. */
  name: string;
  /** Names of the `SCHEMA` (or `RETIRED_SCHEMA`) objects it creates. */
  objects: string[];
  /** Names of indexes it drops (`DROP INDEX … IF EXISTS`). */
  drops?: string[];
}

/**
 * Every migration, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MIGRATIONS } from "@qmtl/qmtl/dag";
 * assert.equal(MIGRATIONS[0].version, 1);
 * ```
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: "uniqueness constraints on uid keys",
    objects: SCHEMA.filter((o) => o.kind === "constraint").map((o) => o.name),
  },
  {
    version: 2,
    name:
      "lookup indexes: node_id, interval, node_type, last_ref_at, topic name",
    objects: [
      "qmtl_compute_node_id",
      "qmtl_compute_node_interval",
      "qmtl_compute_node_type",
      "qmtl_compute_node_last_ref",
      "qmtl_topic_name",
    ],
  },
  {
    version: 3,
    name: "drop unused indexes: node_id, interval, node_type, topic name",
    objects: [],
    drops: RETIRED_SCHEMA.map((o) => o.name),
  },
]);

/**
 * The part of a neo4j-driver `Driver` the migration helpers use (a `Driver`
 * from `neo4j.driver(…)` satisfies it).
 *
 * @example
 * ```ts
 * import type { Neo4jDriverLike } from "@qmtl/qmtl/dag";
 * import neo4j from "neo4j-driver";
 * const d: Neo4jDriverLike = neo4j.driver("bolt://127.0.0.1:7687");
 * await d.close();
 * ```
 */
export interface Neo4jDriverLike {
  /** Open a session. */
  session(config?: { database?: string }): {
    run(
      cypher: string,
      params?: Record<string, unknown>,
    ): PromiseLike<{ records: { toObject(): Record<string, unknown> }[] }>;
    close(): Promise<void>;
  };
  /** Release connections. */
  close(): Promise<void>;
}

/**
 * Where migrations run.
 *
 * @example
 * ```ts
 * import type { MigrationTarget, Neo4jDriverLike } from "@qmtl/qmtl/dag";
 * function targetOf(driver: Neo4jDriverLike): MigrationTarget {
 *   return { driver, database: "neo4j" };
 * }
 * ```
 */
export interface MigrationTarget {
  /** A driver. */
  driver: Neo4jDriverLike;
  /** Database; default the server default. */
  database?: string;
  /**
   * Ledger scope: which set of `(:Migration)` records to read and write
   * (default `"qmtl"`). Tests use a fresh scope to see a "fresh" ledger.
   */
  scope?: string;
}

/**
 * What {@link applyMigrations} did.
 *
 * @example
 * ```ts
 * import type { MigrationReport } from "@qmtl/qmtl/dag";
 * const r: MigrationReport = { applied: [], alreadyApplied: [1, 2, 3], repaired: [] };
 * ```
 */
export interface MigrationReport {
  /** Migrations applied by this run. */
  applied: { version: number; name: string }[];
  /** Versions that were already recorded. */
  alreadyApplied: number[];
  /** Schema objects re-created because they were missing. */
  repaired: string[];
}

/**
 * State of the schema and the migration ledger.
 *
 * @example
 * ```ts
 * import type { MigrationStatus } from "@qmtl/qmtl/dag";
 * function warnIfBehind(s: MigrationStatus): void {
 *   if (s.pending.length || s.issues.length) console.warn("run: deno task migrate");
 * }
 * ```
 */
export interface MigrationStatus {
  /** Migrations not recorded in the ledger. */
  pending: Migration[];
  /** Schema objects missing or different. */
  issues: SchemaIssue[];
}

async function rows(
  target: MigrationTarget,
  cypher: string,
  params: Record<string, unknown> = {},
): Promise<Record<string, unknown>[]> {
  const session = target.driver.session(
    target.database ? { database: target.database } : {},
  );
  try {
    const r = await session.run(cypher, params);
    return r.records.map((rec) => rec.toObject());
  } catch (e) {
    throw toRegistryError(e);
  } finally {
    await session.close();
  }
}

/**
 * Which {@link SCHEMA} objects are missing or differ in the database.
 *
 * @example
 * ```ts
 * import { checkSchema, type Neo4jDriverLike } from "@qmtl/qmtl/dag";
 * async function report(driver: Neo4jDriverLike): Promise<void> {
 *   for (const i of await checkSchema({ driver })) console.warn(i.object.name, i.problem);
 * }
 * ```
 */
export async function checkSchema(
  target: MigrationTarget,
): Promise<SchemaIssue[]> {
  const constraints = await rows(
    target,
    "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties",
  ) as unknown as ExistingSchemaRow[];
  const indexes = await rows(
    target,
    "SHOW INDEXES YIELD name, labelsOrTypes, properties, state",
  ) as unknown as ExistingSchemaRow[];
  return diffSchema(constraints, indexes);
}

async function ledger(target: MigrationTarget): Promise<Set<number>> {
  const scope = target.scope ?? "qmtl";
  const found = await rows(
    target,
    "MATCH (m:Migration) WHERE m.scope = $scope RETURN m.version AS version",
    { scope },
  );
  return new Set(found.map((r) => Number(r.version)));
}

/**
 * Pending migrations and schema issues, without changing anything.
 *
 * @example
 * ```ts
 * import { migrationStatus, type Neo4jDriverLike } from "@qmtl/qmtl/dag";
 * async function show(driver: Neo4jDriverLike): Promise<void> {
 *   const s = await migrationStatus({ driver });
 *   console.log(s.pending.length, s.issues.length);
 * }
 * ```
 */
export async function migrationStatus(
  target: MigrationTarget,
): Promise<MigrationStatus> {
  const done = await ledger(target);
  return {
    pending: MIGRATIONS.filter((m) => !done.has(m.version)),
    issues: await checkSchema(target),
  };
}

function objectNamed(name: string): SchemaObject {
  const o = SCHEMA.find((x) => x.name === name) ??
    RETIRED_SCHEMA.find((x) => x.name === name);
  if (!o) throw new Error(`migration names unknown schema object ${name}`);
  return o;
}

/**
 * Apply pending migrations in order, record each, then re-create any schema
 * object still missing, and wait for indexes to come online. Idempotent:
 * a second run applies and repairs nothing.
 *
 * @example
 * ```ts
 * import { applyMigrations, type Neo4jDriverLike } from "@qmtl/qmtl/dag";
 * async function migrate(driver: Neo4jDriverLike): Promise<void> {
 *   const r = await applyMigrations({ driver });
 *   console.log(r.applied.map((m) => m.version));
 * }
 * ```
 */
export async function applyMigrations(
  target: MigrationTarget,
  options: { now?: number } = {},
): Promise<MigrationReport> {
  const scope = target.scope ?? "qmtl";
  // the ledger's own constraint first, so recording is race-free
  await rows(target, objectNamed("qmtl_migration_uid").create);
  const done = await ledger(target);
  const report: MigrationReport = {
    applied: [],
    alreadyApplied: [...done].sort((a, b) => a - b),
    repaired: [],
  };
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const name of m.objects) await rows(target, objectNamed(name).create);
    for (const name of m.drops ?? []) {
      if (!/^[A-Za-z0-9_]+$/.test(name)) {
        throw new Error(`migration drops a badly named index ${name}`);
      }
      await rows(target, `DROP INDEX ${name} IF EXISTS`);
    }
    await rows(
      target,
      `MERGE (m:Migration {uid: $uid})
       ON CREATE SET m.scope = $scope, m.version = $version, m.name = $name,
                     m.applied_at = $now`,
      {
        uid: `${scope}:${m.version}`,
        scope,
        version: neo4j.int(m.version),
        name: m.name,
        now: neo4j.int(options.now ?? Date.now()),
      },
    );
    report.applied.push({ version: m.version, name: m.name });
  }
  for (const issue of await checkSchema(target)) {
    if (issue.problem !== "missing") continue;
    await rows(target, issue.object.create);
    report.repaired.push(issue.object.name);
  }
  await rows(target, "CALL db.awaitIndexes(120)");
  return report;
}
