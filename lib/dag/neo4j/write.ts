/**
 * The registry's write-transaction loop: one explicit transaction per
 * attempt, committed by the loop, with a retry policy of its own instead of
 * the driver's managed one (whose first retry waits a full second):
 *
 * - a **race** with a concurrent transaction (a uniqueness constraint hit
 *   by a concurrent create, an entity deleted meanwhile, a count that did
 *   not add up) or a **deadlock** is retried at once, after a few
 *   milliseconds of jitter, up to {@link WriteOptions.raceAttempts} times;
 *   spent attempts end in a retryable `UnavailableError`;
 * - other **transient** failures (connection lost, leader switch, lock
 *   timeout, memory pool busy) are retried with exponential backoff from
 *   25 ms while {@link WriteOptions.maxRetryTimeMs} lasts, then reported as
 *   `UnavailableError`;
 * - **permanent** failures (a store rejection of the input, an internal
 *   error) are reported at once (`toRegistryError`), as are registry errors
 *   the work throws itself.
 *
 * Every attempt starts from a fresh transaction and the work is written to
 * be idempotent, so a commit whose acknowledgement was lost is harmless to
 * repeat.
 *
 * @module
 */

import type { ManagedTransaction, Session } from "neo4j-driver";
import { RegistryError, UnavailableError } from "../errors.ts";
import {
  classifyNeo4jError,
  neo4jCodeOf,
  toRegistryError,
} from "./errors_map.ts";

/**
 * Retry bounds of {@link runWrite}.
 *
 * @example
 * ```ts
 * import type { WriteOptions } from "./write.ts";
 * const o: WriteOptions = { raceAttempts: 8, maxRetryTimeMs: 15_000 };
 * ```
 */
export interface WriteOptions {
  /** Attempts when transactions keep losing races or deadlocking. */
  raceAttempts: number;
  /** How long transient failures are retried, ms. */
  maxRetryTimeMs: number;
}

/** Lock conflicts that a fresh attempt resolves at once. */
const LOCK_CONFLICTS: ReadonlySet<string> = new Set([
  "Neo.TransientError.Transaction.DeadlockDetected",
  "Neo.TransientError.Transaction.Outdated",
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `work` in a write transaction of a session from `session()` and
 * commit it, retrying as the module documentation says.
 *
 * @example
 * ```ts ignore
 * import { runWrite } from "./write.ts";
 * const n = await runWrite(() => driver.session(), async (tx) => {
 *   const r = await tx.run("CREATE (x:Scratch) RETURN 1 AS one");
 *   return r.records.length;
 * }, { raceAttempts: 8, maxRetryTimeMs: 15_000 });
 * ```
 */
export async function runWrite<T>(
  session: () => Session,
  work: (tx: ManagedTransaction, attempt: number) => Promise<T>,
  options: WriteOptions,
): Promise<T> {
  const started = Date.now();
  let races = 0;
  for (let attempt = 1;; attempt++) {
    const s = session();
    const tx = s.beginTransaction();
    try {
      const out = await work(tx as unknown as ManagedTransaction, attempt);
      await tx.commit();
      return out;
    } catch (e) {
      if (tx.isOpen()) await tx.rollback().catch(() => {});
      if (e instanceof RegistryError) throw e;
      const kind = classifyNeo4jError(e);
      if (kind === "race" || LOCK_CONFLICTS.has(neo4jCodeOf(e))) {
        if (++races < options.raceAttempts) {
          await sleep(Math.random() * 5 * 2 ** Math.min(races, 5));
          continue;
        }
        throw new UnavailableError(
          `registry write conflicted with concurrent writes ${races} times; retry later`,
          { cause: e },
        );
      }
      if (
        kind === "unavailable" &&
        Date.now() - started < options.maxRetryTimeMs
      ) {
        await sleep(Math.min(1000, 25 * 2 ** Math.min(attempt, 6)));
        continue;
      }
      throw toRegistryError(e);
    } finally {
      await s.close().catch(() => {});
    }
  }
}
