/**
 * Per-subject submission policy: maximum nodes per DAG, maximum DAG depth,
 * submissions per minute, allowed node types. Safe defaults apply unless
 * changed ({@link DEFAULT_POLICY_LIMITS}: 50,000 nodes, depth 1,000, 120
 * submissions per minute); `0` means unlimited. Subject overrides are merged
 * over the defaults; an explicit deny (a denied subject or node type) always
 * wins over any allow. A refusal is `E_POLICY` (403) naming the limit; going
 * over the submission rate is `E_RATE_LIMITED` (429) with `retryAfterS`
 * (sent as `Retry-After`).
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";
import type { StrategyDag } from "../../contracts/messages.ts";
import type { GatewayContext } from "../types.ts";

/**
 * Limits for one subject. Absent: the default's value; `0` (the numeric
 * limits): unlimited.
 *
 * @example
 * ```ts
 * import type { PolicyLimits } from "@qmtl/qmtl/gateway";
 * const l: PolicyLimits = { maxNodes: 2000, maxDepth: 64, submissionsPerMinute: 30 };
 * ```
 */
export interface PolicyLimits {
  /** Maximum nodes in one DAG; 0: unlimited. */
  maxNodes?: number;
  /** Maximum depth (nodes on the longest input chain inside the DAG); 0: unlimited. */
  maxDepth?: number;
  /** Maximum SubmitStrategy calls per rolling minute; 0: unlimited. */
  submissionsPerMinute?: number;
  /** Only these node types may be submitted (absent: any). */
  allowedNodeTypes?: string[];
  /** These node types are refused, even if allowed. */
  deniedNodeTypes?: string[];
}

/**
 * The limits that apply when neither the options nor a subject override set
 * them: 50,000 nodes per DAG, depth 1,000, 120 submissions per subject per
 * minute. Set a limit to `0` to lift it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createPolicy, DEFAULT_POLICY_LIMITS } from "@qmtl/qmtl/gateway";
 * assert.equal(DEFAULT_POLICY_LIMITS.maxNodes, 50_000);
 * assert.equal(createPolicy().limitsFor("alice").submissionsPerMinute, 120);
 * assert.equal(createPolicy({ defaults: { submissionsPerMinute: 0 } }).limitsFor("alice").submissionsPerMinute, 0);
 * ```
 */
export const DEFAULT_POLICY_LIMITS: Readonly<
  Required<
    Pick<PolicyLimits, "maxNodes" | "maxDepth" | "submissionsPerMinute">
  >
> = Object.freeze({
  maxNodes: 50_000,
  maxDepth: 1_000,
  submissionsPerMinute: 120,
});

/**
 * Options of {@link createPolicy}.
 *
 * @example
 * ```ts
 * import type { PolicyOptions } from "@qmtl/qmtl/gateway";
 * const o: PolicyOptions = {
 *   defaults: { maxNodes: 5000 },
 *   subjects: { "ci-bot": { submissionsPerMinute: 120 } },
 *   deniedSubjects: ["mallory"],
 * };
 * ```
 */
export interface PolicyOptions {
  /** Limits for every subject, merged over {@link DEFAULT_POLICY_LIMITS}. */
  defaults?: PolicyLimits;
  /** Per-subject overrides (merged over `defaults`; deny lists are unioned). */
  subjects?: Record<string, PolicyLimits>;
  /** Subjects that may not submit at all. */
  deniedSubjects?: string[];
  /** Clock (tests). */
  now?: () => number;
}

/**
 * Evaluates the policy.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "@qmtl/qmtl/contracts";
 * import { createPolicy } from "@qmtl/qmtl/gateway";
 * const p = createPolicy({ defaults: { maxNodes: 1 } });
 * p.checkDag("alice", create(StrategyDagSchema, { name: "s" }));
 * ```
 */
export interface Policy {
  /** The effective limits of a subject. */
  limitsFor(subject: string): PolicyLimits;
  /**
   * Count one submission; throws `E_POLICY` for a denied subject and
   * `E_RATE_LIMITED` (with `details.retryAfterS`) when over the rate.
   */
  admit(subject: string): void;
  /** Check a DAG against the subject's limits; throws `E_POLICY`. */
  checkDag(subject: string, dag: StrategyDag): void;
}

/**
 * Depth of a DAG: the number of nodes on its longest input chain (inputs
 * outside the DAG count as depth 0). Assumes DAG order (inputs first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "@qmtl/qmtl/contracts";
 * import { dagDepth } from "@qmtl/qmtl/gateway";
 * assert.equal(dagDepth(create(StrategyDagSchema, { name: "s" })), 0);
 * ```
 */
export function dagDepth(dag: StrategyDag): number {
  const depth = new Map<string, number>();
  let max = 0;
  for (const n of dag.nodes) {
    let d = 1;
    for (const i of n.inputs) d = Math.max(d, (depth.get(i) ?? 0) + 1);
    depth.set(n.nodeId, d);
    if (d > max) max = d;
  }
  return max;
}

function refuse(
  limit: string,
  message: string,
  details: Record<string, string> = {},
  code: "E_POLICY" | "E_RATE_LIMITED" = "E_POLICY",
): QmtlError {
  return new QmtlError(code, `policy limit ${limit}: ${message}`, {
    details: { limit, ...details },
  });
}

/** A limit in force: a positive number (absent, 0 or not finite: none). */
function inForce(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v) && v > 0;
}

/**
 * Build a {@link Policy}.
 *
 * @example
 * ```ts
 * import { createPolicy } from "@qmtl/qmtl/gateway";
 * const policy = createPolicy({ defaults: { maxNodes: 5000, submissionsPerMinute: 60 } });
 * policy.admit("alice");
 * ```
 */
