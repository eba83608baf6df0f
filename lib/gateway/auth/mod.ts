/**
 * Bearer-JWT authentication (jose): an HS256/384/512 secret, or RS/PS/ES/EdDSA
 * keys from a JWKS URL. Algorithm allow-list (so `none` and algorithm
 * confusion are refused), `exp` required, `iss` and `aud` checked, bounded
 * clock skew. Failures answer 401 with a `WWW-Authenticate` challenge.
 *
 * @module
 */

import {
  createRemoteJWKSet,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
  SignJWT,
} from "jose";
import { QmtlError } from "../../contracts/errors.ts";
import { withHeaders } from "../error_mapper/mod.ts";
import { type Principal, type Role, ROLES } from "../types.ts";

/**
 * Options of {@link createAuthenticator}. Give `secret`, `jwksUrl`, or both
 * (then HS* tokens are checked with the secret and the rest with the JWKS).
 *
 * @example
 * ```ts
 * import type { AuthOptions } from "@qmtl/qmtl/gateway";
 * const o: AuthOptions = { secret: "x".repeat(32), issuer: "qmtl", audience: "qmtl-gateway" };
 * ```
 */
export interface AuthOptions {
  /** HMAC secret (≥ 32 bytes). */
  secret?: string | Uint8Array;
  /** JWKS URL for asymmetric keys. */
  jwksUrl?: string;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud`. */
  audience: string;
  /** Allowed algorithms; default HS256 with a secret, RS256+ES256 with JWKS. */
  algorithms?: string[];
  /** Tolerated clock skew in seconds (0‥300); default 30. */
  clockSkewS?: number;
  /** Claim holding the roles array; default `roles`. */
  rolesClaim?: string;
  /**
   * Verified tokens kept in an LRU cache keyed by the raw token string, so
   * a repeated token skips signature verification; default 1000 entries, 0
   * disables. An entry is dropped at the token's `exp` (clock skew is never
   * added: a cached token is refused from `exp` on, at least as strictly as
   * a fresh verification), and after `cacheTtlS` at the latest.
   */
  cacheSize?: number;
  /**
   * Longest time a verified token is served from the cache, seconds
   * (bounds how long a key removed from the JWKS keeps working); default 300.
   */
  cacheTtlS?: number;
  /** Clock, ms since epoch (tests); default `Date.now`. */
  now?: () => number;
}

/**
 * Verifies bearer tokens.
 *
 * @example
 * ```ts
 * import { createAuthenticator } from "@qmtl/qmtl/gateway";
 * const auth = createAuthenticator({ secret: "s".repeat(32), issuer: "qmtl", audience: "qmtl-gateway" });
 * // const principal = await auth.verify(token);
 * ```
 */
export interface Authenticator {
  /** Verify a compact JWS; rejects with an `E_UNAUTHENTICATED` QmtlError. */
  verify(token: string): Promise<Principal>;
}

const HMAC = new Set(["HS256", "HS384", "HS512"]);

/**
 * Build an {@link Authenticator}.
 *
 * @example
 * ```ts
 * import { createAuthenticator } from "@qmtl/qmtl/gateway";
 * const auth = createAuthenticator({ jwksUrl: "http://127.0.0.1:9999/jwks.json", issuer: "i", audience: "a" });
 * ```
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const secret = typeof options.secret === "string"
    ? new TextEncoder().encode(options.secret)
    : options.secret;
  if (!secret && !options.jwksUrl) {
    throw new Error("auth: give a secret or a jwksUrl");
  }
  if (secret && secret.byteLength < 32) {
    throw new Error("auth: an HMAC secret must be at least 32 bytes");
  }
  const algorithms = options.algorithms ??
    [
      ...(secret ? ["HS256"] : []),
      ...(options.jwksUrl ? ["RS256", "ES256"] : []),
    ];
  for (const a of algorithms) {
    if (a === "none") throw new Error("auth: algorithm none is never allowed");
    if (HMAC.has(a) && !secret) throw new Error(`auth: ${a} needs a secret`);
    if (!HMAC.has(a) && !options.jwksUrl) {
      throw new Error(`auth: ${a} needs a jwksUrl`);
    }
  }
  const skew = Math.min(Math.max(options.clockSkewS ?? 30, 0), 300);
  const rolesClaim = options.rolesClaim ?? "roles";
  const jwks = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
    })
    : undefined;
  // Key by the header's algorithm family: an HS token is never checked
  // against a public key and an RS/ES token never against the secret.
  const getKey: JWTVerifyGetKey = (header, token) => {
    if (HMAC.has(header.alg ?? "")) {
      if (!secret) {
        throw new QmtlError(
          "E_UNAUTHENTICATED",
          `algorithm ${header.alg} not allowed`,
        );
      }
      return secret;
    }
    if (!jwks) {
      throw new QmtlError(
        "E_UNAUTHENTICATED",
        `algorithm ${header.alg} not allowed`,
      );
    }
    return jwks(header, token);
  };
  const now = options.now ?? Date.now;
  const cache = new TokenCache(
    options.cacheSize ?? 1000,
    (options.cacheTtlS ?? 300) * 1000,
  );

  return {
    async verify(token: string): Promise<Principal> {
      const hit = cache.get(token, now());
      if (hit) return hit;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms,
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: skew,
          requiredClaims: ["exp", "sub"],
          currentDate: options.now ? new Date(now()) : undefined,
        }));
      } catch (e) {
        throw unauthenticated(describe(e));
      }
      const principal = principalOf(payload, rolesClaim);
      if (principal === undefined) {
        throw unauthenticated(
          `the sub claim must be 1-${MAX_SUBJECT_LENGTH} printable characters`,
        );
      }
      cache.set(token, principal, (payload.exp as number) * 1000, now());
      return principal;
    },
  };
}

/**
 * A bounded LRU map of verified tokens → principal. Entries expire at the
 * token's `exp` (no skew added) or after `ttlMs`, whichever is first.
 */
class TokenCache {
  #max: number;
  #ttlMs: number;
  #seq = 0;
  // Map iteration order is insertion order, so the first key is the least
  // recently (re)inserted one. A hit re-inserts its key only once it has
  // aged past half the capacity: recently used entries are never the next
  // to go, and a hot token costs one lookup rather than delete + insert.
  #map = new Map<
    string,
    { principal: Principal; untilMs: number; seq: number }
  >();

  constructor(max: number, ttlMs: number) {
    this.#max = Math.max(0, Math.floor(max));
    this.#ttlMs = ttlMs;
  }

  get(token: string, now: number): Principal | undefined {
    const e = this.#map.get(token);
    if (e === undefined) return undefined;
    if (now >= e.untilMs) {
      this.#map.delete(token);
      return undefined;
    }
    if (this.#seq - e.seq > this.#max >> 1) {
      this.#map.delete(token);
      e.seq = ++this.#seq;
      this.#map.set(token, e);
    }
    return e.principal;
  }

  set(token: string, principal: Principal, expMs: number, now: number): void {
    if (this.#max === 0 || !Number.isFinite(expMs)) return;
    const untilMs = Math.min(expMs, now + this.#ttlMs);
    if (untilMs <= now) return; // accepted within the skew only: never cached
    this.#map.delete(token);
    while (this.#map.size >= this.#max) {
      this.#map.delete(this.#map.keys().next().value!);
    }
    this.#map.set(token, { principal, untilMs, seq: ++this.#seq });
  }
}

function describe(e: unknown): string {
  if (e instanceof QmtlError) return e.message;
  const code = (e as { code?: string }).code ?? "";
  const msg = e instanceof Error ? e.message : String(e);
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "token expired";
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "no key in the JWKS matches the token's kid";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "token algorithm not allowed";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "signature verification failed";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return `claim check failed: ${msg}`;
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return `malformed token: ${msg}`;
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JOSE_GENERIC":
      return `key set unavailable: ${msg}`;
    default:
      return msg || "invalid token";
  }
}

/** Longest accepted `sub` claim, characters (it names owners and is stored). */
const MAX_SUBJECT_LENGTH = 256;

/** Longest accepted bearer token, characters. */
const MAX_TOKEN_LENGTH = 8192;

function principalOf(
  payload: JWTPayload,
  rolesClaim: string,
): Principal | undefined {
  const sub = payload.sub;
  if (
    typeof sub !== "string" || sub === "" ||
    sub.length > MAX_SUBJECT_LENGTH ||
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(sub)
  ) return undefined;
  const raw = payload[rolesClaim];
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === "string"
    ? raw.split(/[\s,]+/)
    : [];
  const roles = list.filter((r): r is Role =>
    typeof r === "string" && (ROLES as string[]).includes(r)
  );
  // Frozen: the cache hands the same principal to every request bearing
  // the token.
  return Object.freeze({
    subject: sub,
    roles: Object.freeze([...new Set(roles)]) as Role[],
  });
}

function quote(s: string): string {
  return s.replace(/["\\]/g, "'");
}

/**
 * The 401 error with its `WWW-Authenticate` challenge.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unauthenticated } from "@qmtl/qmtl/gateway";
 * assert.equal(unauthenticated("token expired").httpStatus, 401);
 * ```
 */
export function unauthenticated(description: string): QmtlError {
  return withHeaders(
    new QmtlError("E_UNAUTHENTICATED", description),
    {
      "www-authenticate":
        `Bearer realm="qmtl", error="invalid_token", error_description="${
          quote(description)
        }"`,
    },
  );
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)$/i;

/**
 * The token of an `Authorization: Bearer <jwt>` header value; throws the
 * 401 `E_UNAUTHENTICATED` error when it is missing, not a bearer token, or
 * longer than 8192 characters (refused before it is
 * parsed). The auth step of the gateway's per-route pipeline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bearerToken } from "./mod.ts";
 * assert.equal(bearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
 * ```
 */
export function bearerToken(header: string | undefined | null): string {
  if (!header) throw unauthenticated("missing bearer token");
  if (header.length > MAX_TOKEN_LENGTH + 16) {
    throw unauthenticated(
      `bearer token longer than ${MAX_TOKEN_LENGTH} characters`,
    );
  }
  const m = BEARER.exec(header);
  if (!m) throw unauthenticated("authorization header is not a bearer token");
  return m[1];
}

const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "nbf",
  "iat",
  "jti",
]);

