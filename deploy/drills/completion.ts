/**
 * After the load stops: wait (bounded) until every acknowledged strategy is
 * COMPLETED, reading each one's status through the Gateway, and say what
 * became of those that are not: still pending (QUEUED / PROCESSING),
 * FAILED, or unknown to the Gateway (lost).
 *
 * @module
 */

import { type QmtlClient, QmtlClientError } from "../../sdk/mod.ts";
import { sleep } from "./wait.ts";

/** Where the acknowledged strategies ended up. */
export interface CompletionResult {
  /** Strategies found COMPLETED. */
  completed: string[];
  /** Not COMPLETED when the wait ended: id → last state seen. */
  pending: Record<string, string>;
  /** FAILED (with the error message). */
  failed: Record<string, string>;
  /** The Gateway does not know them (`E_NOT_FOUND`). */
  missing: string[];
  /** How long the wait took, ms. */
  waitedMs: number;
}

async function pool<T>(
  items: T[],
  n: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/**
 * Poll the status of every strategy in `ids` until all are COMPLETED (or
 * FAILED / unknown, which do not change by waiting longer) or `timeoutMs`
 * passes.
 *
 * @param client a client whose token may read every strategy
 * @param ids acknowledged strategy ids
 * @param options bound of the wait; poll interval (default 500 ms)
 * @example
 * ```ts ignore
 * const r = await waitForCompletion(client, load.acks.keys(), { timeoutMs: 30_000 });
 * console.log(r.completed.length, Object.keys(r.pending).length);
 * ```
 */
export async function waitForCompletion(
  client: QmtlClient,
  ids: Iterable<string>,
  options: { timeoutMs: number; pollMs?: number },
): Promise<CompletionResult> {
  const t0 = Date.now();
  const end = t0 + options.timeoutMs;
  const open = new Set(ids);
  const completed: string[] = [];
  const failed: Record<string, string> = {};
  const missing: string[] = [];
  const last: Record<string, string> = {};
  for (;;) {
    await pool([...open], 8, async (id) => {
      try {
        const st = await client.get(id);
        last[id] = st.state;
        if (st.state === "COMPLETED") {
          completed.push(id);
          open.delete(id);
        } else if (st.state === "FAILED") {
          failed[id] = st.error?.message ?? "FAILED";
          open.delete(id);
        }
      } catch (e) {
        if (e instanceof QmtlClientError && e.code === "E_NOT_FOUND") {
          missing.push(id);
          open.delete(id);
        } else {
          last[id] = `unreadable (${(e as Error).message.slice(0, 80)})`;
        }
      }
    });
    if (open.size === 0 || Date.now() >= end) break;
    await sleep(Math.min(options.pollMs ?? 500, Math.max(0, end - Date.now())));
  }
  const pending: Record<string, string> = {};
  for (const id of open) pending[id] = last[id] ?? "unknown";
  return { completed, pending, failed, missing, waitedMs: Date.now() - t0 };
}
