/**
 * Where webhooks may go: the SSRF guard of callback URLs. By default a
 * callback may only reach a public (globally routable) address: loopback,
 * private (RFC 1918, IPv6 unique-local and site-local), link-local (including
 * the `169.254.169.254` metadata endpoint), unspecified, multicast, shared
 * address space (CGNAT `100.64.0.0/10`) and other reserved ranges are
 * refused, for IPv4 and IPv6 alike, including IPv4 addresses embedded in IPv6
 * (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`).
 * Names under `localhost` are loopback by definition (RFC 6761).
 *
 * An explicit allow-list (for local development) admits more: entries are
 * `host`, `host:port`, an IP address (`127.0.0.1`, `[::1]:8080`), or a CIDR
 * block (`10.0.0.0/8`, `fd00::/8`, any port). A name entry trusts that name
 * whatever it resolves to; an address or CIDR entry admits those addresses
 * under any name.
 *
 * @module
 */

/** The class of an IP address; only `public` is reachable by default. */
export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "unspecified"
  | "multicast"
  | "cgnat"
  | "reserved";

const CLASS_TEXT: Record<AddressClass, string> = {
  public: "a public address",
  loopback: "a loopback address",
  private: "a private address",
  "link-local": "a link-local address",
  unspecified: "the unspecified address",
  multicast: "a multicast address",
  cgnat: "a shared (CGNAT, 100.64.0.0/10) address",
  reserved: "a reserved (not globally routable) address",
};

/** A parsed IP address: 4 or 16 bytes. */
export interface IpAddress {
  /** 4 or 6. */
  family: 4 | 6;
  /** Network-order bytes. */
  bytes: Uint8Array;
}

function parseV4(s: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return undefined;
  return new Uint8Array(b);
}

function parseV6(input: string): Uint8Array | undefined {
  let s = input;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && it.includes(".")) {
        const v4 = parseV4(it);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [
    ...head,
    ...new Array(halves.length === 2 ? fill : 0).fill(0),
    ...tail,
  ];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/**
 * Parse an IP address (dotted IPv4, or IPv6 with or without brackets and
 * zone). IPv4-mapped IPv6 addresses come back as IPv4.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIp } from "./address_policy.ts";
 * assert.equal(parseIp("::ffff:127.0.0.1")?.family, 4);
 * assert.equal(parseIp("example.com"), undefined);
 * ```
 */
export function parseIp(text: string): IpAddress | undefined {
  const s = text.startsWith("[") && text.endsWith("]")
    ? text.slice(1, -1)
    : text;
  const v4 = parseV4(s);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseV6(s);
  if (!v6) return undefined;
  if (
    v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff &&
    v6[11] === 0xff
  ) {
    return { family: 4, bytes: v6.slice(12) };
  }
  return { family: 6, bytes: v6 };
}

function classifyV4(b: Uint8Array): AddressClass {
  const [a, c] = [b[0], b[1]];
  if (a === 0) return "unspecified";
  if (a === 10) return "private";
  if (a === 100 && (c & 0xc0) === 64) return "cgnat";
  if (a === 127) return "loopback";
  if (a === 169 && c === 254) return "link-local";
  if (a === 172 && (c & 0xf0) === 16) return "private";
  if (a === 192 && c === 168) return "private";
  if (a === 192 && c === 0 && (b[2] === 0 || b[2] === 2)) return "reserved";
  if (a === 192 && c === 88 && b[2] === 99) return "reserved";
  if (a === 198 && (c & 0xfe) === 18) return "reserved";
  if (a === 198 && c === 51 && b[2] === 100) return "reserved";
  if (a === 203 && c === 0 && b[2] === 113) return "reserved";
  if (a >= 224 && a <= 239) return "multicast";
  if (a >= 240) return "reserved";
  return "public";
}

function classifyV6(b: Uint8Array): AddressClass {
  const zeroTo = (n: number) => b.subarray(0, n).every((x) => x === 0);
  if (zeroTo(16)) return "unspecified";
  if (zeroTo(15) && b[15] === 1) return "loopback";
  // IPv4-compatible (deprecated): no legitimate use.
  if (zeroTo(12)) return "reserved";
  // NAT64 well-known prefix 64:ff9b::/96: the embedded IPv4 decides.
  if (
    b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b &&
    b.subarray(4, 12).every((x) => x === 0)
  ) return classifyV4(b.subarray(12));
  // 6to4 2002::/16: the embedded IPv4 decides.
  if (b[0] === 0x20 && b[1] === 0x02) return classifyV4(b.subarray(2, 6));
  if (b[0] === 0xff) return "multicast";
  if ((b[0] & 0xfe) === 0xfc) return "private";
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return "link-local";
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return "private";
  // 2001::/23 (IETF protocol assignments, Teredo) and 2001:db8::/32 (documentation).
  if (b[0] === 0x20 && b[1] === 0x01 && (b[2] & 0xfe) === 0) return "reserved";
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) {
    return "reserved";
  }
  // Only 2000::/3 is global unicast.
  return (b[0] & 0xe0) === 0x20 ? "public" : "reserved";
}

