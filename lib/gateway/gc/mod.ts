/**
 * Scheduled garbage collection: every `intervalMs`, nodes no live strategy
 * version references any more (retired strategies' unshared nodes), unused
 * for at least `graceMs`, are removed from the registry with their topics,
 * and their topic streams are deleted from the topic store.
 *
 * Several gateways may run it: the registry's GC is safe against concurrent
 * diffs and GCs, and deleting a topic twice is harmless.
 *
 * @module
 */

import type { GcReport, NodeRegistry } from "../../dag/registry.ts";
import type { Logger } from "../logger/mod.ts";
import type { TopicService } from "../topics/mod.ts";

/**
 * Options of {@link GcScheduler}.
 *
 * @example
 * ```ts
 * import type { GcSchedulerOptions } from "@qmtl/qmtl/gateway";
 * const o: Omit<GcSchedulerOptions, "registry" | "topics"> = { intervalMs: 60_000, graceMs: 3_600_000 };
 * ```
 */
export interface GcSchedulerOptions {
  /** The global DAG. */
  registry: NodeRegistry;
  /** Where the topic streams live. */
  topics: TopicService;
  /** Time between runs, ms. */
  intervalMs: number;
  /** A zero-reference node is collected once unused this long, ms. */
  graceMs: number;
  /** Logger of each run's report. */
  logger?: Logger;
  /** Called with each run's report (metrics). */
  onReport?: (report: GcReport & { topicsDeleted: number }) => void;
}

/**
 * Runs the registry's GC on a timer and deletes the collected topics.
 *
 * @example
 * ```ts
 * import { GcScheduler } from "@qmtl/qmtl/gateway";
 * import { TopicService } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryTopicStore } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 * const registry = new MemoryRegistry();
 * const topics = new TopicService({ store: new MemoryTopicStore(), registry });
 * const gc = new GcScheduler({ registry, topics, intervalMs: 60_000, graceMs: 0 });
 * const report = await gc.runOnce();
 * assert.equal(report.removed.length, 0);
 * ```
 */
export class GcScheduler {
  readonly #o: GcSchedulerOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<unknown> | null = null;

  /**
   * Build the scheduler (not started).
   *
   * @param options registry, topics, interval, grace
   */
  constructor(options: GcSchedulerOptions) {
    this.#o = options;
  }

  /** One GC run: registry first, then the collected topics' streams. */
  async runOnce(): Promise<GcReport & { topicsDeleted: number }> {
    const report = await this.#o.registry.gc({ graceMs: this.#o.graceMs });
    const topicsDeleted = await this.#o.topics.remove(report.removedTopics);
    const out = { ...report, topicsDeleted };
    if (report.removed.length > 0 || report.keptInGrace.length > 0) {
      this.#o.logger?.info("gc run", {
        removed: report.removed.length,
        topicsDeleted,
        keptInGrace: report.keptInGrace.length,
        keptWithDependents: report.keptWithDependents.length,
      });
    }
    this.#o.onReport?.(out);
    return out;
  }

  /** Start the timer (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#running) return; // a slow run is never overlapped
      this.#running = this.runOnce().catch((e) =>
        this.#o.logger?.warn("gc run failed; retried at the next interval", {
          error: e,
        })
      ).finally(() => this.#running = null);
    }, this.#o.intervalMs);
  }

  /** Stop the timer and wait for a run in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
