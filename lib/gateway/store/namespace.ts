/**
 * Namespaces: one name from which a gateway derives every Redis key it
 * uses — the diff and webhook queues, the strategy store, the event log and
 * the node topics — so that several deployments (or test runs) share one
 * Redis without taking each other's jobs. A marker key records which
 * registry (Neo4j database and namespace) a Redis namespace belongs to;
 * {@link claimNamespace} refuses a gateway whose registry disagrees.
 *
 * @module
 */

import type { RedisClient as Redis } from "../../queue/connection.ts";
import { QmtlError } from "../../contracts/errors.ts";

/** The namespace of a gateway that configures none. */
export const DEFAULT_NAMESPACE = "qmtl";

const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Validate a namespace (1-64 of `A-Z a-z 0-9 _ . -`) and return it.
 *
 * @throws {QmtlError} `E_INVALID` naming what is wrong
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkGatewayNamespace } from "./namespace.ts";
 * assert.equal(checkGatewayNamespace("prod-eu"), "prod-eu");
 * assert.throws(() => checkGatewayNamespace("a:b"));
 * ```
 */
export function checkGatewayNamespace(namespace: string): string {
  if (!NAMESPACE.test(namespace)) {
    throw new QmtlError(
      "E_INVALID",
      `namespace must be 1-64 characters of A-Z a-z 0-9 _ . -, got ${
        JSON.stringify(namespace)
      }`,
      { field: "namespace" },
    );
  }
  return namespace;
}

/**
 * The Redis names a gateway derives from its namespace.
 *
 * @example
 * ```ts
 * import type { NamespaceKeys } from "./namespace.ts";
 * function storePrefix(k: NamespaceKeys): string {
 *   return k.storePrefix;
 * }
 * ```
 */
export interface NamespaceKeys {
  /** The namespace. */
  namespace: string;
  /** Key prefix of the strategy store (`RedisStrategyStore` `prefix`). */
  storePrefix: string;
  /** Key prefix of the event log (`RedisEventLog` `keyPrefix`). */
  eventPrefix: string;
  /** Key prefix of the node topics (`RedisTopicStore` `keyPrefix`). */
  topicPrefix: string;
  /** Name and key prefix of the diff-job queue (`RedisQueue`). */
  diffQueue: { name: string; keyPrefix: string };
  /** Name and key prefix of the webhook-delivery queue (`RedisQueue`). */
  webhookQueue: { name: string; keyPrefix: string };
  /** The marker key naming the registry this namespace belongs to. */
  marker: string;
}

/**
 * The Redis names of `namespace`. The default namespace `qmtl` gives the
 * library's default prefixes (`qmtl:gw:`, `qmtl:ev`, `{qmtl:topics}`,
 * `{qmtl:q:diff}`, `{qmtl:q:webhook}`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { namespaceKeys } from "./namespace.ts";
 * const k = namespaceKeys("blue");
 * assert.equal(k.diffQueue.keyPrefix, "{blue:q:diff}");
 * assert.equal(k.storePrefix, "blue:gw:");
 * assert.equal(namespaceKeys().eventPrefix, "qmtl:ev");
 * ```
 */
export function namespaceKeys(
  namespace: string = DEFAULT_NAMESPACE,
): NamespaceKeys {
  const ns = checkGatewayNamespace(namespace);
  return {
    namespace: ns,
    storePrefix: `${ns}:gw:`,
    eventPrefix: `${ns}:ev`,
    topicPrefix: `{${ns}:topics}`,
    diffQueue: { name: "diff", keyPrefix: `{${ns}:q:diff}` },
    webhookQueue: { name: "webhook", keyPrefix: `{${ns}:q:webhook}` },
    marker: `${ns}:gw:namespace`,
  };
}

/**
 * What the marker of a namespace records.
 *
 * @example
 * ```ts
 * import type { NamespaceMarker } from "@qmtl/qmtl/gateway";
 * const m: NamespaceMarker = {
 *   namespace: "qmtl", registry: "neo4j database neo4j, namespace default", createdAtMs: 0,
 * };
 * ```
 */
export interface NamespaceMarker {
  /** The Redis namespace. */
  namespace: string;
  /**
   * The registry its strategies were diffed against, e.g.
   * `neo4j database neo4j, namespace default` or `memory`.
   */
  registry: string;
  /** When the first gateway claimed the namespace, ms since the epoch. */
  createdAtMs: number;
}

/**
 * Raised by {@link claimNamespace} when the Redis namespace belongs to
 * another registry: the gateway must not start (it would take jobs whose
 * strategies its registry does not hold).
 *
 * @example
 * ```ts
 * import { NamespaceMismatchError } from "@qmtl/qmtl/gateway";
 * const e = new NamespaceMismatchError("qmtl:gw:namespace", {
 *   namespace: "qmtl", registry: "memory", createdAtMs: 0,
 * }, "neo4j database neo4j, namespace default");
 * console.log(e.message);
 * ```
 */
export class NamespaceMismatchError extends Error {
  /** The marker found in Redis. */
  readonly found: NamespaceMarker;
  /** The registry this gateway uses. */
  readonly registry: string;

  /**
   * Build the error.
   *
   * @param key the marker key
   * @param found the marker found
   * @param registry this gateway's registry
   */
  constructor(key: string, found: NamespaceMarker, registry: string) {
    super(
      `Redis namespace "${found.namespace}" belongs to the registry "${found.registry}" (marker key ${key}), but this gateway uses "${registry}": give this deployment its own QMTL_NAMESPACE, or point it at the same registry (QMTL_NEO4J_URL, QMTL_NEO4J_DATABASE, QMTL_NEO4J_NAMESPACE)`,
    );
    this.name = "NamespaceMismatchError";
    this.found = found;
    this.registry = registry;
  }
}

/**
 * Claim a namespace for a registry: write its marker if absent (`SET NX`),
 * else check that it names the same registry.
 *
 * @param redis a connected client
 * @param keys the namespace's names ({@link namespaceKeys})
 * @param registry a description of the registry, equal for every gateway
 *   that shares it (e.g. `neo4j database neo4j, namespace default`)
 * @returns the marker in force
 * @throws {NamespaceMismatchError} when the marker names another registry
 *
 * @example
 * ```ts ignore
 * import { claimNamespace, namespaceKeys } from "./namespace.ts";
 * import { createRedis } from "@qmtl/qmtl/queue";
 * const redis = createRedis(Deno.env.get("QMTL_REDIS_URL")!);
 * await claimNamespace(redis, namespaceKeys("blue"), "neo4j database neo4j, namespace blue");
 * ```
 */
export async function claimNamespace(
  redis: Redis,
  keys: NamespaceKeys,
  registry: string,
): Promise<NamespaceMarker> {
  const mine: NamespaceMarker = {
    namespace: keys.namespace,
    registry,
    createdAtMs: Date.now(),
  };
  const set = await redis.set(keys.marker, JSON.stringify(mine), "NX");
  if (set === "OK") return mine;
  const raw = await redis.get(keys.marker);
  if (raw === null) return await claimNamespace(redis, keys, registry);
  let found: NamespaceMarker;
  try {
    found = JSON.parse(raw) as NamespaceMarker;
  } catch {
    found = { namespace: keys.namespace, registry: raw, createdAtMs: 0 };
  }
  if (found.registry !== registry || found.namespace !== keys.namespace) {
    throw new NamespaceMismatchError(keys.marker, found, registry);
  }
  return found;
}
