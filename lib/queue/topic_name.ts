/**
 * Topic naming: `{asset}_{node_type}_{short_hash}_v{n}`.
 *
 * @module
 */

import { sanitiseTopicPart } from "../dag/topic_name.ts";
import { TopicNameError } from "./errors.ts";
import type { TopicNameParts } from "./types.ts";

/**
 * The topic name of a node's output: `{asset}_{node_type}_{short_hash}_v{n}`,
 * where `short_hash` is the first 8 hex digits of the node id after
 * `sha256:`.
 *
 * `asset` and `nodeType` are sanitised by the registry's rule
 * (`sanitiseTopicPart` of `@qmtl/qmtl/dag`: trimmed, runs outside
 * `[A-Za-z0-9-]` become one `-`, cut to 64 characters, case kept), so the
 * name splits back into four parts. Unlike the registry, which names an
 * empty component `any` / `node`, this form is strict: a component that is
 * empty after sanitising, a node id that is not `sha256:` + at least 8 hex
 * digits, or a version that is not an integer ≥ 1 throws
 * {@link TopicNameError}.
 *
 * @param parts Asset, node type, node id and version.
 * @returns The topic name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicName } from "@qmtl/qmtl/queue";
 * const name = topicName({
 *   asset: "btc/usdt", nodeType: "Processing",
 *   nodeId: "sha256:ab12cd34ef567890ab12cd34ef567890ab12cd34ef567890ab12cd34ef567890",
 *   version: 1,
 * });
 * assert.equal(name, "btc-usdt_Processing_ab12cd34_v1");
 * ```
 */
export function topicName(parts: TopicNameParts): string {
  const asset = sanitise("asset", parts.asset);
  const nodeType = sanitise("nodeType", parts.nodeType);
  const id = typeof parts.nodeId === "string" ? parts.nodeId.trim() : "";
  const m = /^sha256:([0-9a-fA-F]{8,})$/.exec(id);
  if (!m) {
    throw new TopicNameError(
      `nodeId must be "sha256:" followed by hex digits, got "${
        String(parts.nodeId)
      }"`,
    );
  }
  const v = parts.version;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new TopicNameError(
      `version must be an integer ≥ 1, got ${String(v)}`,
    );
  }
  return `${asset}_${nodeType}_${m[1].slice(0, 8).toLowerCase()}_v${v}`;
}

function sanitise(what: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new TopicNameError(`${what} must be a string`);
  }
  const s = sanitiseTopicPart(value);
  if (s === "") {
    throw new TopicNameError(`${what} is empty after sanitising "${value}"`);
  }
  return s;
}
