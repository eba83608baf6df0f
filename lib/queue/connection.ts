/**
 * The one Redis connection URI of QMTL and an ioredis client built from it.
 *
 * ```
 * redis://[user:pass@]host[:port][/db]             rediss:// = TLS
 * redis+sentinel://[user:pass@]h1[:p1],h2[:p2]/<master>[/<db>]   rediss+sentinel:// = TLS
 * ```
 *
 * Default ports: 6379 for Redis, 26379 for a Sentinel. Credentials are
 * percent-decoded and authenticate against the Redis master (not the
 * Sentinels; see {@link CreateRedisOptions.sentinelPassword}).
 *
 * @module
 */

import { Redis, type RedisOptions } from "ioredis";
import { RedisUrlError } from "./errors.ts";

/**
 * An ioredis client (the `Redis` class of npm `ioredis`).
 *
 * @example
 * ```ts ignore
 * import { createRedis, type RedisClient } from "@qmtl/qmtl/queue";
 * const r: RedisClient = createRedis("redis://127.0.0.1:6379");
 * ```
 */
export type RedisClient = Redis;

/**
 * ioredis client options (`RedisOptions` of npm `ioredis`).
 *
 * @example
 * ```ts
 * import type { RedisClientOptions } from "@qmtl/qmtl/queue";
 * const o: RedisClientOptions = { enableAutoPipelining: true };
 * ```
 */
export type RedisClientOptions = RedisOptions;

/**
 * A host and port.
 *
 * @example
 * ```ts
 * import type { HostPort } from "@qmtl/qmtl/queue";
 * const h: HostPort = { host: "127.0.0.1", port: 26379 };
 * ```
 */
export interface HostPort {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** TCP port. */
  port: number;
}

/**
 * A parsed Redis URI.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedisUrl } from "@qmtl/qmtl/queue";
 * const p = parseRedisUrl("redis+sentinel://127.0.0.1:26379/qmtl/0");
 * assert.equal(p.mode, "sentinel");
 * assert.equal(p.masterName, "qmtl");
 * assert.deepEqual(p.hosts, [{ host: "127.0.0.1", port: 26379 }]);
 * ```
 */
export interface ParsedRedisUrl {
  /** `standalone` (`redis://`) or `sentinel` (`redis+sentinel://`). */
  mode: "standalone" | "sentinel";
  /** TLS (`rediss`). */
  tls: boolean;
  /** The Redis server (standalone) or the Sentinels (sentinel mode). */
  hosts: HostPort[];
  /** Sentinel master name; `""` when standalone. */
  masterName: string;
  /** Database number. */
  db: number;
  /** ACL user name, if any. */
  username?: string;
  /** Password, if any. */
  password?: string;
}

const SCHEMES: Record<string, { mode: ParsedRedisUrl["mode"]; tls: boolean }> =
  {
    "redis": { mode: "standalone", tls: false },
    "rediss": { mode: "standalone", tls: true },
    "redis+sentinel": { mode: "sentinel", tls: false },
    "rediss+sentinel": { mode: "sentinel", tls: true },
  };

/**
 * Parses a QMTL Redis URI. Throws {@link RedisUrlError} naming what is wrong:
 * unsupported scheme, missing host, bad port, several hosts without
 * `+sentinel`, missing master name, db not an integer, bad percent-encoding,
 * query strings or extra path segments.
 *
 * @param uri The URI.
 * @returns Its parts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedisUrl } from "@qmtl/qmtl/queue";
 * const p = parseRedisUrl("redis://:s%40cret@127.0.0.1:6379/2");
 * assert.deepEqual(p, {
 *   mode: "standalone", tls: false, hosts: [{ host: "127.0.0.1", port: 6379 }],
 *   masterName: "", db: 2, password: "s@cret",
 * });
 * ```
 */
