// JWT attacks on EVERY authenticated route (RPC, REST, SSE, ops): no or
// malformed credentials, alg "none", HS/RS confusion (HS256 keyed with the
// RSA public key), unknown keys and kids, forged signatures, expired,
// not-yet-valid, wrong audience or issuer, no exp, huge tokens and claims.
// The server accepts HS256 (secret) and RS256 (JWKS). Every attempt is a 401
// with a Bearer challenge; nothing is written; a canary is served.
import assert from "node:assert/strict";
import { base64url, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { ROUTES } from "../../lib/gateway/mod.ts";
import {
  AUDIENCE,
  expect4xx,
  hfetch,
  hostile,
  ISSUER,
  rpcHeaders,
  SECRET,
  startTarget,
} from "./harness.ts";
import { startJwks } from "../support/jwks.ts";

const enc = new TextEncoder();

Deno.test({
  name:
    "hostile: JWT attacks on every authenticated route are 401 with a Bearer challenge; nothing written",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const jwks = await startJwks();
    const { publicKey, privateKey } = jwks;
    const other = await generateKeyPair("RS256", { extractable: true });
    const rs512 = await generateKeyPair("RS512");
    const target = await startTarget("memory", {
      QMTL_JWT_JWKS_URL: jwks.url,
      QMTL_JWT_ALGORITHMS: "HS256,RS256",
    });
    const secret = enc.encode(SECRET);
    const claims = { roles: ["reader", "submitter", "operator", "service"] };
    const base = () =>
      new SignJWT(claims).setSubject("eve").setIssuer(ISSUER).setAudience(
        AUDIENCE,
      );
    const now = Math.floor(Date.now() / 1000);
    const pem = await exportSPKI(publicKey);
    const attacks: [string, string | null][] = [
      ["no authorization header", null],
      ["empty bearer", "Bearer "],
      ["basic auth", "Basic YWxpY2U6c2VjcmV0"],
      ["not a JWT", "Bearer not.a.jwt"],
      ["two parts", "Bearer abc.def"],
      [
        'alg "none"',
        "Bearer " + base64url.encode('{"alg":"none","typ":"JWT"}') + "." +
        base64url.encode(
          JSON.stringify({
            sub: "eve",
            iss: ISSUER,
            aud: AUDIENCE,
            exp: now + 600,
            roles: ["operator"],
          }),
        ) + ".",
      ],
      [
        "HS256 keyed with the RSA public key (alg confusion)",
        "Bearer " + await base().setProtectedHeader({ alg: "HS256", kid: "k1" })
          .setExpirationTime("5m").sign(enc.encode(pem)),
      ],
      [
        "RS256 with an unknown key, known kid",
        "Bearer " + await base().setProtectedHeader({ alg: "RS256", kid: "k1" })
          .setExpirationTime("5m").sign(other.privateKey),
      ],
      [
        "RS256 with an unknown kid",
        "Bearer " + await base().setProtectedHeader({ alg: "RS256", kid: "zz" })
          .setExpirationTime("5m").sign(privateKey),
      ],
      [
        "RS512 (not allowed)",
        "Bearer " + await base().setProtectedHeader({ alg: "RS512", kid: "k1" })
          .setExpirationTime("5m").sign(rs512.privateKey),
      ],
      [
        "HS256 with a wrong secret",
        "Bearer " + await base().setProtectedHeader({ alg: "HS256" })
          .setExpirationTime("5m").sign(enc.encode("w".repeat(40))),
      ],
      [
        "expired",
        "Bearer " + await base().setProtectedHeader({ alg: "HS256" })
          .setExpirationTime(now - 3600).sign(secret),
      ],
      [
        "not yet valid",
        "Bearer " + await base().setProtectedHeader({ alg: "HS256" })
          .setNotBefore(now + 3600).setExpirationTime(now + 7200).sign(secret),
      ],
      [
        "wrong audience",
        "Bearer " + await new SignJWT(claims).setSubject("eve").setIssuer(
          ISSUER,
        ).setAudience("someone-else").setProtectedHeader({ alg: "HS256" })
          .setExpirationTime("5m").sign(secret),
      ],
      [
        "wrong issuer",
        "Bearer " + await new SignJWT(claims).setSubject("eve").setIssuer(
          "evil",
        ).setAudience(AUDIENCE).setProtectedHeader({ alg: "HS256" })
          .setExpirationTime("5m").sign(secret),
      ],
      [
        "no exp",
        "Bearer " + await base().setProtectedHeader({ alg: "HS256" }).sign(
          secret,
        ),
      ],
      [
        "huge token (20 KB claim)",
        "Bearer " + await new SignJWT({ ...claims, pad: "p".repeat(20_000) })
          .setSubject("eve").setIssuer(ISSUER).setAudience(AUDIENCE)
          .setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m")
          .sign(secret),
      ],
      [
        "huge sub claim",
        "Bearer " + await new SignJWT(claims).setSubject("e".repeat(5_000))
          .setIssuer(ISSUER).setAudience(AUDIENCE)
          .setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m")
          .sign(secret),
      ],
      [
        "tampered payload (roles raised)",
        await (async () => {
          const good = await new SignJWT({ roles: ["reader"] }).setSubject(
            "eve",
          ).setIssuer(ISSUER).setAudience(AUDIENCE).setProtectedHeader({
            alg: "HS256",
          }).setExpirationTime("5m").sign(secret);
          const [h, , s] = good.split(".");
          const p = base64url.encode(JSON.stringify({
            sub: "eve",
            iss: ISSUER,
            aud: AUDIENCE,
            exp: now + 600,
            roles: ["operator"],
          }));
          return `Bearer ${h}.${p}.${s}`;
        })(),
      ],
    ];
    try {
      await hostile(target, async () => {
        for (const route of ROUTES.filter((r) => r.roles !== "public")) {
          await t.step(route.id, async () => {
            const path = route.path.replace(/:[A-Za-z]+/g, "x1");
            for (const [what, auth] of attacks) {
              const headers: Record<string, string> = route.kind === "rpc"
                ? rpcHeaders(undefined)
                : {};
              if (auth !== null) headers.authorization = auth;
              const res = await hfetch(target.url + path, {
                method: route.method,
                headers,
                body: route.method === "POST" ? new Uint8Array(8) : undefined,
                signal: AbortSignal.timeout(10_000),
              });
              const text = await expect4xx(res, `${route.id}: ${what}`, 401);
              assert.match(text, /E_UNAUTHENTICATED/, `${route.id}: ${what}`);
              if (route.kind !== "rpc") {
                assert.match(
                  res.headers.get("www-authenticate") ?? "",
                  /^Bearer realm="qmtl"/,
                );
              }
            }
          });
        }
      });
      // The legitimate RS256 and HS256 tokens work (the attacks did not
      // lock anything out).
      for (
        const ok of [
          await base().setProtectedHeader({ alg: "RS256", kid: "k1" })
            .setExpirationTime("5m").sign(privateKey),
          await base().setProtectedHeader({ alg: "HS256" })
            .setExpirationTime("5m").sign(secret),
        ]
      ) {
        const res = await hfetch(`${target.url}/v1/nodes`, {
          headers: { authorization: `Bearer ${ok}` },
        });
        assert.equal(res.status, 200, await res.text());
      }
    } finally {
      await target.close();
      await jwks.close();
    }
  },
});
