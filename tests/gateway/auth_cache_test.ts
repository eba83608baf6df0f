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

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("auth cache: a cached token is refused from its exp on (no skew added)", async () => {
  let now = 1_700_000_000_000;
  const auth = createAuthenticator({
    secret: SECRET,
    issuer: ISSUER,
    audience: AUDIENCE,
    clockSkewS: 30,
    now: () => now,
  });
  const tok = await sign("alice", now / 1000 + 60, now / 1000);
  assert.equal((await auth.verify(tok)).subject, "alice");
  now += 59_000;
  assert.equal((await auth.verify(tok)).subject, "alice"); // cached
  now += 1_000; // exactly exp: the cache drops it; jose still allows the skew
  assert.equal((await auth.verify(tok)).subject, "alice");
  now += 31_000; // past exp + skew
  await rejects(auth.verify(tok), /expired/);
  await rejects(auth.verify(tok), /expired/);
});

Deno.test("auth cache: a token accepted only within the skew is never cached", async () => {
  let now = 1_700_000_000_000;
  let verifications = 0;
  const auth = createAuthenticator({
    secret: SECRET,
    issuer: ISSUER,
    audience: AUDIENCE,
    clockSkewS: 30,
    now: () => {
      verifications++;
      return now;
    },
  });
  // exp 10 s ago: accepted within the 30 s skew, but must not be cached.
  const tok = await sign("bob", now / 1000 - 10, now / 1000 - 100);
  assert.equal((await auth.verify(tok)).subject, "bob");
  now += 25_000; // exp + 35 s: beyond the skew
  await rejects(auth.verify(tok), /expired/);
  assert.ok(verifications > 0);
});

Deno.test("auth cache: keyed by the exact token; tampering is still caught; bounded LRU", async () => {
  const now = 1_700_000_000_000;
  const auth = createAuthenticator({
    secret: SECRET,
    issuer: ISSUER,
    audience: AUDIENCE,
    cacheSize: 2,
    now: () => now,
  });
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
  let now = 1_700_000_000_000;
  let keyCalls = 0;
  // A JWKS-free check of the TTL: count verifications through `now`
  // (called once per cache lookup and once more per real verification).
  const auth = createAuthenticator({
    secret: SECRET,
    issuer: ISSUER,
    audience: AUDIENCE,
    cacheTtlS: 10,
    now: () => {
      keyCalls++;
      return now;
    },
  });
  const tok = await sign("carol", now / 1000 + 3600, now / 1000);
  await auth.verify(tok); // lookup + verify + store
  const afterFirst = keyCalls;
  await auth.verify(tok); // cache hit: one lookup
  assert.equal(keyCalls - afterFirst, 1);
  now += 11_000;
  const before = keyCalls;
  await auth.verify(tok); // TTL passed: verified again
  assert.ok(keyCalls - before > 1);
});
