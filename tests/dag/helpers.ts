// Test helpers for the DAG Manager suites: node builders and the Neo4j
// environment check.
import { create } from "@bufbuild/protobuf";
import {
  canonicalParamsJson,
  computeNodeId,
  type NodeSpec,
  NodeSpecSchema,
  sha256Hex,
  type StrategyDag,
  StrategyDagSchema,
} from "../../lib/contracts/mod.ts";

import { serviceUrl } from "../support/services.ts";
/** A well-formed node ID derived from a label (not a content hash). */
export function nid(label: string): string {
  return "sha256:" + sha256Hex(label);
}

/** Options of {@link spec}. */
export interface SpecOptions {
  type?: string;
  interval?: number;
  period?: number;
  /** Input node IDs. */
  inputs?: string[];
  tags?: string[];
  asset?: string;
  params?: Record<string, unknown>;
  /** Override the node ID (cycle tests). */
  id?: string;
}

/**
 * A NodeSpec with its real content-derived ID (`computeNodeId`); the label
 * goes into the params so distinct labels give distinct nodes.
 */
export function spec(label: string, o: SpecOptions = {}): NodeSpec {
  const inputs = o.inputs ?? [];
  const nodeType = o.type ?? "Processing";
  const intervalS = o.interval ?? 60;
  const period = o.period ?? 1;
  const paramsJson = canonicalParamsJson(o.params ?? { label });
  return create(NodeSpecSchema, {
    nodeId: o.id ??
      computeNodeId({ nodeType, intervalS, period, paramsJson, inputs }),
    nodeType,
    intervalS,
    period,
    paramsJson,
    inputs,
    codeHash: "",
    schemaCompatId: "v1",
    name: label,
    tags: o.tags ?? [],
    metadata: o.asset ? { asset: o.asset } : {},
  });
}

/** A StrategyDag of the given nodes. */
export function dagOf(name: string, nodes: NodeSpec[]): StrategyDag {
  return create(StrategyDagSchema, { name, nodes });
}

/** Neo4j connection settings for tests. */
export interface TestNeo4j {
  url: string;
  user?: string;
  password?: string;
  database?: string;
}

/**
 * Neo4j settings from QMTL_NEO4J_URL etc., through the one rule in
 * tests/support/services.ts: unset under CI=true throws (the suite must fail,
 * not skip); unset elsewhere returns null and the caller skips.
 */
export function testNeo4j(): TestNeo4j | null {
  const { url } = serviceUrl("QMTL_NEO4J_URL");
  if (!url) return null;
  const t: TestNeo4j = { url };
  const user = Deno.env.get("QMTL_NEO4J_USER");
  if (user) t.user = user;
  const pw = Deno.env.get("QMTL_NEO4J_PASSWORD");
  if (pw !== undefined) t.password = pw;
  const db = Deno.env.get("QMTL_NEO4J_DATABASE");
  if (db) t.database = db;
  return t;
}

/** A random namespace for one test. */
export function freshNamespace(prefix = "t"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}
