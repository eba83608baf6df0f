import assert from "node:assert/strict";
import {
  canonicalFunction,
  codeHash,
  ContractError,
  FUNCTION_CODE_RULE,
  functionCodeHash,
  parseFunctionSource,
  sha256Hex,
} from "../../lib/contracts/mod.ts";
import * as asJs from "../fixtures/code_identity/sma.js";
import * as asTs from "../fixtures/code_identity/sma.ts";

Deno.test("code hash: one function in a .ts and a .js file, reformatted, hashes the same", () => {
  assert.equal(functionCodeHash(asTs.sma), functionCodeHash(asJs.sma));
  assert.equal(functionCodeHash(asTs.label), functionCodeHash(asJs.label));
  assert.notEqual(functionCodeHash(asTs.sma), functionCodeHash(asTs.label));
});

Deno.test("code hash: layout, comments, quotes, number spelling, parentheses and the name do not count", () => {
  const base = "function f(a, b) { return a * 2 + b; }";
  const same = [
    "function f(a,b){return a*2+b}",
    "function g(a, b) {\n  // doubled\n  return (a * 2.0) + b;\n}",
    "function f(a, b,) { /* x */ return ((a * 2e0)) + b }",
    "function f(\n  a,\n  b,\n) {\n  return a * 0x2 + b;\n}",
  ];
  for (const src of same) {
    assert.equal(canonicalFunction(src), canonicalFunction(base), src);
  }
  assert.equal(
    canonicalFunction(`(x) => x === "a"`),
    canonicalFunction(`x => x === 'a'`),
  );
});

Deno.test("code hash: any change to what it computes changes it", () => {
  const base = functionCodeHash("(v, p) => v.last * p.k + 1");
  const changed = [
    "(v, p) => v.last * p.k - 1",
    "(v, p) => v.last * p.k + 2",
    "(v, p) => v.last * p.j + 1",
    "(v, p) => v.at(0) * p.k + 1",
    "(v, p) => (v.last * p.k) + 1 + 0",
    "(v, p) => v.last * (p.k + 1)",
    "async (v, p) => v.last * p.k + 1",
    "(v, p) => { return v.last * p.k + 1; }",
    "(v, p) => `${v.last * p.k + 1}`",
    "(v, p) => v.last * p.k + 1n",
    "(v, p) => /a+/.test(v.last * p.k + 1)",
    "(v, p) => /a+/i.test(v.last * p.k + 1)",
  ];
  const seen = new Set([base]);
  for (const src of changed) {
    const h = functionCodeHash(src);
    assert.ok(!seen.has(h), `${src} collides`);
    seen.add(h);
  }
});

Deno.test("code hash: helpers in `uses` are part of it", () => {
  const f = (v: { last: number }) => v.last;
  const h1 = functionCodeHash(f, { scale: (x: number) => x * 2 });
  const h2 = functionCodeHash(f, { scale: (x: number) => x * 3 });
  assert.notEqual(h1, h2);
  assert.notEqual(h1, functionCodeHash(f));
  assert.equal(h1, functionCodeHash(f, { scale: (x: number) => x * 2.0 }));
  assert.throws(
    () => functionCodeHash(f, { k: 3 as never }),
    (e) => e instanceof ContractError && e.field === "uses.k",
  );
});

Deno.test("code hash: methods parse; built-ins, bound functions and classes are refused", () => {
  const obj = {
    calc(x: number) {
      return x + 1;
    },
    async *gen() {},
    get g() {
      return 1;
    },
  };
  assert.equal(parseFunctionSource(obj.calc).node.type, "FunctionExpression");
  assert.equal(
    canonicalFunction(obj.calc),
    canonicalFunction("function (x) { return x + 1 }"),
  );
  assert.ok(parseFunctionSource(obj.gen).node.generator);
  const getter = Object.getOwnPropertyDescriptor(obj, "g")!.get!;
  assert.equal(parseFunctionSource(getter).node.type, "FunctionExpression");
  for (
    const bad of [
      Math.max,
      ((x: number) => x).bind(null),
      class A {},
      "1 +",
      "x; y",
    ]
  ) {
    assert.throws(
      () => functionCodeHash(bad as never),
      (e) => e instanceof ContractError && e.field === "compute",
    );
  }
  assert.throws(() => functionCodeHash(Math.max), /built-in or bound/);
});

Deno.test("code hash: text sources keep the text rule", () => {
  assert.equal(codeHash("x => x\r\n"), "sha256:" + sha256Hex("x => x"));
  assert.notEqual(codeHash("x => x"), codeHash((x: number) => x));
});

Deno.test("code hash: golden vectors (canonical form and hash)", () => {
  const vectors: { source: string; canonical: string; code_hash: string }[] =
    JSON.parse(
      Deno.readTextFileSync(
        new URL("../golden/code_hashes.json", import.meta.url),
      ),
    );
  assert.ok(vectors.length >= 4);
  for (const v of vectors) {
    assert.equal(canonicalFunction(v.source), v.canonical, v.source);
    assert.equal(
      v.code_hash,
      "sha256:" + sha256Hex(`${FUNCTION_CODE_RULE}\n${v.canonical}`),
    );
    assert.equal(functionCodeHash(v.source), v.code_hash, v.source);
  }
});
