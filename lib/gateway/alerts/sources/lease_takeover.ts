/**
 * Producer-lease takeovers of the runner: a counter and an alert, for the
 * runner to call when it takes over a node another runner produced.
 *
 * @module
 */

import type { Metrics } from "../../metrics/mod.ts";
import type { AlertRaiser } from "../types.ts";

/** Metric: producer-lease takeovers. */
export const RUNNER_LEASE_TAKEOVERS_TOTAL = "qmtl_runner_lease_takeovers_total";

/**
 * One takeover.
 *
 * @example
 * ```ts
 * import type { LeaseTakeover } from "@qmtl/qmtl/gateway";
 * const t: LeaseTakeover = { nodeId: "sha256:ab…", previousOwner: "runner-1", newOwner: "runner-2", lastBarTs: 1_700_000_000 };
 * ```
 */
export interface LeaseTakeover {
  /** Node whose producer lease was taken over. */
  nodeId: string;
  /** Topic of the node, if known. */
  topic?: string;
  /** Runner that held the lease (if known). */
  previousOwner?: string;
  /** Runner that took it. */
  newOwner: string;
  /** Last bar the previous producer published (resume point), if known. */
  lastBarTs?: number;
}

/**
 * Records lease takeovers.
 *
 * @example
 * ```ts
 * import { Alerter, LeaseTakeoverRecorder, Metrics } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const metrics = new Metrics();
 * const rec = new LeaseTakeoverRecorder(new Alerter({ metrics }), metrics);
 * rec.record({ nodeId: "n1", previousOwner: "r1", newOwner: "r2" });
 * assert.equal(metrics.counter("qmtl_runner_lease_takeovers_total"), 1);
 * ```
 */
export class LeaseTakeoverRecorder {
  #alerter: AlertRaiser;
  #count: (by?: number) => void;

  /**
   * Declares `qmtl_runner_lease_takeovers_total` (at 0) in `metrics`.
   *
   * @param alerter Where `runner_lease_takeover` alerts go.
   * @param metrics Where the counter lives (optional).
   */
  constructor(alerter: AlertRaiser, metrics?: Metrics) {
    this.#alerter = alerter;
    this.#count = metrics
      ? metrics.counterSeries(
        RUNNER_LEASE_TAKEOVERS_TOTAL,
        "Producer-lease takeovers by a runner (the previous producer stopped renewing).",
      )
      : () => {};
  }

  /** Count a takeover and raise `runner_lease_takeover`. */
  record(t: LeaseTakeover): void {
    this.#count();
    const details: Record<string, string | number> = {
      node: t.nodeId,
      newOwner: t.newOwner,
    };
    if (t.topic !== undefined) details.topic = t.topic;
    if (t.previousOwner !== undefined) details.previousOwner = t.previousOwner;
    if (t.lastBarTs !== undefined) details.lastBarTs = t.lastBarTs;
    this.#alerter.raise({
      condition: "runner_lease_takeover",
      subject: `${t.nodeId}->${t.newOwner}`,
      summary: `runner ${t.newOwner} took over producing node ${t.nodeId}${
        t.previousOwner ? ` from ${t.previousOwner}` : ""
      }`,
      details,
    });
  }
}
