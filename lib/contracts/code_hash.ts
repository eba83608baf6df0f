/**
 * Code identity of compute functions: a function is hashed by its syntax
 * tree, not by its text, so that the same function written in a `.ts` or a
 * `.js` file, reformatted, re-commented or re-quoted gets the same code hash,
 * while any change to what it computes changes it.
 *
 * The canonical form of a function is its ESTree syntax tree as produced by
 * acorn (ECMAScript "latest"), with source positions (`start`, `end`, `loc`,
 * `range`), literal spellings (`raw`) and the function's own name removed,
 * serialised as canonical JSON (keys sorted by UTF-16 code units, no
 * whitespace; numbers in ECMAScript form, so `1.0` and `1` are one literal).
 * A control-flow body that is a block of one non-declaring statement counts
 * as that statement (`for (…) { x += 1; }` ≡ `for (…) x += 1;`), as
 * formatters add and drop those braces.
 * Type annotations never reach it: the runtime's `Function.prototype.toString`
 * of a TypeScript function is already JavaScript. The code hash is
 * `"sha256:" + hex(sha256(utf8("js-estree/1\n" + canonical)))`; helpers the
 * function calls can be hashed with it (see {@link functionCodeHash}).
 *
 * Text sources (strings, e.g. code in another language) keep the text rule of
 * `codeHash` in `node_id.ts`.
 *
 * acorn is used rather than a hand-written tokenizer because automatic
 * semicolon insertion, regular expressions and template literals make a token
 * stream an unreliable stand-in for "what the function computes".
 *
 * @module
 */

import { parse } from "acorn";
import { createHash } from "node:crypto";
import { ContractError } from "./errors.ts";

/** Version tag hashed in front of the canonical tree (domain separation). */
export const FUNCTION_CODE_RULE = "js-estree/1";

/**
 * A parsed function: its ESTree node (with `range` positions, for scope
 * analysis) and the wrapper program it was parsed in.
 *
 * @example
 * ```ts
 * import { parseFunctionSource } from "@qmtl/qmtl/contracts";
 * import assert from "node:assert/strict";
 * const p = parseFunctionSource((x: number) => x + 1);
 * assert.equal(p.node.type, "ArrowFunctionExpression");
 * ```
 */
export interface ParsedFunction {
  /** The function node (`ArrowFunctionExpression` or `FunctionExpression`). */
  node: EstreeNode;
  /** The program the function text was parsed in (wrapped in parentheses). */
  program: EstreeNode;
}

/**
 * A node of an ESTree syntax tree.
 *
 * @example
 * ```ts
 * import type { EstreeNode } from "@qmtl/qmtl/contracts";
 * const n: EstreeNode = { type: "Identifier", name: "x" };
 * ```
 */
export interface EstreeNode {
  /** ESTree node type, e.g. `"Identifier"`. */
  type: string;
  /** Other fields, as the ESTree spec defines them per type. */
  [key: string]: unknown;
}

const FUNCTION_TYPES = new Set([
  "ArrowFunctionExpression",
  "FunctionExpression",
]);

/** Any function value (compute functions and the helpers they use). */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => unknown;

function textOf(fn: AnyFunction | string, field: string): string {
  if (typeof fn === "string") return fn;
  if (typeof fn !== "function") {
    throw new ContractError(`${field} must be a function`, { field });
  }
  return Function.prototype.toString.call(fn);
}

function tryParse(text: string): EstreeNode | undefined {
  try {
    return parse(text, {
      ecmaVersion: "latest",
      sourceType: "module",
      ranges: true,
    }) as unknown as EstreeNode;
  } catch {
    return undefined;
  }
}

function onlyExpression(program: EstreeNode | undefined): EstreeNode | null {
  const body = program?.body as EstreeNode[] | undefined;
  if (!body || body.length !== 1) return null;
  const stmt = body[0];
  if (stmt.type !== "ExpressionStatement") return null;
  return stmt.expression as EstreeNode;
}

/**
 * Parse a function's source (from the function itself or its text) into its
 * syntax tree. Arrow functions, `function` expressions and method shorthand
 * (`name(a) { … }`, as `toString()` gives for methods) are accepted.
 *
 * @param fn the function, or its source text
 * @param field field name used in errors
 * @throws {ContractError} `E_INVALID` for a built-in or bound function (no
 *   source), a class, or text that is not one JavaScript function
 * @example
 * ```ts
 * import { parseFunctionSource } from "@qmtl/qmtl/contracts";
 * import assert from "node:assert/strict";
 * const obj = { calc(v: number) { return v * 2; } };
 * assert.equal(parseFunctionSource(obj.calc).node.type, "FunctionExpression");
 * assert.throws(() => parseFunctionSource(Math.max));
 * ```
 */
export function parseFunctionSource(
  fn: AnyFunction | string,
  field = "compute",
): ParsedFunction {
  const text = textOf(fn, field);
  // An expression: arrow function or `function` expression.
  let program = tryParse(`(${text}\n)`);
  let node = onlyExpression(program);
  if (node && FUNCTION_TYPES.has(node.type)) return { node, program: program! };
  // Method shorthand (`calc(v) {…}`, `async *gen() {…}`, `get x() {…}`).
  program = tryParse(`({${text}\n})`);
  node = onlyExpression(program);
  const props = node?.type === "ObjectExpression"
    ? node.properties as EstreeNode[]
    : [];
  if (props.length === 1 && props[0].type === "Property") {
    const value = props[0].value as EstreeNode;
    if (FUNCTION_TYPES.has(value.type)) {
      return { node: value, program: program! };
    }
  }
  const hint = /\{\s*\[native code\]\s*\}\s*$/.test(text)
    ? " (a built-in or bound function has no source: wrap it in an arrow function)"
    : text.trimStart().startsWith("class")
    ? " (a class is not a compute function)"
    : "";
  throw new ContractError(
    `${field} must be one JavaScript function with its source${hint}`,
    { field },
  );
}