/**
 * Options of {@link signDevToken}.
 *
 * @example
 * ```ts
 * import type { DevTokenOptions } from "@qmtl/qmtl/gateway";
 * const o: DevTokenOptions = { secret: "s".repeat(32), issuer: "qmtl", audience: "qmtl-gateway", subject: "dev", roles: ["reader"], ttlS: 3600 };
 * ```
 */
export interface DevTokenOptions {
  /** HS256 secret. */
  secret: string | Uint8Array;
  /** `iss`. */
  issuer: string;
  /** `aud`. */
  audience: string;
  /** `sub`. */
  subject: string;
  /** Roles claim value. */
  roles: Role[];
  /**
   * Claim that carries `roles`; default `roles`. Give the gateway's
   * {@link AuthOptions.rolesClaim} so that the token's roles are seen.
   */
  rolesClaim?: string;
  /** Lifetime in seconds. */
  ttlS: number;
}

/**
 * Sign an HS256 token (dev mode and tests), with the roles under
 * `rolesClaim` (default `roles`).
 *
 * @example
 * ```ts
 * import { createAuthenticator, signDevToken } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const auth = { secret: "s".repeat(32), issuer: "qmtl", audience: "qmtl-gateway", rolesClaim: "qmtl_roles" };
 * const token = await signDevToken({ ...auth, subject: "dev", roles: ["submitter"], ttlS: 3600 });
 * const principal = await createAuthenticator(auth).verify(token);
 * assert.deepEqual(principal.roles, ["submitter"]);
 * ```
 */
export async function signDevToken(options: DevTokenOptions): Promise<string> {
  const key = typeof options.secret === "string"
    ? new TextEncoder().encode(options.secret)
    : options.secret;
  const claim = options.rolesClaim ?? "roles";
  if (RESERVED_CLAIMS.has(claim)) {
    throw new TypeError(
      `signDevToken: rolesClaim ${
        JSON.stringify(claim)
      } is a registered JWT claim`,
    );
  }
  return await new SignJWT({ [claim]: options.roles })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlS)
    .sign(key);
}