export function parseRedisUrl(uri: string): ParsedRedisUrl {
  if (typeof uri !== "string" || uri.trim() === "") {
    throw new RedisUrlError(String(uri), "empty URI");
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(uri.trim());
  if (!m) {
    throw new RedisUrlError(
      uri,
      'missing scheme (expected "redis://" or "redis+sentinel://")',
    );
  }
  const scheme = SCHEMES[m[1].toLowerCase()];
  if (!scheme) {
    throw new RedisUrlError(
      uri,
      `unsupported scheme "${
        m[1]
      }" (use redis, rediss, redis+sentinel or rediss+sentinel)`,
    );
  }
  let rest = m[2];
  if (/[?#]/.test(rest)) {
    throw new RedisUrlError(
      uri,
      "query strings and fragments are not supported",
    );
  }
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(":");
    const rawUser = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    const rawPass = colon >= 0 ? userinfo.slice(colon + 1) : "";
    username = decode(uri, rawUser, "user name") || undefined;
    password = decode(uri, rawPass, "password") || undefined;
  }
  const slash = rest.indexOf("/");
  const hostPart = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : "";
  const defaultPort = scheme.mode === "sentinel" ? 26379 : 6379;
  if (hostPart === "") throw new RedisUrlError(uri, "missing host");
  const hosts = hostPart.split(",").map((h) => parseHost(uri, h, defaultPort));
  if (scheme.mode === "standalone" && hosts.length > 1) {
    throw new RedisUrlError(
      uri,
      "several hosts are only allowed with redis+sentinel:// (they are the Sentinels)",
    );
  }
  const segments = path === "" ? [] : path.split("/");
  if (segments.length > 0 && segments[segments.length - 1] === "") {
    segments.pop();
  }
  let masterName = "";
  let dbText: string | undefined;
  if (scheme.mode === "sentinel") {
    if (segments.length === 0 || segments[0] === "") {
      throw new RedisUrlError(
        uri,
        "missing master name (redis+sentinel://hosts/<master>/<db>)",
      );
    }
    masterName = decode(uri, segments[0], "master name");
    dbText = segments[1];
    if (segments.length > 2) {
      throw new RedisUrlError(uri, "too many path segments");
    }
  } else {
    dbText = segments[0];
    if (segments.length > 1) {
      throw new RedisUrlError(uri, "too many path segments");
    }
  }
  let db = 0;
  if (dbText !== undefined && dbText !== "") {
    if (!/^\d+$/.test(dbText) || Number(dbText) > 0x7fffffff) {
      throw new RedisUrlError(
        uri,
        `db "${dbText}" is not a non-negative integer`,
      );
    }
    db = Number(dbText);
  }
  const out: ParsedRedisUrl = {
    mode: scheme.mode,
    tls: scheme.tls,
    hosts,
    masterName,
    db,
  };
  if (username !== undefined) out.username = username;
  if (password !== undefined) out.password = password;
  return out;
}

function decode(uri: string, s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RedisUrlError(uri, `bad percent-encoding in the ${what}`);
  }
}

function parseHost(uri: string, text: string, defaultPort: number): HostPort {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new RedisUrlError(uri, `unclosed "[" in host "${text}"`);
    host = text.slice(1, end);
    const after = text.slice(end + 1);
    if (after !== "" && !after.startsWith(":")) {
      throw new RedisUrlError(
        uri,
        `unexpected "${after}" after host "${host}"`,
      );
    }
    portText = after === "" ? undefined : after.slice(1);
  } else {
    const colon = text.lastIndexOf(":");
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
  }
  if (host === "") throw new RedisUrlError(uri, `missing host in "${text}"`);
  if (/[\s/@]/.test(host)) throw new RedisUrlError(uri, `bad host "${host}"`);
  if (portText === undefined) return { host, port: defaultPort };
  if (
    !/^\d{1,5}$/.test(portText) || Number(portText) < 1 ||
    Number(portText) > 65535
  ) {
    throw new RedisUrlError(
      uri,
      `bad port "${portText}" for host "${host}" (1-65535)`,
    );
  }
  return { host, port: Number(portText) };
}

/**
 * Options of {@link createRedis}.
 *
 * @example
 * ```ts
 * import type { CreateRedisOptions } from "@qmtl/qmtl/queue";
 * const o: CreateRedisOptions = { connectionName: "qmtl-worker", commandTimeoutMs: 10_000 };
 * ```
 */
export interface CreateRedisOptions {
  /** `CLIENT SETNAME` of the connection. */
  connectionName?: string;
  /** Do not connect before the first command (default false). */
  lazyConnect?: boolean;
  /**
   * Reject a command that gets no reply within this time (default 10000).
   * Bounds every call during a failover. 0 disables.
   */
  commandTimeoutMs?: number;
  /** Upper bound of the reconnect delay (default 2000 ms). */
  retryCapMs?: number;
  /**
   * Reject a command queued while disconnected after this many reconnect
   * attempts (default 20; `null` = never).
   */
  maxRetriesPerRequest?: number | null;
  /** Password of the Sentinels themselves (default: none). */
  sentinelPassword?: string;
  /** ACL user of the Sentinels themselves (default: none). */
  sentinelUsername?: string;
  /**
   * Called with connection errors (refused, reset, Sentinel unreachable)
   * while the client reconnects on its own. Default: ignored, because every
   * command that cannot complete rejects to its caller anyway.
   */
  onError?: (err: Error) => void;
  /** Extra ioredis options, applied last. */
  extra?: Partial<RedisClientOptions>;
}

