import assert from "node:assert/strict";
import { base64url, SignJWT } from "jose";
import { createAuthenticator } from "../../lib/gateway/mod.ts";
import { AUDIENCE, ISSUER, SECRET } from "./helpers.ts";

const key = new TextEncoder().encode(SECRET);

function sign(sub: string, expS: number, iatS: number): Promise<string> {
  return new SignJWT({ roles: ["reader"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub).setIssuer(ISSUER).setAudience(AUDIENCE)
    .setIssuedAt(iatS).setExpirationTime(expS).sign(key);
}

/** A test clock: `now` in ms; `reads` counts how often the authenticator read it. */
interface Clock {
  now: number;
  reads: number;
}

function clock(): Clock {
  return { now: 1_700_000_000_000, reads: 0 };
}

/** An authenticator on the test key, reading the time from `c`. */
function authOn(
  c: Clock,
  opts: { clockSkewS?: number; cacheSize?: number; cacheTtlS?: number },
) {
  return createAuthenticator({
    secret: SECRET,
    issuer: ISSUER,
    audience: AUDIENCE,
    ...opts,
    now: () => {
      c.reads++;
      return c.now;
    },
  });
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("auth cache: a cached token is refused from its exp on (no skew added)", async () => {
  const c = clock();
  const auth = authOn(c, { clockSkewS: 30 });
  const tok = await sign("alice", c.now / 1000 + 60, c.now / 1000);
  assert.equal((await auth.verify(tok)).subject, "alice");
  c.now += 59_000;
  assert.equal((await auth.verify(tok)).subject, "alice"); // cached
  c.now += 1_000; // exactly exp: the cache drops it; jose still allows the skew
  assert.equal((await auth.verify(tok)).subject, "alice");
  c.now += 31_000; // past exp + skew
  await rejects(auth.verify(tok), /expired/);
  await rejects(auth.verify(tok), /expired/);
});

Deno.test("auth cache: a token accepted only within the skew is never cached", async () => {
  const c = clock();
  const auth = authOn(c, { clockSkewS: 30 });
  // exp 10 s ago: accepted within the 30 s skew, but must not be cached.
  const tok = await sign("bob", c.now / 1000 - 10, c.now / 1000 - 100);
  assert.equal((await auth.verify(tok)).subject, "bob");
  c.now += 25_000; // exp + 35 s: beyond the skew
  await rejects(auth.verify(tok), /expired/);
  assert.ok(c.reads > 0);
});

Deno.test("auth cache: keyed by the exact token; tampering is still caught; bounded LRU", async () => {
  const c = clock();
  const now = c.now;
  const auth = authOn(c, { cacheSize: 2 });
  const toks = await Promise.all(
    ["a", "b", "c", "d"].map((s) => sign(s, now / 1000 + 600, now / 1000)),
  );
  for (let round = 0; round < 3; round++) {
    for (const [i, t] of toks.entries()) {
      assert.equal((await auth.verify(t)).subject, "abcd"[i]);
    }
  }
  const [h, p, sig] = toks[0].split(".");
  const flipped = sig.slice(0, -2) + (sig.at(-2) === "A" ? "B" : "A") +
    sig.at(-1);
  await rejects(auth.verify(`${h}.${p}.${flipped}`), /signature/);
  const other = base64url.encode(JSON.stringify({
    sub: "mallory",
    roles: ["operator"],
    iss: ISSUER,
    aud: AUDIENCE,
    exp: now / 1000 + 600,
  }));
  await rejects(auth.verify(`${h}.${other}.${sig}`), /signature/);
  // The cached principal is frozen: a handler cannot grant itself roles.
  const p0 = await auth.verify(toks[0]);
  assert.throws(() => (p0.roles as string[]).push("operator"));
});

Deno.test("auth cache: cacheTtlS bounds how long a verified token is served from the cache", async () => {
  // A JWKS-free check of the TTL: count verifications through `now`
  // (called once per cache lookup and once more per real verification).
  const c = clock();
  const auth = authOn(c, { cacheTtlS: 10 });
  const tok = await sign("carol", c.now / 1000 + 3600, c.now / 1000);
  await auth.verify(tok); // lookup + verify + store
  const afterFirst = c.reads;
  await auth.verify(tok); // cache hit: one lookup
  assert.equal(c.reads - afterFirst, 1);
  c.now += 11_000;
  const before = c.reads;
  await auth.verify(tok); // TTL passed: verified again
  assert.ok(c.reads - before > 1);
});
