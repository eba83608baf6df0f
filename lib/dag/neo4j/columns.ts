/**
 * Compact Bolt parameters for batched statements: one string per column.
 *
 * neo4j-driver packs every list item on its own (type checks for temporal,
 * spatial and integer types, a UTF-8 encode, a chunk write), which makes a
 * list of 1,000 short strings cost ≈ 3 µs per item on the client and again
 * on the server. A column sent as one string joined by a separator, and
 * split once by the statement (`split($x, $fs)`), costs about a tenth of
 * that (measured: 13 columns × 1,000 node IDs, 38–45 ms of client CPU as
 * lists, 3–7 ms joined).
 *
 * Every item is preceded by the separator, so an empty column (`""`) and a
 * column of one empty string (`"\u001f"`) differ; the statement drops the
 * leading empty piece (`split($x, $fs)[1..]`). A column of strings that
 * contain the separator (arbitrary user text can) falls back to a plain
 * list, per column; the Cypher side reads whichever was sent
 * (`coalesce($x_l, split($x, $fs)[1..])`), so both encodings give the same
 * list. Each column is therefore two parameters, `x` (joined, or null) and
 * `x_l` (list, or null) — and their types do not change with the data in
 * the common case, which matters: Neo4j caches a plan per statement text
 * *and parameter types*, and planning one of the diff statements costs
 * 0.5–2 s of server CPU on the CI machine.
 *
 * @module
 */

/** Separator between the items of a column (ASCII unit separator). */
export const FIELD_SEP = "\u001f";
/** Separator inside one item that is itself a list (ASCII record separator). */
export const ITEM_SEP = "\u001e";

/**
 * Parameters of a statement that uses columns: the separators plus every
 * column added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Columns } from "./columns.ts";
 * const c = new Columns();
 * c.text("id", ["a", "b"]);
 * assert.equal(c.params.id, "\u001fa\u001fb");
 * ```
 */
export class Columns {
  /** The parameters to pass to `tx.run` (separators included). */
  readonly params: Record<string, unknown> = { fs: FIELD_SEP, is: ITEM_SEP };

  /**
   * A column of strings; Cypher: {@link textColumn}`(name)`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Columns } from "./columns.ts";
   * const c = new Columns().text("name", ["a\u001fb"]);
   * assert.deepEqual(c.params.name_l, ["a\u001fb"]); // holds the separator, sent as a list
   * assert.equal(c.params.name, null);
   * ```
   */
  text(name: string, values: readonly string[]): this {
    if (!values.some((v) => v.includes(FIELD_SEP))) {
      this.params[name] = values.map((v) => FIELD_SEP + v).join("");
      this.params[`${name}_l`] = null;
    } else {
      this.params[name] = null;
      this.params[`${name}_l`] = [...values];
    }
    return this;
  }

  /**
   * A column of safe integers; Cypher: {@link intColumn}`(name)`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Columns } from "./columns.ts";
   * assert.equal(new Columns().int("k", [1, 20]).params.k, "1,20");
   * ```
   */
  int(name: string, values: readonly number[]): this {
    for (const v of values) {
      if (!Number.isSafeInteger(v)) {
        throw new RangeError(`column ${name}: ${v} is not a safe integer`);
      }
    }
    this.params[name] = values.join(",");
    return this;
  }

  /**
   * A column whose items are lists of strings; Cypher:
   * {@link listColumn}`(name)`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Columns } from "./columns.ts";
   * assert.equal(new Columns().lists("tags", [["a", "b"], []]).params.tags, "\u001fa\u001eb\u001f");
   * ```
   */
  lists(name: string, values: readonly (readonly string[])[]): this {
    const safe = values.every((xs) =>
      xs.every((x) =>
        x !== "" && !x.includes(FIELD_SEP) && !x.includes(ITEM_SEP)
      )
    );
    if (safe) {
      this.params[name] = values.map((xs) => FIELD_SEP + xs.join(ITEM_SEP))
        .join("");
      this.params[`${name}_l`] = null;
    } else {
      this.params[name] = null;
      this.params[`${name}_l`] = values.map((xs) => [...xs]);
    }
    return this;
  }
}

/**
 * Cypher expression reading a {@link Columns.text} column as a list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textColumn } from "./columns.ts";
 * assert.equal(textColumn("id"), "coalesce($id_l, split($id, $fs)[1..])");
 * ```
 */
export function textColumn(name: string): string {
  return `coalesce($${name}_l, split($${name}, $fs)[1..])`;
}

/**
 * Cypher expression reading a {@link Columns.int} column as a list of
 * integers (`[]` for an empty column).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intColumn } from "./columns.ts";
 * assert.ok(intColumn("k").includes("toInteger"));
 * ```
 */
export function intColumn(name: string): string {
  return `CASE $${name} WHEN '' THEN [] ELSE [x IN split($${name}, ',') | toInteger(x)] END`;
}

/**
 * Cypher expression reading a {@link Columns.lists} column as a list of
 * lists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listColumn } from "./columns.ts";
 * assert.ok(listColumn("tags").includes("$is"));
 * ```
 */
export function listColumn(name: string): string {
  return `coalesce($${name}_l, [x IN split($${name}, $fs)[1..] | CASE x WHEN '' THEN [] ELSE split(x, $is) END])`;
}
