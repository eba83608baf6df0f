/**
 * The Neo4j schema of the DAG Manager as code: every constraint and index the
 * registry relies on, and a check of which are missing from a database.
 *
 * Why tags are nodes: a RANGE index on a list property indexes the whole list
 * as one value, so `$tag IN n.tags` cannot seek it. Each tag is instead a
 * `(:Tag {uid})` node (unique) linked by `(:ComputeNode)-[:TAGGED]->(:Tag)`,
 * so a tag query starts with a unique index seek on `Tag.uid`.
 *
 * Keys are `{namespace}:{id}` strings (`uid`) under single-property
 * uniqueness constraints: composite node keys are Enterprise-only, and this
 * also lets several namespaces share one Community database.
 *
 * @module
 */

/**
 * One constraint or index.
 *
 * @example
 * ```ts
 * import { SCHEMA } from "@qmtl/qmtl/dag";
 * const first = SCHEMA[0];
 * console.log(first.kind, first.name, first.create);
 * ```
 */
export interface SchemaObject {
  /** `constraint` (uniqueness) or `index` (range). */
  kind: "constraint" | "index";
  /** Name in the database (`SHOW CONSTRAINTS` / `SHOW INDEXES`). */
  name: string;
  /** Node label. */
  label: string;
  /** Properties, in order. */
  properties: string[];
  /** Idempotent Cypher that creates it (`IF NOT EXISTS`). */
  create: string;
}

function unique(name: string, label: string, prop: string): SchemaObject {
  return {
    kind: "constraint",
    name,
    label,
    properties: [prop],
    create:
      `CREATE CONSTRAINT ${name} IF NOT EXISTS FOR (n:${label}) REQUIRE n.${prop} IS UNIQUE`,
  };
}

function range(name: string, label: string, props: string[]): SchemaObject {
  return {
    kind: "index",
    name,
    label,
    properties: props,
    create: `CREATE INDEX ${name} IF NOT EXISTS FOR (n:${label}) ON (${
      props.map((p) => `n.${p}`).join(", ")
    })`,
  };
}

/**
 * Every schema object, constraints first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEMA } from "@qmtl/qmtl/dag";
 * assert.ok(SCHEMA.some((o) => o.name === "qmtl_tag_uid"));
 * ```
 */
export const SCHEMA: readonly SchemaObject[] = Object.freeze([
  unique("qmtl_compute_node_uid", "ComputeNode", "uid"),
  unique("qmtl_topic_uid", "Topic", "uid"),
  unique("qmtl_strategy_uid", "Strategy", "uid"),
  unique("qmtl_version_sentinel_uid", "VersionSentinel", "uid"),
  unique("qmtl_tag_uid", "Tag", "uid"),
  unique("qmtl_dag_lock_uid", "DagLock", "uid"),
  unique("qmtl_migration_uid", "Migration", "uid"),
  range("qmtl_compute_node_last_ref", "ComputeNode", ["ns", "last_ref_at"]),
]);

/**
 * Indexes earlier versions created and migration 3 drops: no statement of
 * the registry uses them (every look-up goes through the `uid` keys; the
 * node-type and interval filters of `listNodes` apply to an ordered `uid`
 * range), yet every new node paid an entry in each — four of its six index
 * entries. Kept so that migration 2 still means what it meant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RETIRED_SCHEMA } from "@qmtl/qmtl/dag";
 * assert.ok(RETIRED_SCHEMA.map((o) => o.name).includes("qmtl_topic_name"));
 * ```
 */
export const RETIRED_SCHEMA: readonly SchemaObject[] = Object.freeze([
  range("qmtl_compute_node_id", "ComputeNode", ["node_id"]),
  range("qmtl_compute_node_interval", "ComputeNode", ["ns", "interval"]),
  range("qmtl_compute_node_type", "ComputeNode", ["ns", "node_type"]),
  range("qmtl_topic_name", "Topic", ["name"]),
]);

/**
 * A schema object that is missing or differs from {@link SCHEMA}.
 *
 * @example
 * ```ts
 * import { diffSchema, type SchemaIssue } from "@qmtl/qmtl/dag";
 * const [issue]: SchemaIssue[] = diffSchema([], []); // empty database: everything missing
 * console.log(`${issue.object.name}: ${issue.problem}`);
 * ```
 */
export interface SchemaIssue {
  /** The expected object. */
  object: SchemaObject;
  /** `missing`, `mismatch` (same name, other definition) or `not online`. */
  problem: "missing" | "mismatch" | "not online";
  /** Detail, e.g. the state or definition found. */
  detail: string;
}

/**
 * One row of `SHOW CONSTRAINTS` / `SHOW INDEXES`, as {@link diffSchema}
 * needs it.
 *
 * @example
 * ```ts
 * import type { ExistingSchemaRow } from "@qmtl/qmtl/dag";
 * const r: ExistingSchemaRow = { name: "qmtl_tag_uid", labelsOrTypes: ["Tag"], properties: ["uid"], state: "ONLINE" };
 * ```
 */
export interface ExistingSchemaRow {
  /** Object name. */
  name: string;
  /** Labels (or relationship types). */
  labelsOrTypes: string[] | null;
  /** Properties. */
  properties: string[] | null;
  /** Index state (`ONLINE`, `POPULATING`, `FAILED`); absent for constraints. */
  state?: string;
}

/**
 * Compare the objects found in a database with {@link SCHEMA}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diffSchema, SCHEMA } from "@qmtl/qmtl/dag";
 * const issues = diffSchema([], []); // empty database: everything missing
 * assert.equal(issues.length, SCHEMA.length);
 * assert.ok(issues.every((i) => i.problem === "missing"));
 * ```
 */
export function diffSchema(
  constraints: readonly ExistingSchemaRow[],
  indexes: readonly ExistingSchemaRow[],
): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const object of SCHEMA) {
    const rows = object.kind === "constraint" ? constraints : indexes;
    const row = rows.find((r) => r.name === object.name);
    if (!row) {
      issues.push({ object, problem: "missing", detail: "" });
      continue;
    }
    const same = (row.labelsOrTypes ?? []).join(",") === object.label &&
      (row.properties ?? []).join(",") === object.properties.join(",");
    if (!same) {
      issues.push({
        object,
        problem: "mismatch",
        detail: `found (:${(row.labelsOrTypes ?? []).join(":")} ${
          (row.properties ?? []).join(", ")
        })`,
      });
    } else if (row.state !== undefined && row.state !== "ONLINE") {
      issues.push({ object, problem: "not online", detail: row.state });
    }
  }
  return issues;
}
