// Small typed wrappers over node:assert/strict used by the queue tests.
import assertNode from "node:assert/strict";

/** Fails unless `v` is truthy. */
export function assert(v: unknown, msg?: string): asserts v {
  if (msg === undefined) assertNode.ok(v);
  else assertNode.ok(v, msg);
}

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (msg === undefined) assertNode.deepStrictEqual(actual, expected);
  else assertNode.deepStrictEqual(actual, expected, msg);
}

/** Awaits `fn()` (sync throws count), expects a rejection, returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  cls?: new (...args: any[]) => E,
  msgIncludes?: string,
): Promise<E> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assertNode.ok(err !== undefined, "expected a rejection");
  if (cls) {
    assertNode.ok(
      err instanceof cls,
      `expected ${cls.name}, got ${String(err)}`,
    );
  }
  if (msgIncludes) {
    assertNode.ok(
      String((err as Error).message).includes(msgIncludes),
      `"${(err as Error).message}" does not include "${msgIncludes}"`,
    );
  }
  return err as E;
}
