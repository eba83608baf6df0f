/**
 * A JWKS endpoint for the RS256 tests: a fresh RS256 key pair whose public
 * key (kid `k1`) a local HTTP server hands out as `{ keys: [jwk] }`.
 *
 * @module
 */

import { exportJWK, generateKeyPair } from "jose";

/** The served key pair and where its JWKS is. */
export interface JwksServer {
  /** The RS256 public key served (kid `k1`). */
  publicKey: CryptoKey;
  /** Its private key: tokens signed with it and kid `k1` verify. */
  privateKey: CryptoKey;
  /** URL of the JWKS document. */
  url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Generates the key pair and serves its JWKS on 127.0.0.1 (a free port). */
export async function startJwks(): Promise<JwksServer> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", {
    extractable: true,
  });
  const jwk = {
    ...(await exportJWK(publicKey)),
    kid: "k1",
    alg: "RS256",
    use: "sig",
  };
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    () => Response.json({ keys: [jwk] }),
  );
  return {
    publicKey,
    privateKey,
    url: `http://127.0.0.1:${server.addr.port}/jwks.json`,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}
