/**
 * The Gateway client of the examples that talk to a server: `QMTL_URL`
 * (default `http://127.0.0.1:8080`) and `QMTL_TOKEN` — without a token the
 * example says how to get one and exits 2.
 *
 * @module
 */

import { QmtlClient } from "@qmtl/qmtl/sdk";

/**
 * A client for the server of `QMTL_URL`, with the token of `QMTL_TOKEN`;
 * exits the process (status 2) when `QMTL_TOKEN` is not set.
 *
 * @example
 * ```ts ignore
 * import { clientFromEnv } from "./common/env_client.ts";
 * const client = clientFromEnv();
 * console.log(await client.get("st_1"));
 * ```
 */
export function clientFromEnv(): QmtlClient {
  const url = Deno.env.get("QMTL_URL") ?? "http://127.0.0.1:8080";
  const token = Deno.env.get("QMTL_TOKEN");
  if (!token) {
    console.error(
      "QMTL_TOKEN is not set: start `deno task serve` and copy the dev token it prints.",
    );
    Deno.exit(2);
  }
  return new QmtlClient({ url, token });
}
