/**
 * Exit codes of the `qmtl` command line, and the error → code mapping. The
 * same table is printed by `qmtl --help` and documented in docs/cli.md.
 *
 * @module
 */

import { ErrorCode } from "../contracts.ts";
import {
  QmtlClientError,
  UnexpectedStateError,
  ValidationError,
  WaitTimeoutError,
} from "../errors.ts";

/**
 * The exit codes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT } from "@qmtl/qmtl/cli";
 * assert.equal(EXIT.NOT_FOUND, 4);
 * ```
 */
export const EXIT: Readonly<{
  OK: 0;
  FAILED: 1;
  USAGE: 2;
  UNAVAILABLE: 3;
  NOT_FOUND: 4;
  DENIED: 5;
  REJECTED: 6;
  TIMEOUT: 7;
  INTERRUPTED: 130;
}> = Object.freeze({
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  UNAVAILABLE: 3,
  NOT_FOUND: 4,
  DENIED: 5,
  REJECTED: 6,
  TIMEOUT: 7,
  INTERRUPTED: 130,
});

/**
 * What each exit code means, one line each (for `--help` and the docs).
 *
 * @example
 * ```ts
 * import { EXIT_MEANINGS } from "@qmtl/qmtl/cli";
 * console.log(EXIT_MEANINGS.map(([code, what]) => `${code} ${what}`).join("\n"));
 * ```
 */
export const EXIT_MEANINGS: readonly (readonly [number, string])[] = [
  [0, "done (every strategy COMPLETED, the strategy was found, …)"],
  [
    1,
    "a strategy ended FAILED (or RETIRED while waited for), or another failure",
  ],
  [
    2,
    "usage: unknown command or option, missing argument, QMTL_TOKEN unset, a file without strategies",
  ],
  [3, "the Gateway is unreachable or unavailable (retry later)"],
  [4, "not found (strategy, node)"],
  [5, "unauthenticated or forbidden (token missing, expired, wrong key, role)"],
  [6, "rejected by the Gateway: invalid DAG, policy, schema version, …"],
  [7, "timed out waiting (--timeout)"],
  [130, "interrupted (Ctrl-C)"],
];

/**
 * A command-line mistake: printed with the command's usage, exit 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT, exitCodeOf, UsageError } from "@qmtl/qmtl/cli";
 * const e = new UsageError("status: give a strategy ID");
 * assert.equal(exitCodeOf(e), EXIT.USAGE);
 * ```
 */
export class UsageError extends Error {
  /**
   * A command line the CLI cannot run.
   *
   * @param message what is wrong
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The exit code for an error a command threw.
 *
 * @param e the error
 * @returns its exit code
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT, exitCodeOf, UsageError } from "@qmtl/qmtl/cli";
 * assert.equal(exitCodeOf(new UsageError("x")), EXIT.USAGE);
 * ```
 */
export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT.USAGE;
  if (e instanceof WaitTimeoutError) return EXIT.TIMEOUT;
  if (e instanceof UnexpectedStateError) return EXIT.FAILED;
  if (e instanceof DOMException && e.name === "AbortError") {
    return EXIT.INTERRUPTED;
  }
  if (e instanceof ValidationError) return EXIT.REJECTED;
  if (e instanceof QmtlClientError) {
    switch (e.code) {
      case ErrorCode.E_UNAVAILABLE:
        return EXIT.UNAVAILABLE;
      case ErrorCode.E_NOT_FOUND:
        return EXIT.NOT_FOUND;
      case ErrorCode.E_UNAUTHENTICATED:
      case ErrorCode.E_FORBIDDEN:
        return EXIT.DENIED;
      case ErrorCode.E_INTERNAL:
        return EXIT.FAILED;
      default:
        return EXIT.REJECTED;
    }
  }
  return EXIT.FAILED;
}
