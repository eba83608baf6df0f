/**
 * The dev-mode signing key, kept across restarts: a random HS256 secret in
 * `{stateDir}/dev-jwt.key` (folder mode 0700, file mode 0600), created on
 * the first dev-mode start and read on every later one, so a dev token
 * keeps working after the server restarts. `deno task qmtl token` signs
 * with the same file.
 *
 * @module
 */

/** File name of the dev key inside the state folder. */
export const DEV_KEY_FILE = "dev-jwt.key";

/**
 * The dev key and where it lives.
 *
 * @example
 * ```ts
 * import type { DevKey } from "@qmtl/qmtl/server";
 * const k: DevKey = { secret: "ab".repeat(32), path: "/tmp/s/dev-jwt.key", created: true };
 * ```
 */
export interface DevKey {
  /** The HS256 secret (64 hex digits). */
  secret: string;
  /** The file it is kept in; undefined when it could not be kept. */
  path?: string;
  /** True when this call generated it. */
  created: boolean;
  /** Why the key is not kept (tokens then die with the process). */
  warning?: string;
}

/**
 * A dev key file that exists but cannot be used.
 *
 * @example
 * ```ts
 * import { DevKeyError } from "@qmtl/qmtl/server";
 * const e = new DevKeyError("/tmp/s/dev-jwt.key", "not 64 hex digits");
 * console.log(e.message);
 * ```
 */
export class DevKeyError extends Error {
  /** The file. */
  readonly path: string;
  /**
   * A dev key file that cannot be used.
   *
   * @param path the file
   * @param problem what is wrong with it
   * @param hint what to do; default: delete it to get a new one
   */
  constructor(
    path: string,
    problem: string,
    hint =
      "delete it to generate a new one; tokens signed with the old key stop working",
  ) {
    super(`dev key ${path}: ${problem} (${hint})`);
    this.name = "DevKeyError";
    this.path = path;
  }
}

const KEY = /^[0-9a-f]{64}$/;

function join(dir: string, file: string): string {
  return /[\\/]$/.test(dir) ? dir + file : `${dir}/${file}`;
}

function randomHex(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function granted(name: "read" | "write", path: string): boolean {
  return Deno.permissions.querySync({ name, path }).state === "granted";
}

async function readKey(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const secret = text.trim();
  if (!KEY.test(secret)) throw new DevKeyError(path, "not 64 hex digits");
  if (Deno.build.os !== "windows") {
    const mode = (await Deno.stat(path)).mode ?? 0;
    if ((mode & 0o077) !== 0) {
      throw new DevKeyError(
        path,
        `readable by others (mode ${
          (mode & 0o777).toString(8)
        }; expected 600: chmod 600 it)`,
      );
    }
  }
  return secret;
}

/**
 * Read the dev key of `stateDir`, or create it (mode 0600) when there is
 * none. When the folder is not given, not writable or not permitted
 * (`--allow-write`), a key for this process only is returned with a
 * `warning` saying so.
 *
 * @param stateDir the state folder (see `stateDirFromEnv`)
 * @returns the key, its file and whether it was created now
 * @throws {DevKeyError} when the file exists but is malformed or readable by others
 * @example
 * ```ts
 * import { loadDevKey } from "@qmtl/qmtl/server";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const first = await loadDevKey(dir);
 * const again = await loadDevKey(dir);
 * assert.equal(first.created, true);
 * assert.equal(again.secret, first.secret);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadDevKey(
  stateDir: string | undefined,
): Promise<DevKey> {
  const ephemeral = (why: string): DevKey => ({
    secret: randomHex(),
    created: true,
    warning:
      `${why}: the dev key lives in this process only, so its tokens stop working when it restarts`,
  });
  if (!stateDir) return ephemeral("no state folder (set QMTL_STATE_DIR)");
  const path = join(stateDir, DEV_KEY_FILE);
  if (!granted("read", path)) {
    return ephemeral(`no read permission for ${path}`);
  }
  const existing = await readKey(path);
  if (existing !== undefined) return { secret: existing, path, created: false };
  if (!granted("write", stateDir)) {
    return ephemeral(`no write permission for ${stateDir} (--allow-write)`);
  }
  const secret = randomHex();
  try {
    await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(path, secret + "\n", {
      createNew: true,
      mode: 0o600,
    });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      // Another process created it first: use theirs.
      const theirs = await readKey(path);
      if (theirs !== undefined) return { secret: theirs, path, created: false };
    }
    return ephemeral(`cannot write ${path}: ${(e as Error).message}`);
  }
  return { secret, path, created: true };
}

/**
 * Read an existing dev key (for signing tokens outside the server).
 *
 * @param stateDir the state folder (see `stateDirFromEnv`)
 * @returns the secret and its file
 * @throws {DevKeyError} when there is no usable key file
 * @example
 * ```ts
 * import { loadDevKey, readDevKey } from "@qmtl/qmtl/server";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const { secret } = await loadDevKey(dir);
 * assert.equal((await readDevKey(dir)).secret, secret);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readDevKey(
  stateDir: string,
): Promise<{ secret: string; path: string }> {
  const path = join(stateDir, DEV_KEY_FILE);
  const secret = await readKey(path);
  if (secret === undefined) {
    throw new DevKeyError(
      path,
      "no such file",
      "start the server in dev mode once (`deno task serve` without QMTL_JWT_SECRET) to create it, with the same QMTL_STATE_DIR",
    );
  }
  return { secret, path };
}
