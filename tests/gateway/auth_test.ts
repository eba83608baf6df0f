import assert from "node:assert/strict";
import { base64url, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { createAuthenticator } from "../../lib/gateway/mod.ts";
import { startJwks } from "../support/jwks.ts";
import {
  AUDIENCE,
  closeAll,
  ISSUER,
  memoryGateway,
  SECRET,
  token,
  withGateway,
} from "./helpers.ts";

const enc = new TextEncoder();

async function get(
  gw: ReturnType<typeof memoryGateway>,
  tok: string | undefined,
): Promise<Response> {
  return await gw.app.request("/v1/nodes", {
    headers: tok === undefined ? {} : { authorization: `Bearer ${tok}` },
  });
}

async function expect401(res: Response, pattern: RegExp): Promise<void> {
  assert.equal(res.status, 401);
  const challenge = res.headers.get("www-authenticate") ?? "";
  assert.match(challenge, /^Bearer /);
  assert.match(challenge, /error="invalid_token"/);
  assert.match(challenge, pattern);
  const body = await res.json();
  assert.equal(body.code, "E_UNAUTHENTICATED");
}

Deno.test("auth (HS256): valid, missing, expired, wrong aud/iss, wrong alg, none, tampered, no exp", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const ok = await token("alice", ["reader"]);
    assert.equal((await get(gw, ok)).status, 200);

    await expect401(await get(gw, undefined), /missing bearer token/);
    await expect401(
      await gw.app.request("/v1/nodes", {
        headers: { authorization: "Basic abc" },
      }),
      /not a bearer/,
    );

    const key = enc.encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    /** An HS256 reader token of alice, changed by `o` (`exp: null`: no exp claim). */
    const signed = (
      o: {
        sub?: string;
        iss?: string;
        aud?: string;
        alg?: string;
        exp?: number | string | null;
      } = {},
    ) => {
      const jwt = new SignJWT({ roles: ["reader"] }).setSubject(
        o.sub ?? "alice",
      )
        .setIssuer(o.iss ?? ISSUER).setAudience(o.aud ?? AUDIENCE)
        .setProtectedHeader({ alg: o.alg ?? "HS256" });
      if (o.exp !== null) jwt.setExpirationTime(o.exp ?? "5m");
      return jwt.sign(key);
    };
    // Expired beyond the 30 s skew.
    await expect401(await get(gw, await signed({ exp: now - 120 })), /expired/);
    // Within the skew: accepted.
    assert.equal((await get(gw, await signed({ exp: now - 5 }))).status, 200);
    await expect401(
      await get(gw, await signed({ sub: "a", aud: "other" })),
      /aud/,
    );
    await expect401(
      await get(gw, await signed({ sub: "a", iss: "evil" })),
      /iss/,
    );
    // Algorithm not in the allow-list (HS512 with the right secret).
    await expect401(await get(gw, await signed({ alg: "HS512" })), /algorithm/);
    // alg none.
    const payload = {
      sub: "alice",
      iss: ISSUER,
      aud: AUDIENCE,
      exp: now + 300,
      roles: ["operator"],
    };
    const none = `${
      base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }))
    }.${base64url.encode(JSON.stringify(payload))}.`;
    await expect401(await get(gw, none), /./);
    // Tampered payload (roles escalated, signature kept).
    const [h, , s] = ok.split(".");
    const tampered = `${h}.${base64url.encode(JSON.stringify(payload))}.${s}`;
    await expect401(await get(gw, tampered), /signature/);
    // No exp claim.
    await expect401(await get(gw, await signed({ exp: null })), /exp/);
    // Tokens never appear in the logs.
    assert.ok(!gw.logs.some((l) => l.includes(ok) || l.includes(tampered)));
  });
});

