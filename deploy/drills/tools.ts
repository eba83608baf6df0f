/**
 * The programs a drill needs on `PATH`. A missing one stops the drill before
 * anything starts, with the install hint (exit status 3); the drill tests
 * fail on it under `CI=true`.
 *
 * @module
 */

/** A program the drill needs, and how to get it. */
export interface Tool {
  /** Executable name. */
  name: string;
  /** How to install it. */
  hint: string;
}

/** Redis members, Sentinels and `redis-cli` (used by `stack.sh`). */
export const REDIS_TOOLS: readonly Tool[] = [
  { name: "redis-server", hint: "apt-get install -y redis-server" },
  { name: "redis-sentinel", hint: "apt-get install -y redis-sentinel" },
  { name: "redis-cli", hint: "apt-get install -y redis-tools" },
];

/** The embedded Neo4j of `deploy/local/` (Java 17; Maven for the first build). */
export const NEO4J_TOOLS: readonly Tool[] = [
  {
    name: "java",
    hint: "install a Java 17 JDK (apt-get install -y openjdk-17-jdk-headless)",
  },
  { name: "mvn", hint: "apt-get install -y maven" },
];

/** One or more required programs are missing. */
export class MissingToolError extends Error {
  /** The missing tools. */
  readonly missing: Tool[];
  /** @param missing the tools not found on PATH */
  constructor(missing: Tool[]) {
    super(
      `missing tools: ${
        missing.map((t) => `${t.name} (${t.hint})`).join(", ")
      }`,
    );
    this.name = "MissingToolError";
    this.missing = missing;
  }
}

/**
 * True when `name` is an executable file in one of the `PATH` folders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onPath } from "./tools.ts";
 * assert.equal(onPath("bash"), true);
 * assert.equal(onPath("no-such-program-qmtl"), false);
 * ```
 */
export function onPath(
  name: string,
  path: string = Deno.env.get("PATH") ?? "",
): boolean {
  for (const dir of path.split(":")) {
    if (dir === "") continue;
    try {
      const st = Deno.statSync(`${dir}/${name}`);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/**
 * The tools of `tools` that are not on `PATH`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { missingTools } from "./tools.ts";
 * assert.deepEqual(missingTools([{ name: "bash", hint: "" }]), []);
 * ```
 */
export function missingTools(tools: readonly Tool[]): Tool[] {
  return tools.filter((t) => !onPath(t.name));
}

/**
 * Throw {@linkcode MissingToolError} unless every tool is on `PATH`.
 *
 * @example
 * ```ts
 * import { requireTools } from "./tools.ts";
 * requireTools([{ name: "bash", hint: "your OS package manager" }]);
 * ```
 */
export function requireTools(tools: readonly Tool[]): void {
  const missing = missingTools(tools);
  if (missing.length > 0) throw new MissingToolError(missing);
}
