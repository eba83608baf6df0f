/**
 * What results.md says about the machine and the code: CPU, cores, Deno,
 * Redis and Neo4j versions, load average, git commit.
 *
 * @module
 */

import { createNeo4jDriver } from "../../lib/dag/neo4j/driver.ts";
import { configFromEnv } from "../../lib/gateway/server/config.ts";
import { createRedis } from "../../lib/queue/mod.ts";
import { hasProgram, output } from "./process.ts";
import type { Services } from "./types.ts";

/** Machine and software description of one run. */
export interface MachineInfo {
  /** CPU model name. */
  cpuModel: string;
  /** Logical CPUs. */
  cores: number;
  /** Total memory, GiB. */
  memoryGiB: number;
  /** Kernel. */
  os: string;
  /** Deno, V8, TypeScript. */
  deno: string;
  /** Redis server version, or why unknown. */
  redis: string;
  /** Neo4j server agent, or why unknown. */
  neo4j: string;
  /** wrk version line, or why unknown. */
  wrk: string;
}

/** The 1/5/15-minute load averages, from /proc/loadavg (or Deno.loadavg). */
export async function loadAverage(): Promise<string> {
  try {
    const t = await Deno.readTextFile("/proc/loadavg");
    return t.trim().split(/\s+/).slice(0, 3).join(" ");
  } catch {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  }
}

async function cpuModel(): Promise<string> {
  try {
    const t = await Deno.readTextFile("/proc/cpuinfo");
    return /^model name\s*:\s*(.+)$/m.exec(t)?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

async function redisVersion(url: string | undefined): Promise<string> {
  if (!url) return "not measured (QMTL_REDIS_URL unset)";
  const r = createRedis(url, { connectionName: "qmtl-bench-info" });
  try {
    const info = await r.info("server");
    const v = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
    return `Redis ${v} (${
      url.startsWith("redis+sentinel:") ? "Sentinel" : "standalone"
    })`;
  } catch (e) {
    return `unknown (${(e as Error).message})`;
  } finally {
    r.disconnect();
  }
}

async function neo4jVersion(url: string | undefined): Promise<string> {
  if (!url) return "not measured (QMTL_NEO4J_URL unset)";
  const options = configFromEnv({
    ...Deno.env.toObject(),
    QMTL_NEO4J_URL: url,
  }).neo4j;
  if (!options) return "unknown";
  const driver = createNeo4jDriver(options);
  try {
    const info = await driver.getServerInfo();
    return `${info.agent ?? "Neo4j"} (protocol ${info.protocolVersion ?? "?"})`;
  } catch (e) {
    return `unknown (${(e as Error).message})`;
  } finally {
    await driver.close();
  }
}

async function wrkVersion(): Promise<string> {
  if (!(await hasProgram("wrk"))) return "not installed";
  try {
    // `wrk -v` prints its version and usage and exits non-zero.
    const r = await new Deno.Command("wrk", {
      args: ["-v"],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const t = new TextDecoder().decode(r.stdout) +
      new TextDecoder().decode(r.stderr);
    return t.split("\n")[0].replace(/\s*Copyright.*$/, "").trim();
  } catch (e) {
    return `unknown (${(e as Error).message})`;
  }
}

/** Describe the machine and the services. */
export async function machineInfo(services: Services): Promise<MachineInfo> {
  const [model, redis, neo4j, wrk] = await Promise.all([
    cpuModel(),
    redisVersion(services.redisUrl),
    neo4jVersion(services.neo4jUrl),
    wrkVersion(),
  ]);
  const mem = Deno.systemMemoryInfo();
  return {
    cpuModel: model,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(mem.total / 2 ** 30 * 10) / 10,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    deno:
      `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript}`,
    redis,
    neo4j,
    wrk,
  };
}

/** `git rev-parse HEAD` plus a note when the work tree has changes. */
export async function gitCommit(root: URL): Promise<string> {
  const cwd = root.pathname;
  try {
    const head = (await output(["git", "-C", cwd, "rev-parse", "HEAD"])).trim();
    const subject =
      (await output(["git", "-C", cwd, "log", "-1", "--format=%s"])).trim();
    const dirty = (await output(["git", "-C", cwd, "status", "--porcelain"]))
      .trim();
    return `${head} (${subject})${dirty ? " + uncommitted changes" : ""}`;
  } catch (e) {
    return `unknown (${(e as Error).message})`;
  }
}
