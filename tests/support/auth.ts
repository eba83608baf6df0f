/**
 * The test suites' one token setup: the HS256 settings of an in-process or
 * subprocess Gateway and a signer of dev tokens for them.
 *
 * @module
 */

import { type Role, signDevToken } from "../../lib/gateway/mod.ts";

/** HS256 settings every test Gateway uses (`auth` option / `QMTL_JWT_*`). */
export const TEST_AUTH: {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
} = {
  secret: "test-secret-0123456789abcdef-0123456789",
  issuer: "qmtl",
  audience: "qmtl-gateway",
};

/** Signs a dev token for `subject` with `roles` (default TTL 600 s). */
export type TokenSigner = (
  subject: string,
  roles: Role[],
  ttlS?: number,
) => Promise<string>;

/** A {@link TokenSigner} for `auth` (default {@link TEST_AUTH}). */
export function signerFor(
  auth: { secret: string; issuer: string; audience: string } = TEST_AUTH,
): TokenSigner {
  return (subject, roles, ttlS = 600) =>
    signDevToken({ ...auth, subject, roles, ttlS });
}

/** A token of {@link TEST_AUTH} for `subject` with `roles`. */
export const token: TokenSigner = signerFor();
