/**
 * NodeSpecs and DAGs for the field-limit tests (tests/contracts/fields_test.ts
 * and tests/hostile/submit_fields_test.ts): one 60 s bar, the display fields
 * (name, tags, metadata) and the identity fields set by the test.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  canonicalJson,
  computeNodeId,
  dagChecksum,
  type NodeSpec,
  NodeSpecSchema,
  type StrategyDag,
  StrategyDagSchema,
} from "../../lib/contracts/mod.ts";

/** The fields a test sets; each has a default in {@link fieldSpec}. */
export interface FieldSpecInit {
  nodeType?: string;
  params?: Record<string, unknown>;
  paramsJson?: string;
  name?: string;
  tags?: string[];
  metadata?: Record<string, string>;
}

/**
 * A NodeSpec of one 60 s bar with its ID computed from the identity fields.
 * `init` wins over `defaults`; `paramsJson` wins over `params`. With
 * `refusedId`, an identity that computeNodeId refuses gets that ID instead
 * of throwing (for requests whose identity itself is the hostile part).
 */
export function fieldSpec(
  init: FieldSpecInit,
  defaults: Required<Pick<FieldSpecInit, "nodeType" | "params" | "tags">>,
  refusedId?: string,
): NodeSpec {
  const nodeType = init.nodeType ?? defaults.nodeType;
  const paramsJson = init.paramsJson ??
    canonicalJson(init.params ?? defaults.params);
  let nodeId: string;
  try {
    nodeId = computeNodeId({ nodeType, intervalS: 60, period: 1, paramsJson });
  } catch (e) {
    if (refusedId === undefined) throw e;
    nodeId = refusedId;
  }
  return create(NodeSpecSchema, {
    nodeId,
    nodeType,
    intervalS: 60,
    period: 1,
    paramsJson,
    schemaCompatId: "v1",
    name: init.name ?? "n",
    tags: init.tags ?? defaults.tags,
    metadata: init.metadata ?? {},
  });
}

/** A DAG of `nodes` with a correct checksum; name and metadata from `init`. */
export function fieldDag(
  nodes: NodeSpec[],
  init: Partial<StrategyDag>,
  defaultName: string,
): StrategyDag {
  return create(StrategyDagSchema, {
    name: init.name ?? defaultName,
    nodes,
    metadata: init.metadata ?? {},
    checksum: dagChecksum(nodes.map((n) => n.nodeId)),
  });
}
