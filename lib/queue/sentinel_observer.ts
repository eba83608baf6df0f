/**
 * Watches the Redis Sentinels of a `redis+sentinel://` URI over pub/sub and
 * reports failover events (`+switch-master`, `+sdown`, `-sdown`, `+odown`,
 * `-odown`, `+failover-end`) as typed objects with counters, for logs,
 * metrics and alerts.
 *
 * @module
 */

import { Redis } from "ioredis";
import {
  type HostPort,
  type ParsedRedisUrl,
  parseRedisUrl,
} from "./connection.ts";
import { QueueError } from "./errors.ts";

/**
 * The Sentinel channels the observer subscribes to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SENTINEL_EVENT_TYPES } from "@qmtl/qmtl/queue";
 * assert.ok(SENTINEL_EVENT_TYPES.includes("+switch-master"));
 * ```
 */
export const SENTINEL_EVENT_TYPES = [
  "+switch-master",
  "+sdown",
  "-sdown",
  "+odown",
  "-odown",
  "+failover-end",
] as const;

/**
 * One of {@link SENTINEL_EVENT_TYPES}.
 *
 * @example
 * ```ts
 * import type { SentinelEventType } from "@qmtl/qmtl/queue";
 * const t: SentinelEventType = "+odown";
 * ```
 */
export type SentinelEventType = typeof SENTINEL_EVENT_TYPES[number];

/**
 * A parsed Sentinel event.
 *
 * `+switch-master` carries `oldMaster`/`newMaster`; the others carry the
 * instance they are about (`instanceType`, `address`) and, for a replica or
 * Sentinel, its master in `masterAddress`.
 *
 * @example
 * ```ts
 * import type { SentinelEvent } from "@qmtl/qmtl/queue";
 * function show(e: SentinelEvent): void {
 *   if (e.type === "+switch-master") console.log(`${e.masterName}: ${e.oldMaster?.port} → ${e.newMaster?.port}`);
 * }
 * ```
 */
export interface SentinelEvent {
  /** Channel / event name. */
  type: SentinelEventType;
  /** Master name the event concerns. */
  masterName: string;
  /** `master`, `slave` or `sentinel` (absent for `+switch-master`). */
  instanceType?: string;
  /** Address of the instance the event is about. */
  address?: HostPort;
  /** The master of that instance, for replica/Sentinel events. */
  masterAddress?: HostPort;
  /** Previous master (`+switch-master`). */
  oldMaster?: HostPort;
  /** New master (`+switch-master`). */
  newMaster?: HostPort;
  /** The Sentinel that reported it (the first one, when deduplicated). */
  sentinel: HostPort;
  /** The message as published. */
  raw: string;
  /** When it was received, ms since epoch. */
  atMs: number;
}

/**
 * Parses one Sentinel pub/sub message; `null` for an unknown channel or a
 * malformed payload.
 *
 * @param channel The channel, e.g. `+switch-master`.
 * @param message The payload.
 * @param sentinel The Sentinel it came from.
 * @param atMs Receive time (default now).
 * @returns The event, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSentinelMessage } from "@qmtl/qmtl/queue";
 * const e = parseSentinelMessage("+switch-master", "qmtl 127.0.0.1 16379 127.0.0.1 16380",
 *   { host: "127.0.0.1", port: 16389 });
 * assert.deepEqual(e?.newMaster, { host: "127.0.0.1", port: 16380 });
 * ```
 */
export function parseSentinelMessage(
  channel: string,
  message: string,
  sentinel: HostPort,
  atMs: number = Date.now(),
): SentinelEvent | null {
  if (!(SENTINEL_EVENT_TYPES as readonly string[]).includes(channel)) {
    return null;
  }
  const type = channel as SentinelEventType;
  const w = message.trim().split(/\s+/);
  const addr = (
    ip: string | undefined,
    port: string | undefined,
  ): HostPort | undefined =>
    ip && port && /^\d+$/.test(port)
      ? { host: ip, port: Number(port) }
      : undefined;
  if (type === "+switch-master") {
    const oldMaster = addr(w[1], w[2]);
    const newMaster = addr(w[3], w[4]);
    if (!w[0] || !oldMaster || !newMaster) return null;
    return {
      type,
      masterName: w[0],
      oldMaster,
      newMaster,
      sentinel,
      raw: message,
      atMs,
    };
  }
  // <instance-type> <name> <ip> <port> [@ <master-name> <master-ip> <master-port>] [extra…]
  const address = addr(w[2], w[3]);
  if (!w[0] || !address) return null;
  const at = w.indexOf("@");
  const ev: SentinelEvent = {
    type,
    masterName: w[0] === "master" ? w[1] : (at >= 0 ? w[at + 1] ?? "" : ""),
    instanceType: w[0],
    address,
    sentinel,
    raw: message,
    atMs,
  };
  if (at >= 0) {
    const m = addr(w[at + 2], w[at + 3]);
    if (m) ev.masterAddress = m;
  }
  return ev;
}

/**
 * Options of {@link SentinelObserver}.
 *
 * @example
 * ```ts
 * import type { SentinelObserverOptions } from "@qmtl/qmtl/queue";
 * const o: SentinelObserverOptions = { dedupeWindowMs: 5_000 };
 * ```
 */