/**
 * The class of an IP address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyAddress, parseIp } from "./address_policy.ts";
 * assert.equal(classifyAddress(parseIp("169.254.169.254")!), "link-local");
 * assert.equal(classifyAddress(parseIp("::ffff:10.0.0.1")!), "private");
 * assert.equal(classifyAddress(parseIp("93.184.215.14")!), "public");
 * ```
 */
export function classifyAddress(ip: IpAddress): AddressClass {
  return ip.family === 4 ? classifyV4(ip.bytes) : classifyV6(ip.bytes);
}

/** One entry of a callback allow-list. */
export type AllowEntry =
  | { kind: "name"; name: string; port?: number; text: string }
  | { kind: "ip"; ip: IpAddress; port?: number; text: string }
  | { kind: "cidr"; ip: IpAddress; prefix: number; text: string };

function portOf(s: string, entry: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) {
    throw new RangeError(
      `allow-list entry ${JSON.stringify(entry)}: bad port ${
        JSON.stringify(s)
      }`,
    );
  }
  return Number(s);
}

/**
 * Parse allow-list entries (a comma-separated string or a list): `host`,
 * `host:port`, `1.2.3.4`, `1.2.3.4:port`, `[v6]`, `[v6]:port`, a bare IPv6
 * address, or a CIDR block `addr/len`.
 *
 * @throws {RangeError} naming the first bad entry
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAllowHosts } from "./address_policy.ts";
 * const list = parseAllowHosts("localhost:8080, 10.0.0.0/8, [::1]");
 * assert.deepEqual(list.map((e) => e.kind), ["name", "cidr", "ip"]);
 * ```
 */
export function parseAllowHosts(
  spec: string | readonly string[],
): AllowEntry[] {
  const items = (typeof spec === "string" ? spec.split(",") : [...spec])
    .map((s) => s.trim()).filter((s) => s !== "");
  return items.map((text): AllowEntry => {
    const bad = (why: string) =>
      new RangeError(`allow-list entry ${JSON.stringify(text)}: ${why}`);
    const slash = text.indexOf("/");
    if (slash >= 0) {
      const ip = parseIp(text.slice(0, slash));
      const len = text.slice(slash + 1);
      if (!ip) throw bad("a CIDR block needs an IP address before /");
      const max = ip.family === 4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(len) || Number(len) > max) {
        throw bad(`prefix length must be 0-${max}`);
      }
      return { kind: "cidr", ip, prefix: Number(len), text };
    }
    const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
    if (bracket) {
      const ip = parseIp(bracket[1]);
      if (!ip) throw bad("not an IPv6 address in brackets");
      return {
        kind: "ip",
        ip,
        port: bracket[2] === undefined ? undefined : portOf(bracket[2], text),
        text,
      };
    }
    if ((text.match(/:/g) ?? []).length >= 2) {
      const ip = parseIp(text);
      if (!ip) throw bad("not an IPv6 address (use [addr]:port for a port)");
      return { kind: "ip", ip, text };
    }
    const [host, port] = text.split(":");
    const p = port === undefined ? undefined : portOf(port, text);
    const ip = parseIp(host);
    if (ip) return { kind: "ip", ip, port: p, text };
    if (
      !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/
        .test(host)
    ) {
      throw bad("not a host name, IP address or CIDR block");
    }
    return {
      kind: "name",
      name: host.toLowerCase().replace(/\.$/, ""),
      port: p,
      text,
    };
  });
}

function inCidr(ip: IpAddress, net: IpAddress, prefix: number): boolean {
  if (ip.family !== net.family) return false;
  const full = prefix >> 3, rest = prefix & 7;
  for (let i = 0; i < full; i++) if (ip.bytes[i] !== net.bytes[i]) return false;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip.bytes[full] & mask) === (net.bytes[full] & mask);
}

function sameIp(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.bytes.every((x, i) => x === b.bytes[i]);
}

/** True when a name entry admits `host:port`. */
function nameAllowed(
  list: readonly AllowEntry[],
  host: string,
  port: number,
): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return list.some((e) =>
    e.kind === "name" && e.name === h &&
    (e.port === undefined || e.port === port)
  );
}

/** True when an address or CIDR entry admits `ip` on `port`. */
function addressAllowed(
  list: readonly AllowEntry[],
  ip: IpAddress,
  port: number,
): boolean {
  return list.some((e) =>
    (e.kind === "ip" && sameIp(e.ip, ip) &&
      (e.port === undefined || e.port === port)) ||
    (e.kind === "cidr" && inCidr(ip, e.ip, e.prefix))
  );
}

/**
 * A callback URL that may not be called: says which host, which address and
 * why. `permanent` is true when only a configuration change can admit it (an
 * IP literal, a `localhost` name, a bad scheme), false when it depends on
 * what a name resolves to now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CallbackRefusedError } from "@qmtl/qmtl/gateway";
 * const e = new CallbackRefusedError("callback_url host 127.0.0.1 is a loopback address", true);
 * assert.equal(e.name, "CallbackRefusedError");
 * ```
 */
