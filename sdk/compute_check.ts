/**
 * The closure check of compute functions: which names a function reads from
 * its enclosing scope.
 *
 * A node's identity covers its compute function's code and its params, not
 * the values the function captures from a closure. Two nodes made by one
 * factory with different captured settings would get one ID and share one
 * output — wrong results, silently. So the builder refuses a compute function
 * that reads a name from its enclosing scope unless the name is a global of
 * the runtime (`Math`, `Number`, …) or is declared in the node's `uses`
 * (helper functions, hashed with the node, or libraries). Settings go in
 * `params`, which the function receives as its second argument.
 *
 * Scope analysis is eslint-scope's (the one ESLint uses) on acorn's tree.
 *
 * @module
 */

import { analyze } from "eslint-scope";
import { type AnyFunction, parseFunctionSource } from "../lib/contracts/mod.ts";

/**
 * The names `fn` reads or writes that it does not declare itself (its
 * parameters, locals and nested declarations excluded), sorted and
 * deduplicated.
 *
 * @param fn a function with source text
 * @returns the free names
 * @example
 * ```ts
 * import { freeVariables } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * const k = 3;
 * assert.deepEqual(freeVariables((v: { last: number }) => Math.abs(v.last) * k), ["Math", "k"]);
 * ```
 */
export function freeVariables(fn: AnyFunction): string[] {
  const { program } = parseFunctionSource(fn);
  // deno-lint-ignore no-explicit-any
  const scopes = analyze(program as any, {
    ecmaVersion: 2022,
    sourceType: "module",
  });
  const names = new Set<string>();
  for (const ref of scopes.globalScope?.through ?? []) {
    names.add(ref.identifier.name);
  }
  return [...names].sort();
}

/**
 * The free names of `fn` that are neither globals of the runtime
 * (properties of `globalThis`) nor listed in `allowed`.
 *
 * @param fn a function with source text
 * @param allowed names declared by the node (`uses`)
 * @returns the names the function captures from a closure, sorted
 * @example
 * ```ts
 * import { capturedNames } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * const n = 20;
 * const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
 * const f = (v: { values: number[] }) => mean(v.values.slice(-n));
 * assert.deepEqual(capturedNames(f, ["mean"]), ["n"]);
 * ```
 */
export function capturedNames(
  fn: AnyFunction,
  allowed: Iterable<string> = [],
): string[] {
  const ok = new Set(allowed);
  return freeVariables(fn).filter((n) => !ok.has(n) && !(n in globalThis));
}
