/**
 * Topic naming: `{asset}_{node_type}_{short_hash}_v{n}` (ARCHITECTURE §5).
 *
 * @module
 */

import type { NodeSpec } from "../contracts/messages.ts";

/**
 * The asset a node's topic is named after: `metadata.asset`, else a string
 * `asset` in the params, else `"any"`. Sanitised like the queue's topic
 * names: trimmed, every run of characters outside `[A-Za-z0-9-]` replaced by
 * `-`, leading/trailing `-` dropped, cut to 64 characters; case is kept (so
 * `btc/usdt` → `btc-usdt`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicAsset } from "@qmtl/qmtl/dag";
 * assert.equal(topicAsset({ metadata: { asset: "btc/usdt" }, paramsJson: "{}" }), "btc-usdt");
 * ```
 */
export function topicAsset(
  spec: Pick<NodeSpec, "metadata" | "paramsJson">,
): string {
  let raw = spec.metadata?.asset ?? "";
  if (raw === "" && spec.paramsJson) {
    try {
      const params = JSON.parse(spec.paramsJson);
      if (
        params !== null && typeof params === "object" &&
        typeof params.asset === "string"
      ) raw = params.asset;
    } catch {
      // params that do not parse name no asset
    }
  }
  const clean = sanitiseTopicPart(raw);
  return clean === "" ? "any" : clean;
}

/**
 * The one sanitising rule of a topic-name component (asset, node type):
 * trimmed, every run of characters outside `[A-Za-z0-9-]` replaced by one
 * `-` (so `_` stays the separator), leading/trailing `-` dropped, cut to 64
 * characters; case is kept. May return `""`: the registry then names the
 * component `any` / `node`, the queue's `topicName` refuses it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sanitiseTopicPart } from "@qmtl/qmtl/dag";
 * assert.equal(sanitiseTopicPart(" btc/usdt "), "btc-usdt");
 * assert.equal(sanitiseTopicPart("__"), "");
 * ```
 */
export function sanitiseTopicPart(raw: string): string {
  return raw.trim().replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "")
    .slice(0, 64).replace(/-+$/, "");
}

/**
 * The first 8 hex digits after `sha256:` of a node ID.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shortHash } from "@qmtl/qmtl/dag";
 * assert.equal(shortHash("sha256:ab12cd34ef"), "ab12cd34");
 * ```
 */
export function shortHash(nodeId: string): string {
  const hex = nodeId.startsWith("sha256:") ? nodeId.slice(7) : nodeId;
  return hex.slice(0, 8);
}

/**
 * Topic name without its version suffix: `{asset}_{node_type}_{short_hash}`.
 * The node type is sanitised like the asset (`node` if nothing is left).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicBase } from "@qmtl/qmtl/dag";
 * assert.equal(
 *   topicBase({ nodeId: "sha256:ab12cd34ff", nodeType: "Processing", metadata: { asset: "btc" }, paramsJson: "{}" }),
 *   "btc_Processing_ab12cd34",
 * );
 * ```
 */
export function topicBase(
  spec: Pick<NodeSpec, "nodeId" | "nodeType" | "metadata" | "paramsJson">,
): string {
  const type = sanitiseTopicPart(spec.nodeType) || "node";
  return `${topicAsset(spec)}_${type}_${shortHash(spec.nodeId)}`;
}

/**
 * Full topic name `{asset}_{node_type}_{short_hash}_v{n}`; `n` defaults to 1
 * and is bumped only when the name is taken by another node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicName } from "@qmtl/qmtl/dag";
 * assert.equal(
 *   topicName({ nodeId: "sha256:ab12cd34ff", nodeType: "Processing", metadata: {}, paramsJson: '{"asset":"eth"}' }),
 *   "eth_Processing_ab12cd34_v1",
 * );
 * ```
 */
export function topicName(
  spec: Pick<NodeSpec, "nodeId" | "nodeType" | "metadata" | "paramsJson">,
  n = 1,
): string {
  return `${topicBase(spec)}_v${n}`;
}

/**
 * The first name `{base}_v{n}` (n = 1, 2, …) not in `taken`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstFreeTopicName } from "@qmtl/qmtl/dag";
 * assert.equal(
 *   firstFreeTopicName("btc_Processing_ab12cd34", new Set(["btc_Processing_ab12cd34_v1"])),
 *   "btc_Processing_ab12cd34_v2",
 * );
 * ```
 */
export function firstFreeTopicName(
  base: string,
  taken: ReadonlySet<string>,
): string {
  for (let n = 1;; n++) {
    const name = `${base}_v${n}`;
    if (!taken.has(name)) return name;
  }
}