const DROPPED_KEYS = new Set(["start", "end", "loc", "range"]);

/** Statement fields whose single-statement block formatters add or drop. */
const BODY_FIELDS: Record<string, readonly string[]> = {
  IfStatement: ["consequent", "alternate"],
  ForStatement: ["body"],
  ForInStatement: ["body"],
  ForOfStatement: ["body"],
  WhileStatement: ["body"],
  DoWhileStatement: ["body"],
  LabeledStatement: ["body"],
};

const SCOPED = new Set([
  "VariableDeclaration",
  "FunctionDeclaration",
  "ClassDeclaration",
]);

/**
 * `{ s; }` → `s` for a control-flow body holding one statement that declares
 * nothing (a `let`/`const`/`class`/`function` in a block is scoped to it):
 * `for (…) x += 1;` and `for (…) { x += 1; }` compute the same thing, and
 * formatters (deno fmt among them) add or remove such braces.
 */
function unwrapBody(node: unknown): unknown {
  const n = node as EstreeNode | null;
  if (
    n?.type === "BlockStatement" && Array.isArray(n.body) &&
    n.body.length === 1 && !SCOPED.has((n.body[0] as EstreeNode).type)
  ) {
    return n.body[0];
  }
  return node;
}

function canonicalNumber(n: number): string {
  if (Number.isFinite(n)) return JSON.stringify(n); // ECMAScript form; -0 → 0
  return JSON.stringify(String(n)); // 1e999 parses to Infinity
}

function canonicalValue(v: unknown, out: string[]): void {
  if (v === null || v === undefined) {
    out.push("null");
  } else if (typeof v === "number") {
    out.push(canonicalNumber(v));
  } else if (typeof v === "string" || typeof v === "boolean") {
    out.push(JSON.stringify(v));
  } else if (Array.isArray(v)) {
    out.push("[");
    v.forEach((x, i) => {
      if (i) out.push(",");
      canonicalValue(x, out);
    });
    out.push("]");
  } else if (typeof v === "object") {
    canonicalNode(v as Record<string, unknown>, out);
  } else {
    out.push(JSON.stringify(String(v)));
  }
}

function canonicalNode(node: Record<string, unknown>, out: string[]): void {
  const literal = node.type === "Literal";
  const bodies = BODY_FIELDS[node.type as string];
  const keys = Object.keys(node).filter((k) => {
    if (DROPPED_KEYS.has(k)) return false;
    if (literal && k === "raw") return false;
    // A RegExp or BigInt literal's `value` is a runtime object: keep the
    // `regex` / `bigint` field that spells it instead.
    if (literal && k === "value" && ("regex" in node || "bigint" in node)) {
      return false;
    }
    return true;
  }).sort();
  out.push("{");
  keys.forEach((k, i) => {
    if (i) out.push(",");
    out.push(JSON.stringify(k), ":");
    canonicalValue(bodies?.includes(k) ? unwrapBody(node[k]) : node[k], out);
  });
  out.push("}");
}

/**
 * The canonical form of a function: its syntax tree without positions,
 * literal spellings or its own name, as canonical JSON. Two functions have
 * the same canonical form exactly when they differ only in layout,
 * comments, quoting, number spelling, redundant parentheses or their name.
 *
 * @param fn the function, or its source text
 * @returns canonical JSON text
 * @example
 * ```ts
 * import { canonicalFunction } from "@qmtl/qmtl/contracts";
 * import assert from "node:assert/strict";
 * const a = canonicalFunction("function sma(v) {\n  return v * 1.0; // scaled\n}");
 * const b = canonicalFunction("function avg(v){return (v*1)}");
 * assert.equal(a, b);
 * assert.notEqual(a, canonicalFunction("function (v) { return v * 2 }"));
 * ```
 */
export function canonicalFunction(fn: AnyFunction | string): string {
  const { node } = parseFunctionSource(fn);
  const copy: Record<string, unknown> = { ...node };
  delete copy.id; // the function's own name is not what it computes
  const out: string[] = [];
  canonicalNode(copy, out);
  return out.join("");
}

/**
 * Code hash of a compute function from its syntax tree (see the module
 * documentation). Functions listed in `uses` (helpers the compute function
 * calls, by the name it calls them) are hashed with it, so editing a helper
 * changes the node's identity too.
 *
 * @param fn the compute function, or its JavaScript source
 * @param uses helper functions by name
 * @returns `"sha256:" + 64 hex digits`
 * @example
 * ```ts
 * import { functionCodeHash } from "@qmtl/qmtl/contracts";
 * import assert from "node:assert/strict";
 * const a = functionCodeHash((v: { values: number[] }) => v.values[0]);
 * const b = functionCodeHash("(v) =>\n  v.values[0] // first\n");
 * assert.equal(a, b);
 * ```
 */
export function functionCodeHash(
  fn: AnyFunction | string,
  uses: Readonly<Record<string, AnyFunction>> = {},
): string {
  let canonical = canonicalFunction(fn);
  const names = Object.keys(uses).sort();
  if (names.length > 0) {
    const parts = names.map((n) => {
      if (typeof uses[n] !== "function") {
        throw new ContractError(`uses.${n} must be a function`, {
          field: `uses.${n}`,
        });
      }
      return `${JSON.stringify(n)}:${canonicalFunction(uses[n])}`;
    });
    canonical = `{"compute":${canonical},"uses":{${parts.join(",")}}}`;
  }
  return "sha256:" +
    createHash("sha256").update(`${FUNCTION_CODE_RULE}\n${canonical}`).digest(
      "hex",
    );
}
