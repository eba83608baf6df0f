/**
 * Strategies from a user's TypeScript file: every exported
 * `StrategyBuilder`, compiled `Strategy` (`builder.compile()`), or array of
 * them, in export order.
 *
 * @module
 */

import type { Strategy, StrategyBuilder } from "../builder.ts";
import { UsageError } from "./exit.ts";

/** A strategy found in a file: a builder or a compiled strategy. */
export type LoadedStrategy = StrategyBuilder | Strategy;

function isBuilder(v: unknown): v is StrategyBuilder {
  const b = v as StrategyBuilder;
  return typeof v === "object" && v !== null && typeof b.name === "string" &&
    typeof b.build === "function" && typeof b.compile === "function";
}

function isCompiled(v: unknown): v is Strategy {
  const s = v as Strategy;
  return typeof v === "object" && v !== null && typeof s.name === "string" &&
    typeof s.dag === "object" && s.dag !== null && Array.isArray(s.dag.nodes) &&
    Array.isArray(s.nodes);
}

/**
 * Import `file` (relative to `cwd`) and collect its strategies.
 *
 * @param file the module path
 * @param cwd the folder it is relative to
 * @returns the strategies, in export order (duplicates dropped)
 * @throws {UsageError} when the file cannot be imported or exports none
 * @example
 * ```ts ignore
 * import { loadStrategies } from "./load.ts";
 * const strategies = await loadStrategies("examples/strategies.ts", Deno.cwd());
 * ```
 */
export async function loadStrategies(
  file: string,
  cwd: string,
): Promise<LoadedStrategy[]> {
  const url = new URL(file, `file://${cwd.replace(/\/?$/, "/")}`);
  let mod: Record<string, unknown>;
  try {
    mod = await import(url.href);
  } catch (e) {
    throw new UsageError(
      `cannot import ${file}: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const found: LoadedStrategy[] = [];
  const add = (v: unknown) => {
    if ((isBuilder(v) || isCompiled(v)) && !found.includes(v)) found.push(v);
  };
  for (const value of Object.values(mod)) {
    if (Array.isArray(value)) value.forEach(add);
    else add(value);
  }
  if (found.length === 0) {
    throw new UsageError(
      `${file} exports no strategy: export StrategyBuilder objects, compiled strategies (builder.compile()) or arrays of them`,
    );
  }
  return found;
}

/**
 * The display name of a loaded strategy.
 *
 * @param s the strategy
 * @returns its name
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StrategyBuilder } from "@qmtl/qmtl/sdk";
 * import { strategyName } from "./load.ts";
 * assert.equal(strategyName(new StrategyBuilder("demo")), "demo");
 * ```
 */
export function strategyName(s: LoadedStrategy): string {
  return s.name;
}