export function createPolicy(options: PolicyOptions = {}): Policy {
  const now = options.now ?? Date.now;
  const denied = new Set(options.deniedSubjects ?? []);
  const windows = new Map<string, number[]>();
  const MAX_SUBJECTS = 10_000;

  const given = options.defaults ?? {};
  for (
    const [where, l] of [
      ["defaults", given] as const,
      ...Object.entries(options.subjects ?? {}).map(([k, v]) =>
        [`subjects.${k}`, v] as const
      ),
    ]
  ) {
    for (const k of ["maxNodes", "maxDepth", "submissionsPerMinute"] as const) {
      const v = l[k];
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) {
        throw new RangeError(
          `policy: ${where}.${k} must be a whole number ≥ 0 (0: unlimited), got ${v}`,
        );
      }
    }
  }
  // An absent (or undefined) default keeps the safe default.
  const d: PolicyLimits = {
    ...given,
    maxNodes: given.maxNodes ?? DEFAULT_POLICY_LIMITS.maxNodes,
    maxDepth: given.maxDepth ?? DEFAULT_POLICY_LIMITS.maxDepth,
    submissionsPerMinute: given.submissionsPerMinute ??
      DEFAULT_POLICY_LIMITS.submissionsPerMinute,
  };
  const limitsFor = (subject: string): PolicyLimits => {
    const s = Object.hasOwn(options.subjects ?? {}, subject)
      ? options.subjects![subject]
      : {};
    const deniedTypes = [
      ...new Set([...(d.deniedNodeTypes ?? []), ...(s.deniedNodeTypes ?? [])]),
    ];
    return {
      maxNodes: s.maxNodes ?? d.maxNodes,
      maxDepth: s.maxDepth ?? d.maxDepth,
      submissionsPerMinute: s.submissionsPerMinute ?? d.submissionsPerMinute,
      allowedNodeTypes: s.allowedNodeTypes ?? d.allowedNodeTypes,
      deniedNodeTypes: deniedTypes.length ? deniedTypes : undefined,
    };
  };

  return {
    limitsFor,
    admit(subject: string): void {
      if (denied.has(subject)) {
        throw refuse("deniedSubjects", `subject ${subject} may not submit`);
      }
      const max = limitsFor(subject).submissionsPerMinute;
      if (!inForce(max)) return;
      const t = now();
      const w = (windows.get(subject) ?? []).filter((x) => x > t - 60_000);
      if (w.length >= max) {
        windows.set(subject, w);
        throw refuse(
          "submissionsPerMinute",
          `at most ${max} submissions per minute`,
          {
            max: String(max),
            retryAfterS: String(
              Math.min(60, Math.max(1, Math.ceil((w[0] + 60_000 - t) / 1000))),
            ),
          },
          "E_RATE_LIMITED",
        );
      }
      w.push(t);
      if (!windows.has(subject) && windows.size >= MAX_SUBJECTS) {
        windows.delete(windows.keys().next().value!);
      }
      windows.set(subject, w);
    },
    checkDag(subject: string, dag: StrategyDag): void {
      if (denied.has(subject)) {
        throw refuse("deniedSubjects", `subject ${subject} may not submit`);
      }
      const l = limitsFor(subject);
      if (inForce(l.maxNodes) && dag.nodes.length > l.maxNodes) {
        throw refuse(
          "maxNodes",
          `the DAG has ${dag.nodes.length} nodes, at most ${l.maxNodes} allowed`,
          {
            max: String(l.maxNodes),
            actual: String(dag.nodes.length),
          },
        );
      }
      const deniedTypes = new Set(l.deniedNodeTypes ?? []);
      const allowedTypes = l.allowedNodeTypes
        ? new Set(l.allowedNodeTypes)
        : undefined;
      for (const n of dag.nodes) {
        if (deniedTypes.has(n.nodeType)) {
          throw refuse("deniedNodeTypes", `node type ${n.nodeType} is denied`, {
            nodeType: n.nodeType,
          });
        }
        if (allowedTypes && !allowedTypes.has(n.nodeType)) {
          throw refuse(
            "allowedNodeTypes",
            `node type ${n.nodeType} is not allowed`,
            {
              nodeType: n.nodeType,
              allowed: [...allowedTypes].join(","),
            },
          );
        }
      }
      if (inForce(l.maxDepth)) {
        const depth = dagDepth(dag);
        if (depth > l.maxDepth) {
          throw refuse(
            "maxDepth",
            `the DAG is ${depth} deep, at most ${l.maxDepth} allowed`,
            {
              max: String(l.maxDepth),
              actual: String(depth),
            },
          );
        }
      }
    },
  };
}

/**
 * The policy step of the gateway's per-route pipeline (SubmitStrategy):
 * admits the caller (denied subjects, rate limit); throws `E_POLICY` or
 * `E_RATE_LIMITED` on refusal. The DAG limits are checked with
 * {@link Policy.checkDag} once the request is decoded.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { GatewayEnv } from "@qmtl/qmtl/gateway";
 * import { applyPolicy, createPolicy } from "./mod.ts";
 * const p = createPolicy({});
 * const app = new Hono<GatewayEnv>();
 * app.post("/submit", (c) => {
 *   applyPolicy(p, c);
 *   return c.json({ ok: true });
 * });
 * ```
 */
export function applyPolicy(p: Policy, c: GatewayContext): void {
  p.admit(c.get("principal")?.subject ?? "");
}