/**
 * The ioredis options {@link createRedis} uses, for callers that build their
 * own clients (e.g. BullMQ) from the same URI.
 *
 * Sentinel mode: the Sentinels list and master name, `failoverDetector`
 * (reconnect as soon as a Sentinel announces `+switch-master`), a
 * never-giving-up `sentinelRetryStrategy` capped at `retryCapMs`, and
 * `reconnectOnError` that reconnects and resends on `READONLY` (a client
 * still talking to a demoted master). Both modes: capped exponential
 * `retryStrategy` with jitter, the offline queue on (commands issued during
 * a failover wait for the new master), bounded by `maxRetriesPerRequest`
 * and `commandTimeoutMs`.
 *
 * @param uri A URI or its parsed form.
 * @param opts Connection options.
 * @returns ioredis options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redisOptions } from "@qmtl/qmtl/queue";
 * const o = redisOptions("redis://127.0.0.1:6379/0");
 * assert.deepEqual([o.host, o.port, o.db], ["127.0.0.1", 6379, 0]);
 * ```
 */
export function redisOptions(
  uri: string | ParsedRedisUrl,
  opts: CreateRedisOptions = {},
): RedisClientOptions {
  const p = typeof uri === "string" ? parseRedisUrl(uri) : uri;
  const cap = opts.retryCapMs ?? 2_000;
  const backoff = (times: number) =>
    Math.round(
      Math.min(cap, 50 * 2 ** Math.min(times, 10)) * (0.5 + Math.random() / 2),
    );
  const o: RedisOptions = {
    db: p.db,
    username: p.username,
    password: p.password,
    connectionName: opts.connectionName,
    lazyConnect: opts.lazyConnect ?? false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined
      ? 20
      : opts.maxRetriesPerRequest,
    connectTimeout: 5_000,
    retryStrategy: backoff,
    reconnectOnError: (err: Error) =>
      err.message.startsWith("READONLY") ? 2 : false,
  };
  const timeout = opts.commandTimeoutMs ?? 10_000;
  if (timeout > 0) o.commandTimeout = timeout;
  if (p.mode === "sentinel") {
    o.sentinels = p.hosts.map((h) => ({ host: h.host, port: h.port }));
    o.name = p.masterName;
    o.sentinelRetryStrategy = backoff;
    o.failoverDetector = true;
    o.sentinelCommandTimeout = 2_000;
    if (opts.sentinelPassword !== undefined) {
      o.sentinelPassword = opts.sentinelPassword;
    }
    if (opts.sentinelUsername !== undefined) {
      o.sentinelUsername = opts.sentinelUsername;
    }
    if (p.tls) {
      o.tls = {};
      o.enableTLSForSentinelMode = true;
      o.sentinelTLS = {};
    }
  } else {
    o.host = p.hosts[0].host;
    o.port = p.hosts[0].port;
    if (p.tls) o.tls = { servername: p.hosts[0].host };
  }
  return { ...o, ...opts.extra };
}

/**
 * An ioredis client for a QMTL Redis URI, configured by {@link redisOptions}
 * (Sentinel-aware, reconnecting, bounded).
 *
 * @param uri A URI or its parsed form.
 * @param opts Connection options.
 * @returns A connecting (or lazy) client; close it with {@link closeRedis}.
 *
 * @example
 * ```ts ignore
 * import { closeRedis, createRedis } from "@qmtl/qmtl/queue";
 * const redis = createRedis("redis+sentinel://127.0.0.1:26379/qmtl/0");
 * await redis.ping();
 * await closeRedis(redis); // not quit(): it would leave the Sentinel connections open
 * ```
 */
export function createRedis(
  uri: string | ParsedRedisUrl,
  opts: CreateRedisOptions = {},
): RedisClient {
  const client = new Redis(redisOptions(uri, opts));
  client.on("error", opts.onError ?? (() => {}));
  return client;
}

/**
 * True when the client was configured for Sentinel.
 *
 * @param redis A client.
 * @returns Whether it has Sentinels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRedis, isSentinelClient } from "@qmtl/qmtl/queue";
 * const redis = createRedis("redis://127.0.0.1:6379", { lazyConnect: true }); // no connection yet
 * assert.equal(isSentinelClient(redis), false);
 * redis.disconnect();
 * ```
 */
export function isSentinelClient(redis: RedisClient): boolean {
  return (redis.options.sentinels?.length ?? 0) > 0;
}

/**
 * Closes a client: `QUIT` (pending replies arrive first), then `disconnect()`
 * — needed in Sentinel mode, where ioredis's failover detector keeps its
 * Sentinel connections open after a plain `quit()`.
 *
 * @param redis The client.
 *
 * @example
 * ```ts ignore
 * import { closeRedis, createRedis } from "@qmtl/qmtl/queue";
 * const redis = createRedis("redis://127.0.0.1:6379");
 * await closeRedis(redis);
 * ```
 */
export async function closeRedis(redis: RedisClient): Promise<void> {
  try {
    if (redis.status !== "end") await redis.quit();
  } catch {
    // already closed or unreachable: disconnect below
  } finally {
    redis.disconnect();
  }
}
