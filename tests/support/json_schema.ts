/**
 * A small JSON Schema (2020-12) validator for the keywords the gateway's
 * OpenAPI document uses. Any other keyword is an error, so the document
 * cannot state a constraint this validator would silently skip.
 *
 * @module
 */

type Schema = Record<string, unknown>;

const KNOWN = new Set([
  "$ref",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "oneOf",
  "minimum",
  "maximum",
  "minLength",
  "pattern",
  "contentMediaType",
  "contentSchema",
  "description",
]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/**
 * Problems of `value` against `schema` (empty: valid), each naming its
 * JSON path. `$ref`s are resolved in `root` (`#/components/schemas/…`).
 */
export function validate(
  value: unknown,
  schema: Schema,
  root: Schema,
  path = "$",
): string[] {
  for (const k of Object.keys(schema)) {
    if (!KNOWN.has(k)) return [`${path}: schema keyword ${k} not supported`];
  }
  if (typeof schema.$ref === "string") {
    const target = schema.$ref.slice(2).split("/").reduce<unknown>(
      (o, key) => (o as Record<string, unknown> | undefined)?.[key],
      root,
    ) as Schema | undefined;
    if (!target) return [`${path}: unresolved ${schema.$ref}`];
    return validate(value, target, root, path);
  }
  const out: string[] = [];
  if (schema.oneOf) {
    const matching = (schema.oneOf as Schema[]).filter((s) =>
      validate(value, s, root, path).length === 0
    );
    if (matching.length !== 1) {
      out.push(`${path}: matches ${matching.length} of oneOf`);
    }
  }
  if (schema.type !== undefined) {
    const t = typeOf(value);
    const ok = schema.type === t ||
      (schema.type === "number" && t === "integer");
    if (!ok) return [...out, `${path}: ${t}, expected ${schema.type}`];
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) {
    out.push(`${path}: ${JSON.stringify(value)} not in enum`);
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      out.push(`${path}: ${value} < minimum ${schema.minimum}`);
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      out.push(`${path}: ${value} > maximum ${schema.maximum}`);
    }
  }
  if (typeof value === "string") {
    if (
      typeof schema.minLength === "number" && value.length < schema.minLength
    ) {
      out.push(`${path}: shorter than ${schema.minLength}`);
    }
    if (
      typeof schema.pattern === "string" &&
      !new RegExp(schema.pattern, "u").test(value)
    ) {
      out.push(`${path}: does not match ${schema.pattern}`);
    }
    if (schema.contentSchema) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return [...out, `${path}: not JSON`];
      }
      out.push(
        ...validate(
          parsed,
          schema.contentSchema as Schema,
          root,
          `${path}<json>`,
        ),
      );
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) =>
      out.push(...validate(v, schema.items as Schema, root, `${path}[${i}]`))
    );
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) {
      if (!(r in obj)) out.push(`${path}: missing ${r}`);
    }
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) {
        out.push(...validate(v, props[k], root, `${path}.${k}`));
      } else if (schema.additionalProperties === false) {
        out.push(`${path}: unexpected property ${k}`);
      } else if (
        schema.additionalProperties && schema.additionalProperties !== true
      ) {
        out.push(
          ...validate(
            v,
            schema.additionalProperties as Schema,
            root,
            `${path}.${k}`,
          ),
        );
      }
    }
  }
  return out;
}
