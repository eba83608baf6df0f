/**
 * One webhook POST to an address checked in advance: the connection goes to
 * the IP address {@link resolveCallback} approved (node:http(s) `lookup`
 * hook), while the `Host` header, TLS server name and certificate check use
 * the URL's host name. A second DNS answer (rebinding) cannot redirect it.
 * Redirects are not followed; the response body is not read.
 *
 * @module
 */

import * as http from "node:http";
import * as https from "node:https";
import type { ResolvedAddress } from "./address_policy.ts";

/** What the receiver answered. */
export interface PostResult {
  /** HTTP status. */
  status: number;
  /** `Retry-After` header, if any. */
  retryAfter?: string;
}

type LookupCallback = (
  err: Error | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/**
 * POST `body` to `url`, connecting only to `addresses` (already checked;
 * the first, or any of them when the client tries several).
 *
 * @example
 * ```ts ignore
 * const r = await postPinned(
 *   new URL("https://hooks.example.com/x"),
 *   [{ address: "93.184.215.14", family: 4 }],
 *   body, {}, 5000,
 * );
 * ```
 */
export function postPinned(
  url: URL,
  addresses: readonly ResolvedAddress[],
  body: Uint8Array,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostResult> {
  const mod = url.protocol === "https:" ? https : http;
  const host = url.hostname.startsWith("[")
    ? url.hostname.slice(1, -1)
    : url.hostname;
  return new Promise<PostResult>((resolve, reject) => {
    const req = mod.request({
      method: "POST",
      protocol: url.protocol,
      hostname: host,
      port: url.port === "" ? undefined : Number(url.port),
      path: url.pathname + url.search,
      headers: { ...headers, "content-length": String(body.byteLength) },
      agent: false,
      signal: AbortSignal.timeout(timeoutMs),
      lookup: (
        _host: string,
        opts: { all?: boolean },
        cb: LookupCallback,
      ) => {
        if (opts?.all) cb(null, addresses.map((a) => ({ ...a })));
        else cb(null, addresses[0].address, addresses[0].family);
      },
    } as https.RequestOptions, (res) => {
      const ra = res.headers["retry-after"];
      resolve({
        status: res.statusCode ?? 0,
        retryAfter: Array.isArray(ra) ? ra[0] : ra,
      });
      // The body is not needed: do not let the receiver make us read it.
      res.destroy();
    });
    req.on("error", reject);
    req.end(body);
  });
}