export class CallbackRefusedError extends Error {
  /** True when no DNS change can make the URL acceptable. */
  readonly permanent: boolean;
  /**
   * Build the refusal.
   *
   * @param message what was refused and why
   * @param permanent see {@link CallbackRefusedError.permanent}
   */
  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = "CallbackRefusedError";
    this.permanent = permanent;
  }
}

const HINT = "not allowed for webhooks (allow-list: QMTL_WEBHOOK_ALLOW_HOSTS)";

/** The URL's host without brackets, and its effective port. */
function hostAndPort(u: URL): { host: string; port: number } {
  const host = u.hostname.startsWith("[")
    ? u.hostname.slice(1, -1)
    : u.hostname;
  const port = u.port !== ""
    ? Number(u.port)
    : u.protocol === "https:"
    ? 443
    : 80;
  return { host, port };
}

/**
 * Check a callback URL without DNS (submit time): scheme http/https, and an
 * IP-literal host or a `localhost` name must be allowed. Other names pass
 * here and are checked after resolution, at delivery.
 *
 * @throws {CallbackRefusedError} saying what is refused
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCallbackUrl } from "@qmtl/qmtl/gateway";
 * import { parseAllowHosts } from "./address_policy.ts";
 * assert.throws(() => checkCallbackUrl("http://169.254.169.254/latest", []), /link-local/);
 * checkCallbackUrl("http://127.0.0.1:9000/hook", parseAllowHosts("127.0.0.1:9000"));
 * checkCallbackUrl("https://hooks.example.com/q", []);
 * ```
 */
export function checkCallbackUrl(
  url: string,
  allow: readonly AllowEntry[],
): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CallbackRefusedError("callback_url is not a URL", true);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new CallbackRefusedError("callback_url must be http or https", true);
  }
  const { host, port } = hostAndPort(u);
  if (nameAllowed(allow, host, port)) return u;
  const ip = parseIp(host);
  if (ip) {
    const cls = classifyAddress(ip);
    if (cls !== "public" && !addressAllowed(allow, ip, port)) {
      throw new CallbackRefusedError(
        `callback_url host ${u.hostname} is ${CLASS_TEXT[cls]}: ${HINT}`,
        true,
      );
    }
    return u;
  }
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) {
    throw new CallbackRefusedError(
      `callback_url host ${u.hostname} is a loopback name: ${HINT}`,
      true,
    );
  }
  return u;
}

/** An address a callback may be connected to (checked). */
export interface ResolvedAddress {
  /** The IP address. */
  address: string;
  /** 4 or 6. */
  family: 4 | 6;
}

/** Resolves a host name to its IP addresses (tests inject a stand-in). */
export type Resolver = (host: string) => Promise<string[]>;

/**
 * Check a callback URL at delivery time: {@link checkCallbackUrl}, then the
 * host's addresses (every one must be public or allowed, unless the name
 * itself is allowed). Returns the addresses to connect to — the ones checked,
 * so that a second DNS answer cannot swap them (DNS rebinding).
 *
 * @throws {CallbackRefusedError} saying which address is refused and why
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveCallback } from "./address_policy.ts";
 * const resolve = () => Promise.resolve(["10.1.2.3"]);
 * await assert.rejects(
 *   resolveCallback("https://hooks.example.com/x", [], resolve),
 *   /resolves to 10\.1\.2\.3, a private address/,
 * );
 * ```
 */
export async function resolveCallback(
  url: string,
  allow: readonly AllowEntry[],
  resolve: Resolver,
): Promise<{ url: URL; addresses: ResolvedAddress[] }> {
  const u = checkCallbackUrl(url, allow);
  const { host, port } = hostAndPort(u);
  const literal = parseIp(host);
  if (literal) {
    return {
      url: u,
      addresses: [{ address: host, family: host.includes(":") ? 6 : 4 }],
    };
  }
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (e) {
    throw new CallbackRefusedError(
      `callback_url host ${host} does not resolve: ${
        (e as Error)?.message ?? e
      }`,
      false,
    );
  }
  if (addresses.length === 0) {
    throw new CallbackRefusedError(
      `callback_url host ${host} has no address`,
      false,
    );
  }
  const trusted = nameAllowed(allow, host, port);
  for (const a of addresses) {
    const ip = parseIp(a);
    if (!ip) {
      throw new CallbackRefusedError(
        `callback_url host ${host} resolved to ${a}, not an IP address`,
        false,
      );
    }
    const cls = classifyAddress(ip);
    if (!trusted && cls !== "public" && !addressAllowed(allow, ip, port)) {
      throw new CallbackRefusedError(
        `callback_url host ${host} resolves to ${a}, ${
          CLASS_TEXT[cls]
        }: ${HINT}`,
        false,
      );
    }
  }
  return {
    url: u,
    addresses: addresses.map((address) => ({
      address,
      family: address.includes(":") ? 6 : 4,
    })),
  };
}