export interface SentinelObserverOptions {
  /**
   * Every Sentinel publishes the same event; identical events (type and
   * payload) within this window are delivered once (default 5000; 0 = off).
   * Counters count delivered events.
   */
  dedupeWindowMs?: number;
  /** Only events about this master (default: the URI's master name). */
  masterName?: string;
  /** Password of the Sentinels (default: none). */
  sentinelPassword?: string;
}

/**
 * A listener of {@link SentinelObserver}.
 *
 * @example
 * ```ts
 * import type { SentinelListener } from "@qmtl/qmtl/queue";
 * const log: SentinelListener = (e) => console.log(JSON.stringify(e));
 * ```
 */
export type SentinelListener = (event: SentinelEvent) => void;

/**
 * Subscribes to every Sentinel of a `redis+sentinel://` URI and reports
 * failover events. Reconnects to a Sentinel that goes away; `close()` ends
 * every connection.
 *
 * @example
 * ```ts ignore
 * import { SentinelObserver } from "@qmtl/qmtl/queue";
 * const obs = new SentinelObserver("redis+sentinel://127.0.0.1:26379/qmtl/0");
 * const off = obs.on((e) => console.warn("sentinel", e.type, e.masterName, e.newMaster ?? e.address));
 * await obs.ready();
 * // … later
 * console.log(obs.counts["+switch-master"]);
 * off();
 * await obs.close();
 * ```
 */
export class SentinelObserver {
  #clients: Redis[] = [];
  #listeners = new Set<SentinelListener>();
  #recent = new Map<string, number>();
  #counts: Record<SentinelEventType, number>;
  #dedupeMs: number;
  #master: string;
  #ready: Promise<number>;

  /**
   * Connects to every Sentinel of `uri` and subscribes.
   *
   * @param uri A `redis+sentinel://` URI (or its parsed form).
   * @param opts Dedup window, master filter, Sentinel password.
   */
  constructor(
    uri: string | ParsedRedisUrl,
    opts: SentinelObserverOptions = {},
  ) {
    const p = typeof uri === "string" ? parseRedisUrl(uri) : uri;
    if (p.mode !== "sentinel") {
      throw new QueueError(
        "E_INVALID",
        "SentinelObserver needs a redis+sentinel:// URI",
      );
    }
    this.#dedupeMs = opts.dedupeWindowMs ?? 5_000;
    this.#master = opts.masterName ?? p.masterName;
    this.#counts = Object.fromEntries(
      SENTINEL_EVENT_TYPES.map((t) => [t, 0]),
    ) as Record<
      SentinelEventType,
      number
    >;
    const subs: Promise<boolean>[] = [];
    for (const s of p.hosts) {
      const c = new Redis({
        host: s.host,
        port: s.port,
        password: opts.sentinelPassword,
        tls: p.tls ? {} : undefined,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        connectTimeout: 2_000,
        retryStrategy: (n: number) => Math.min(100 * n, 2_000),
        connectionName: "qmtl-sentinel-observer",
      });
      c.on("error", () => {}); // reconnects on its own
      c.on(
        "message",
        (channel: string, message: string) =>
          this.#onMessage(channel, message, s),
      );
      subs.push(
        c.subscribe(...SENTINEL_EVENT_TYPES).then(() => true, () => false),
      );
      this.#clients.push(c);
    }
    this.#ready = Promise.all(subs).then((r) => r.filter(Boolean).length);
  }

  /** Resolves with the number of Sentinels subscribed to once every attempt settled. */
  ready(): Promise<number> {
    return this.#ready;
  }

  /**
   * Adds a listener; returns a function that removes it.
   *
   * @param listener Called for every (deduplicated) event.
   * @returns Unsubscribe.
   */
  on(listener: SentinelListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Delivered events per type since start. */
  get counts(): Readonly<Record<SentinelEventType, number>> {
    return { ...this.#counts };
  }

  /** Disconnects from every Sentinel and drops the listeners. */
  async close(): Promise<void> {
    this.#listeners.clear();
    await Promise.all(this.#clients.map(async (c) => {
      try {
        await c.quit();
      } catch {
        c.disconnect();
      }
    }));
    this.#clients = [];
  }

  #onMessage(channel: string, message: string, sentinel: HostPort): void {
    const ev = parseSentinelMessage(channel, message, sentinel);
    if (!ev || (this.#master !== "" && ev.masterName !== this.#master)) return;
    if (this.#dedupeMs > 0) {
      const key = `${channel} ${message}`;
      const last = this.#recent.get(key);
      if (last !== undefined && ev.atMs - last < this.#dedupeMs) return;
      this.#recent.set(key, ev.atMs);
      for (const [k, t] of this.#recent) {
        if (ev.atMs - t >= this.#dedupeMs) this.#recent.delete(k);
      }
    }
    this.#counts[ev.type]++;
    for (const l of [...this.#listeners]) {
      try {
        l(ev);
      } catch {
        // a failing listener must not stop the others
      }
    }
  }
}
