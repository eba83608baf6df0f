/**
 * The Gateway client of a command: `--url`, else `QMTL_URL`, else
 * `http://127.0.0.1:8080`; the token from `QMTL_TOKEN`.
 *
 * @module
 */

import { QmtlClient } from "../client.ts";
import { UsageError } from "./exit.ts";
import type { CliIo } from "./io.ts";

/** The default Gateway URL (what `deno task serve` listens on). */
export const DEFAULT_URL = "http://127.0.0.1:8080";

/**
 * A client for the command's Gateway.
 *
 * @param io the environment
 * @param url the `--url` option, if given
 * @returns the client
 * @throws {UsageError} when `QMTL_TOKEN` is not set or the URL is not http(s)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cliClient } from "./client.ts";
 * const c = cliClient({ out() {}, err() {}, env: { QMTL_TOKEN: "t" }, cwd: "/" });
 * assert.equal(c.url, "http://127.0.0.1:8080");
 * ```
 */
export function cliClient(io: CliIo, url?: string): QmtlClient {
  const token = io.env.QMTL_TOKEN;
  if (!token) {
    throw new UsageError(
      "QMTL_TOKEN is not set: export the token `deno task serve` prints, or sign one with `qmtl token` (dev mode, same machine)",
    );
  }
  const base = url ?? io.env.QMTL_URL ?? DEFAULT_URL;
  try {
    return new QmtlClient({ url: base, token });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
