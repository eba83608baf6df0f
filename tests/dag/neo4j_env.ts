// Shared setup of the Neo4j-only DAG tests: test options, registries in
// fresh namespaces, one-query sessions.
import type { Driver, QueryResult } from "neo4j-driver";
import { Neo4jRegistry } from "../../lib/dag/mod.ts";
import { createNeo4jDriver } from "../../lib/dag/neo4j/driver.ts";
import { freshNamespace, type TestNeo4j } from "./helpers.ts";

/**
 * Deno.test options of a test that needs Neo4j: ignored where no server is
 * configured; the driver's sockets and timers outlive single tests, so ops
 * and resources are not sanitized.
 */
export function neo4jBase(cfg: TestNeo4j | null): {
  ignore: boolean;
  sanitizeOps: false;
  sanitizeResources: false;
} {
  return { ignore: cfg === null, sanitizeOps: false, sanitizeResources: false };
}

/** A registry in namespace `ns`, migrated at start-up; `maxNodes` bounds its transactions. */
export async function openRegistry(
  cfg: TestNeo4j,
  ns: string,
  maxNodes?: number,
): Promise<Neo4jRegistry> {
  return await Neo4jRegistry.connect({
    ...cfg,
    namespace: ns,
    migrate: "auto",
    ...(maxNodes ? { transactionBudget: { maxNodes } } : {}),
  });
}

/** Deletes the registry's namespace, then closes it (also when the purge fails). */
export async function dropRegistry(reg: Neo4jRegistry): Promise<void> {
  try {
    await reg.purgeNamespace();
  } finally {
    await reg.close();
  }
}

/** Runs `fn` on a registry in a fresh namespace named after `prefix`, then drops it. */
export async function withRegistry(
  cfg: TestNeo4j,
  prefix: string,
  fn: (reg: Neo4jRegistry, ns: string) => Promise<void>,
  maxNodes?: number,
): Promise<void> {
  const ns = freshNamespace(prefix);
  const reg = await openRegistry(cfg, ns, maxNodes);
  try {
    await fn(reg, ns);
  } finally {
    await dropRegistry(reg);
  }
}

/** {@link withRegistry}, with a driver of its own on the same database for `fn` (closed first). */
export function withRegistryAndDriver(
  cfg: TestNeo4j,
  prefix: string,
  fn: (reg: Neo4jRegistry, ns: string, driver: Driver) => Promise<void>,
): Promise<void> {
  return withRegistry(cfg, prefix, async (reg, ns) => {
    const driver = createNeo4jDriver(cfg);
    try {
      await fn(reg, ns, driver);
    } finally {
      await driver.close();
    }
  });
}

/** Runs one query in a session of its own on the test database. */
export async function cypher(
  cfg: TestNeo4j,
  driver: Driver,
  q: string,
  params: Record<string, unknown> = {},
): Promise<QueryResult> {
  const s = driver.session(cfg.database ? { database: cfg.database } : {});
  try {
    return await s.run(q, params);
  } finally {
    await s.close();
  }
}
