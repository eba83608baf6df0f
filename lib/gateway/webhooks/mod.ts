/**
 * Webhook delivery: each lifecycle event of a strategy with a callback URL
 * becomes a job on the `webhook` work queue; a lease loop POSTs it as a
 * structured CloudEvent, signed with HMAC-SHA256 over the exact body
 * (`qmtl-signature: sha256=<hex>`), retries non-2xx answers with backoff and
 * leaves the dead letters in the queue.
 *
 * @module
 */

import type { Event, StrategyStatus } from "../../contracts/messages.ts";
import type { LeasedJob, WorkQueue } from "../../queue/types.ts";
import { cloudEventJson } from "../events/emitter.ts";
import type { Logger } from "../logger/mod.ts";
import { type JobOutcome, LeaseLoop } from "../worker/loop.ts";

/** Job kind of a webhook delivery. */
export const WEBHOOK_JOB = "webhook";
/** Header carrying the signature. */
export const SIGNATURE_HEADER = "qmtl-signature";

/**
 * HMAC-SHA256 signature header value of a body: `sha256=<hex>`.
 *
 * @example
 * ```ts
 * import { signBody } from "@qmtl/qmtl/gateway";
 * const sig = await signBody("secret", new TextEncoder().encode("{}"));
 * sig.startsWith("sha256="); // true
 * ```
 */
export async function signBody(
  secret: string,
  body: Uint8Array,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, body as BufferSource),
  );
  return "sha256=" +
    Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Check a received signature in constant time.
 *
 * @example
 * ```ts
 * import { signBody, verifySignature } from "@qmtl/qmtl/gateway";
 * const body = new TextEncoder().encode("{}");
 * await verifySignature("secret", body, await signBody("secret", body)); // true
 * ```
 */
export async function verifySignature(
  secret: string,
  body: Uint8Array,
  header: string,
): Promise<boolean> {
  const expected = await signBody(secret, body);
  if (expected.length !== header.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ header.charCodeAt(i);
  }
  return diff === 0;
}

/**
 * Options of {@link WebhookDispatcher}.
 *
 * @example
 * ```ts
 * import type { WebhookOptions } from "@qmtl/qmtl/gateway";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const o: WebhookOptions = { queue: new MemoryQueue(), secret: "s3cret" };
 * ```
 */
export interface WebhookOptions {
  /** The `webhook` queue. */
  queue: WorkQueue;
  /** HMAC secret; without one deliveries are unsigned. */
  secret?: string;
  /** Attempts before dead-lettering; default 8. */
  maxAttempts?: number;
  /** Timeout of one delivery, ms; default 5000. */
  timeoutMs?: number;
  /** Deliveries in flight at once; default 4. */
  concurrency?: number;
  /** Logger. */
  logger?: Logger;
  /** fetch implementation (tests). */
  fetch?: typeof fetch;
}

/**
 * Enqueues and delivers webhooks.
 *
 * @example
 * ```ts
 * import { WebhookDispatcher } from "@qmtl/qmtl/gateway";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const hooks = new WebhookDispatcher({ queue: new MemoryQueue(), secret: "s" });
 * hooks.start();
 * await hooks.stop();
 * ```
 */
export class WebhookDispatcher {
  #o: WebhookOptions;
  #loop: LeaseLoop;

  /**
   * Build the dispatcher.
   *
   * @param options queue, secret, limits
   */
  constructor(options: WebhookOptions) {
    this.#o = options;
    this.#loop = new LeaseLoop({
      name: "webhook",
      queue: options.queue,
      handle: (job) => this.#deliver(job),
      concurrency: options.concurrency ?? 4,
      leaseMs: (options.timeoutMs ?? 5000) * 3,
      logger: options.logger,
    });
  }

  /** Event listener: enqueue a delivery when the strategy has a callback URL. */
  async onEvent(event: Event, status: StrategyStatus): Promise<void> {
    if (!status.callbackUrl) return;
    const payload = new TextEncoder().encode(
      JSON.stringify({ url: status.callbackUrl, event: cloudEventJson(event) }),
    );
    await this.#o.queue.enqueue(WEBHOOK_JOB, payload, {
      idempotencyKey: `webhook:${event.id}`,
      maxAttempts: this.#o.maxAttempts ?? 8,
    });
  }

  async #deliver(job: LeasedJob): Promise<JobOutcome> {
    const { url, event } = JSON.parse(
      new TextDecoder().decode(job.payload),
    ) as {
      url: string;
      event: Record<string, unknown>;
    };
    const body = new TextEncoder().encode(JSON.stringify(event));
    const headers: Record<string, string> = {
      "content-type": "application/cloudevents+json",
      "qmtl-event-id": String(event.id),
      "qmtl-delivery-attempt": String(job.attempts),
    };
    if (this.#o.secret) {
      headers[SIGNATURE_HEADER] = await signBody(this.#o.secret, body);
    }
    try {
      const res = await (this.#o.fetch ?? fetch)(url, {
        method: "POST",
        headers,
        body: body as BodyInit,
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 5000),
        redirect: "manual",
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return { kind: "ack" };
      const retryAfter = Number(res.headers.get("retry-after"));
      return {
        kind: "retry",
        error: `HTTP ${res.status}`,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.min(retryAfter, 3600) * 1000
          : undefined,
      };
    } catch (e) {
      return { kind: "retry", error: (e as Error)?.message ?? String(e) };
    }
  }

  /** True while the delivery loop runs. */
  get alive(): boolean {
    return this.#loop.alive;
  }

  /** Start delivering. */
  start(): void {
    this.#loop.start();
  }

  /** Stop delivering (in-flight deliveries finish or are released). */
  async stop(): Promise<void> {
    await this.#loop.stop(this.#o.timeoutMs ?? 5000);
  }
}
