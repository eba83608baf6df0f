/**
 * How tests find the real services. A test about Neo4j or Redis reads its URL
 * from the environment (`deno task test` starts the local stack and sets
 * them). When the variable is missing the test is skipped with a message —
 * except under CI (`CI=true`), where a missing service is a failure.
 *
 * @module
 */

/** Result of {@linkcode serviceUrl}: the URL, or why the test is ignored. */
export interface ServiceLookup {
  /** The service URL, when configured. */
  url?: string;
  /** True when the test must be ignored (never under CI). */
  ignore: boolean;
}

/**
 * Looks up a service URL from the environment.
 *
 * @throws {Error} under `CI=true` when the variable is unset
 * @example
 * ```ts ignore
 * const neo4j = serviceUrl("QMTL_NEO4J_URL");
 * Deno.test({ name: "x", ignore: neo4j.ignore, fn: () => {} });
 * ```
 */
export function serviceUrl(variable: string): ServiceLookup {
  const url = Deno.env.get(variable);
  if (url) return { url, ignore: false };
  if (Deno.env.get("CI") === "true") {
    throw new Error(
      `${variable} is not set but CI=true: the real service is required (run the tests with \`deno task test\`)`,
    );
  }
  console.warn(
    `[tests] ${variable} not set: skipping tests that need it (use \`deno task test\`)`,
  );
  // Outside CI only: a developer without the stack still runs every other
  // test. Under CI=true the throw above fails the run instead.
  return { ignore: true };
}

/**
 * Both services of the real stack: the Neo4j and Redis lookups, and `ignore`
 * when either is missing (for tests that need the whole stack).
 *
 * @example
 * ```ts ignore
 * const { neo4j, redis, ignore } = realStack();
 * Deno.test({ name: "x", ignore, fn: () => {} });
 * ```
 */
export function realStack(): {
  neo4j: ServiceLookup;
  redis: ServiceLookup;
  ignore: boolean;
} {
  const neo4j = serviceUrl("QMTL_NEO4J_URL");
  const redis = serviceUrl("QMTL_REDIS_URL");
  return { neo4j, redis, ignore: neo4j.ignore || redis.ignore };
}
