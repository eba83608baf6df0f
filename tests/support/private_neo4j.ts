/**
 * A PRIVATE Neo4j for tests that kill it: `deploy/local/stack.sh
 * --neo4j-only` on a free Bolt port in a temporary folder (512 MiB heap),
 * so the shared stack's Neo4j is never touched. Starting takes 20-40 s on
 * a loaded machine (the embedded DBMS plus, after a kill, its recovery).
 *
 * @module
 */

import { freePorts, portFree, run as runCmd, STACK } from "./private_stack.ts";

async function run(args: string[], env: Record<string, string>) {
  await runCmd("bash", [STACK, ...args], env);
}

/** A running private Neo4j. */
export interface PrivateNeo4j {
  /** `bolt://127.0.0.1:<port>`. */
  url: string;
  /** SIGKILL it (a crash) and wait until its port closes. */
  kill(): Promise<void>;
  /** Start it again (`stack.sh up --neo4j-only`: recovery, then Bolt). */
  restart(): Promise<void>;
  /** Stop it and remove its folder. */
  down(): Promise<void>;
}

/**
 * Start a private Neo4j.
 *
 * @example
 * ```ts ignore
 * const db = await startPrivateNeo4j();
 * try { … } finally { await db.down(); }
 * ```
 */
export async function startPrivateNeo4j(): Promise<PrivateNeo4j> {
  const dir = await Deno.makeTempDir({ prefix: "qmtl-private-neo4j-" });
  const port = freePorts([0]);
  const env = {
    QMTL_STACK_DIR: dir,
    QMTL_STACK_BOLT_PORT: String(port),
    QMTL_STACK_NEO4J_HEAP: "512m",
  };
  const down = async () => {
    await run(["down"], env).catch((e) => console.error(String(e)));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await run(["up", "--neo4j-only"], env);
  } catch (e) {
    await down();
    throw e;
  }
  return {
    url: `bolt://127.0.0.1:${port}`,
    async kill() {
      const pid = Number(
        (await Deno.readTextFile(`${dir}/neo4j/neo4j.pid`)).trim(),
      );
      Deno.kill(pid, "SIGKILL");
      for (let i = 0; i < 200; i++) {
        let alive = true;
        try {
          Deno.kill(pid, "SIGCONT");
        } catch {
          alive = false;
        }
        if (!alive && portFree(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    restart: () => run(["up", "--neo4j-only"], env),
    down,
  };
}
