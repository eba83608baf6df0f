/**
 * Topic naming: `{asset}_{node_type}_{short_hash}_v{n}` (ARCHITECTURE §5).
 *
 * @module
 */

import type { NodeSpec } from "../contracts/types.ts";

/**
 * The asset a node's topic is named after: `metadata.asset`, else a string
 * `asset` in the params, else `"any"`; lowercased, every run of characters
 * outside `[a-z0-9]` replaced by `-` (so `BTC/USDT` → `btc-usdt`).
 *
 * @example
 * ```ts
 * import { topicAsset } from "./topic_name.ts";
 * topicAsset({ metadata: { asset: "BTC/USDT" }, paramsJson: "{}" }); // "btc-usdt"
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
  const clean = raw.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(
    /^-+|-+$/g,
    "",
  );
  return clean === "" ? "any" : clean;
}

/**
 * The first 8 hex digits after `sha256:` of a node ID.
 *
 * @example
 * ```ts
 * import { shortHash } from "./topic_name.ts";
 * shortHash("sha256:ab12cd34ef"); // "ab12cd34"
 * ```
 */
export function shortHash(nodeId: string): string {
  const hex = nodeId.startsWith("sha256:") ? nodeId.slice(7) : nodeId;
  return hex.slice(0, 8);
}

/**
 * Topic name without its version suffix: `{asset}_{node_type}_{short_hash}`.
 * Characters of the node type outside `[A-Za-z0-9]` become `-`.
 *
 * @example
 * ```ts
 * import { topicBase } from "./topic_name.ts";
 * topicBase({ nodeId: "sha256:ab12cd34ff", nodeType: "Processing", metadata: { asset: "btc" }, paramsJson: "{}" });
 * // "btc_Processing_ab12cd34"
 * ```
 */
export function topicBase(
  spec: Pick<NodeSpec, "nodeId" | "nodeType" | "metadata" | "paramsJson">,
): string {
  const type = spec.nodeType.replace(/[^A-Za-z0-9]+/g, "-") || "node";
  return `${topicAsset(spec)}_${type}_${shortHash(spec.nodeId)}`;
}

/**
 * Full topic name `{asset}_{node_type}_{short_hash}_v{n}`; `n` defaults to 1
 * and is bumped only when the name is taken by another node.
 *
 * @example
 * ```ts
 * import { topicName } from "./topic_name.ts";
 * topicName({ nodeId: "sha256:ab12cd34ff", nodeType: "Processing", metadata: {}, paramsJson: '{"asset":"ETH"}' });
 * // "eth_Processing_ab12cd34_v1"
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
 * import { firstFreeTopicName } from "./topic_name.ts";
 * firstFreeTopicName("btc_Processing_ab12cd34", new Set(["btc_Processing_ab12cd34_v1"]));
 * // "btc_Processing_ab12cd34_v2"
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