Deno.test("auth (JWKS RS256): valid, unknown kid, alg confusion (HS256 signed with the public key)", async () => {
  const jwks = await startJwks();
  const { publicKey, privateKey } = jwks;
  const other = await generateKeyPair("RS256", { extractable: true });
  const gw = memoryGateway({
    worker: { autoStart: false },
    auth: createAuthenticator({
      jwksUrl: jwks.url,
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["RS256", "ES256"],
    }),
  });
  try {
    const sign = (key: Parameters<SignJWT["sign"]>[0], kid: string) =>
      new SignJWT({ roles: ["reader"] }).setSubject("bob").setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setProtectedHeader({ alg: "RS256", kid }).setExpirationTime("5m").sign(
          key,
        );
    assert.equal((await get(gw, await sign(privateKey, "k1"))).status, 200);
    await expect401(
      await get(gw, await sign(other.privateKey, "k9")),
      /kid|key/,
    );
    // Right kid, wrong key.
    await expect401(
      await get(gw, await sign(other.privateKey, "k1")),
      /signature/,
    );
    // Alg confusion: HS256 keyed with the RSA public key PEM.
    const pem = await exportSPKI(publicKey);
    const confused = await new SignJWT({ roles: ["operator"] }).setSubject(
      "eve",
    ).setIssuer(ISSUER)
      .setAudience(AUDIENCE).setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setExpirationTime("5m")
      .sign(enc.encode(pem));
    await expect401(await get(gw, confused), /algorithm|not allowed/);
  } finally {
    await closeAll(gw);
    await jwks.close();
  }
});

Deno.test("auth: configuration refuses none, short secrets and algorithms without keys", () => {
  assert.throws(() =>
    createAuthenticator({ secret: "short", issuer: "i", audience: "a" })
  );
  assert.throws(() =>
    createAuthenticator({
      secret: SECRET,
      issuer: "i",
      audience: "a",
      algorithms: ["none"],
    })
  );
  assert.throws(() =>
    createAuthenticator({
      secret: SECRET,
      issuer: "i",
      audience: "a",
      algorithms: ["RS256"],
    })
  );
  assert.throws(() => createAuthenticator({ issuer: "i", audience: "a" }));
});

Deno.test("signDevToken puts the roles under the configured rolesClaim", async () => {
  const { signDevToken } = await import("../../lib/gateway/mod.ts");
  const { decodeJwt } = await import("jose");
  const base = { secret: SECRET, issuer: ISSUER, audience: AUDIENCE };
  const custom = await signDevToken({
    ...base,
    rolesClaim: "qmtl_roles",
    subject: "dev",
    roles: ["submitter", "reader"],
    ttlS: 60,
  });
  assert.deepEqual(decodeJwt(custom).qmtl_roles, ["submitter", "reader"]);
  assert.equal(decodeJwt(custom).roles, undefined);
  const verified = await createAuthenticator({
    ...base,
    rolesClaim: "qmtl_roles",
  }).verify(custom);
  assert.deepEqual(verified.roles, ["submitter", "reader"]);
  // The default claim is still `roles`.
  const plain = await signDevToken({
    ...base,
    subject: "dev",
    roles: ["reader"],
    ttlS: 60,
  });
  assert.deepEqual(decodeJwt(plain).roles, ["reader"]);
  // A registered claim cannot carry roles.
  await assert.rejects(
    signDevToken({
      ...base,
      rolesClaim: "sub",
      subject: "dev",
      roles: ["reader"],
      ttlS: 60,
    }),
    /registered JWT claim/,
  );
});

Deno.test("auth: huge tokens are refused before parsing; the sub claim must be 1-256 printable characters", async () => {
  await withGateway({ worker: { autoStart: false } }, async (gw) => {
    const secret = enc.encode(SECRET);
    const signed = (sub: string) =>
      new SignJWT({ roles: ["reader"] })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(sub)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime("10m")
        .sign(secret);
    // A validly signed token of 300 KB (a huge claim): refused by size.
    const huge = await new SignJWT({
      roles: ["reader"],
      pad: "x".repeat(300_000),
    })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("alice")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("10m")
      .sign(secret);
    await expect401(await get(gw, huge), /longer than 8192 characters/);
    await expect401(await get(gw, "a".repeat(9000)), /longer than 8192/);
    // Just under the limit and well-formed but not a JWT: an ordinary 401.
    await expect401(await get(gw, "a.b.c"), /malformed token|invalid/i);
    // sub
    await expect401(
      await get(gw, await signed("x".repeat(257))),
      /the sub claim must be 1-256 printable characters/,
    );
    await expect401(
      await get(gw, await signed("bob\u0000root")),
      /sub claim/,
    );
    assert.equal((await get(gw, await signed("x".repeat(256)))).status, 200);
  });
});
