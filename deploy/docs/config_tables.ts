/**
 * The README's configuration tables, rendered from the one declaration of
 * every `QMTL_*` variable (`CONFIG_VARIABLES` of `@qmtl/qmtl/server`):
 * server variables with their defaults, tooling variables with what reads
 * them. `deno task docs` writes them between the README's
 * `<!-- config:… -->` markers; `deno task docs --check` fails when they
 * differ.
 *
 * @module
 */

import {
  CONFIG_VARIABLES,
  type VariableSpec,
} from "../../lib/gateway/server/config.ts";

/** Escapes a table cell (pipes would split it). */
function cell(s: string): string {
  return s.replaceAll("|", "\\|");
}

/**
 * Markdown table of the server variables (`| variable | default | meaning |`).
 *
 * @example
 * ```ts ignore
 * console.log(serverTable());
 * ```
 */
export function serverTable(
  vars: readonly VariableSpec[] = CONFIG_VARIABLES,
): string {
  const rows = vars.filter((v) => v.scope !== "tooling").map((v) =>
    `| \`${v.name}\` | ${
      v.default === undefined ? "—" : `\`${v.default}\``
    } | ${cell(v.description)} |`
  );
  return ["| variable | default | meaning |", "| --- | --- | --- |", ...rows]
    .join("\n");
}

/**
 * Markdown table of the tooling variables (`| variable | read by | meaning |`).
 *
 * @example
 * ```ts ignore
 * console.log(toolingTable());
 * ```
 */
export function toolingTable(
  vars: readonly VariableSpec[] = CONFIG_VARIABLES,
): string {
  const rows = vars.filter((v) => v.scope === "tooling").map((v) =>
    `| \`${v.name}\` | ${cell(v.usedBy ?? "")} | ${cell(v.description)} |`
  );
  return ["| variable | read by | meaning |", "| --- | --- | --- |", ...rows]
    .join("\n");
}

/**
 * Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`.
 *
 * @throws Error when the markers are missing
 * @example
 * ```ts ignore
 * replaceBetween("a<!-- x:start -->old<!-- x:end -->b", "x", "new");
 * ```
 */
export function replaceBetween(
  text: string,
  name: string,
  body: string,
): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers ${start} … ${end} not found`);
  return `${text.slice(0, i + start.length)}\n\n${body}\n\n${text.slice(j)}`;
}
