/**
 * `qmtl token`: sign a dev token with the dev key the reference server
 * keeps in its state folder (dev mode, same machine and user).
 *
 * @module
 */

import { signDevToken } from "../../../lib/gateway/auth/mod.ts";
import type { Role } from "../../../lib/gateway/types.ts";
import { ROLES } from "../../../lib/gateway/types.ts";
import { stateDirFromEnv } from "../../../lib/gateway/server/config.ts";
import {
  DevKeyError,
  readDevKey,
} from "../../../lib/gateway/server/dev_key.ts";
import { parseOrHelp, positiveInt } from "../args.ts";
import type { Command } from "../command.ts";
import { EXIT, UsageError } from "../exit.ts";
import { isoTime } from "../io.ts";

/**
 * The `token` command.
 *
 * @example
 * ```ts ignore
 * import { token } from "./token.ts";
 * await token.run(["--roles", "reader"], io);
 * ```
 */
export const token: Command = {
  name: "token",
  summary: "sign a dev token with the dev server's kept key",
  usage:
    `usage: qmtl token [--subject NAME] [--roles ROLE,ROLE] [--ttl SECONDS] [--json]

Signs an HS256 token with the dev key of a reference server in dev mode
(no QMTL_JWT_SECRET): {QMTL_STATE_DIR}/dev-jwt.key, default
~/.local/state/qmtl/dev-jwt.key — the same file the server reads, so run it
as the same user with the same QMTL_STATE_DIR. Issuer, audience and roles
claim follow QMTL_JWT_ISSUER, QMTL_JWT_AUDIENCE, QMTL_JWT_ROLES_CLAIM.
Defaults: subject dev, roles submitter,reader,operator, 3600 s.
Prints an export line, for:  eval "$(deno task --quiet qmtl token)"`,
  async run(args, io) {
    const p = parseOrHelp(this, args, io, {
      options: {
        subject: { type: "string" },
        roles: { type: "string" },
        ttl: { type: "string" },
      },
    });
    if (!p) return EXIT.OK;
    const roles = ((p.values.roles as string | undefined) ??
      "submitter,reader,operator").split(",").map((r) => r.trim()).filter((
        r,
      ) => r !== "");
    const bad = roles.filter((r) => !(ROLES as string[]).includes(r));
    if (roles.length === 0 || bad.length > 0) {
      throw new UsageError(
        `token: --roles takes ${ROLES.join(", ")} (got ${
          bad.join(", ") || "none"
        })`,
      );
    }
    const ttlS = positiveInt("token", "ttl", p.values.ttl) ?? 3600;
    const dir = stateDirFromEnv(io.env);
    if (!dir) {
      throw new UsageError(
        "token: no state folder (set QMTL_STATE_DIR or HOME)",
      );
    }
    let key;
    try {
      key = await readDevKey(dir);
    } catch (e) {
      if (e instanceof DevKeyError) throw new UsageError(`token: ${e.message}`);
      throw e;
    }
    const subject = (p.values.subject as string | undefined) ?? "dev";
    const jwt = await signDevToken({
      secret: key.secret,
      issuer: io.env.QMTL_JWT_ISSUER || "qmtl",
      audience: io.env.QMTL_JWT_AUDIENCE || "qmtl-gateway",
      rolesClaim: io.env.QMTL_JWT_ROLES_CLAIM || "roles",
      subject,
      roles: roles as Role[],
      ttlS,
    });
    const expires = isoTime(Date.now() + ttlS * 1000);
    if (p.values.json) {
      io.out(JSON.stringify({
        token: jwt,
        subject,
        roles,
        expiresAt: expires,
        keyFile: key.path,
      }));
    } else {
      io.out(`export QMTL_TOKEN=${jwt}`);
      io.err(
        `qmtl: token for ${subject} (${
          roles.join(", ")
        }), valid until ${expires}, signed with ${key.path}`,
      );
    }
    return EXIT.OK;
  },
};
