/**
 * Webhook delivery: each lifecycle event of a strategy with a callback URL
 * becomes a job on the `webhook` work queue; a lease loop POSTs it as a
 * structured CloudEvent, signed with HMAC-SHA256 over the exact body
 * (`qmtl-signature: sha256=<hex>`), retries non-2xx answers with backoff and
 * leaves the dead letters in the queue.
 *
 * SSRF guard (`address_policy.ts`): before each attempt the callback host is
 * resolved and every address must be public (or allow-listed); the POST then
 * connects to the address that was checked (`post.ts`), so a DNS answer that
 * changes between the check and the connection (rebinding) is not followed.
 * A refused attempt is retried like a failed one (a name may be re-pointed)
 * and ends as a dead letter whose `lastError` says which address was refused.
 *
 * @module
 */

import type { Event, StrategyStatus } from "../../contracts/messages.ts";
import type { LeasedJob, WorkQueue } from "../../queue/types.ts";
import { cloudEventJson } from "../events/emitter.ts";
import { type Logger, workerLogging } from "../logger/mod.ts";
import { QueueWorker, RetryJobError } from "../../queue/worker.ts";
import { lookup } from "node:dns/promises";
import {
  type AllowEntry,
  CallbackRefusedError,
  parseAllowHosts,
  resolveCallback,
  type Resolver,
} from "./address_policy.ts";
import { postPinned } from "./post.ts";

export {
  type AddressClass,
  type AllowEntry,
  CallbackRefusedError,
  checkCallbackUrl,
  classifyAddress,
  type IpAddress,
  parseAllowHosts,
  parseIp,
  resolveCallback,
  type ResolvedAddress,
  type Resolver,
} from "./address_policy.ts";

/**
 * The system resolver (`getaddrinfo`, so `/etc/hosts` counts): every address
 * of `host`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemResolver } from "@qmtl/qmtl/gateway";
 * assert.ok((await systemResolver("localhost")).length > 0);
 * ```
 */
export async function systemResolver(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) =>
    a.address
  );
}

/** Job kind of a webhook delivery. */
export const WEBHOOK_JOB = "webhook";
/** Header carrying the signature. */
export const SIGNATURE_HEADER = "qmtl-signature";

/**
 * HMAC-SHA256 signature header value of a body: `sha256=<hex>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signBody } from "@qmtl/qmtl/gateway";
 * const sig = await signBody("secret", new TextEncoder().encode("{}"));
 * assert.match(sig, /^sha256=[0-9a-f]{64}$/);
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
 * import assert from "node:assert/strict";
 * import { signBody, verifySignature } from "@qmtl/qmtl/gateway";
 * const body = new TextEncoder().encode("{}");
 * assert.ok(await verifySignature("secret", body, await signBody("secret", body)));
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
  /**
   * Callback hosts admitted besides public addresses (local development):
   * `host`, `host:port`, an IP (`[v6]:port`) or a CIDR block; a
   * comma-separated string or a list. Default: none.
   */
  allowHosts?: string | readonly string[];
  /** Host name resolution (default {@link systemResolver}; tests inject one). */
  resolve?: Resolver;
  /**
   * fetch implementation (tests). When set it is called with the URL after
   * the address check, without pinning the connection to the checked address.
   */
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
  #loop: QueueWorker;
  #allow: AllowEntry[];

  /**
   * Build the dispatcher.
   *
   * @param options queue, secret, limits, allow-list
   * @throws {RangeError} on a bad allow-list entry
   */
  constructor(options: WebhookOptions) {
    this.#o = options;
    this.#allow = parseAllowHosts(options.allowHosts ?? []);
    this.#loop = new QueueWorker(options.queue, (job) => this.#deliver(job), {
      concurrency: options.concurrency ?? 4,
      leaseMs: (options.timeoutMs ?? 5000) * 3,
      prefetch: 0,
      blockMs: 500,
      ...workerLogging(options.logger, "webhook"),
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

  /** Resolves once delivered; throws RetryJobError to retry. */
  async #deliver(job: LeasedJob): Promise<void> {
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
    const timeoutMs = this.#o.timeoutMs ?? 5000;
    try {
      const target = await resolveCallback(
        url,
        this.#allow,
        this.#o.resolve ?? systemResolver,
      );
      let status: number, retryAfterHeader: string | null | undefined;
      if (this.#o.fetch) {
        const res = await this.#o.fetch(target.url, {
          method: "POST",
          headers,
          body: body as BodyInit,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: "manual",
        });
        await res.body?.cancel();
        status = res.status;
        retryAfterHeader = res.headers.get("retry-after");
      } else {
        const res = await postPinned(
          target.url,
          target.addresses,
          body,
          headers,
          timeoutMs,
        );
        status = res.status;
        retryAfterHeader = res.retryAfter;
      }
      if (status >= 200 && status < 300) return;
      const retryAfter = Number(retryAfterHeader);
      throw new RetryJobError(
        `HTTP ${status}`,
        Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.min(retryAfter, 3600) * 1000
          : undefined,
      );
    } catch (e) {
      if (e instanceof RetryJobError) throw e;
      if (e instanceof CallbackRefusedError) {
        this.#o.logger?.warn("webhook refused", {
          eventId: String(event.id),
          error: e.message,
        });
      }
      throw new RetryJobError((e as Error)?.message ?? String(e));
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
