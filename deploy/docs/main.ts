/**
 * `deno task docs`: writes the generated documentation and the README's
 * configuration tables; `deno task docs --check` writes nothing and exits 1
 * naming every file that is stale (CI runs it).
 *
 * Generated (see `docs/generated/README.md`):
 * - `docs/generated/api/`: `deno doc --html` of every `deno.json` export —
 *   built locally and git-ignored, not committed (about 96 MB in 4,000+
 *   files; `deno task check` already lints the same documentation), so
 *   `--check` leaves it out;
 * - `docs/generated/openapi.json`: the gateway's OpenAPI document;
 * - `docs/generated/proto.md`: the protobuf reference;
 * - `docs/generated/config.md` and the README's configuration tables, from
 *   `CONFIG_VARIABLES`;
 * - `docs/generated/README.md`: the index.
 *
 * @module
 */

import { apiHtml } from "./api_html.ts";
import {
  configPage,
  replaceBetween,
  serverTable,
  toolingTable,
} from "./config_tables.ts";
import { indexPage } from "./index_page.ts";
import { fmtMarkdown } from "./markdown.ts";
import { openapiJson } from "./openapi_file.ts";
import { findStale, type Outputs, writeOutputs } from "./output_tree.ts";
import { protoDescriptors } from "./proto_descriptors.ts";
import { renderProtoReference } from "./proto_reference.ts";

const ROOT = new URL("../../", import.meta.url);
const OUT = "docs/generated/";
const API = `${OUT}api/`;
/** At most this many stale paths are listed by `--check`. */
const LIST_MAX = 20;

/** The entry points of the package (`deno.json` `exports`), in its order. */
async function entryPoints(): Promise<{ name: string; entries: string[] }> {
  const json = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { name: string; exports: Record<string, string> };
  return {
    name: json.name,
    entries: Object.values(json.exports).map((p) => p.replace(/^\.\//, "")),
  };
}

/**
 * Every generated file, and the folders the task owns whole; `withApi`
 * adds the (uncommitted) API HTML.
 */
async function generate(withApi: boolean): Promise<Outputs> {
  const { name, entries } = await entryPoints();
  const files = withApi
    ? await apiHtml(ROOT, API, name, entries)
    : new Map<string, string>();
  let readme = await Deno.readTextFile(new URL("README.md", ROOT));
  readme = replaceBetween(readme, "config:server", serverTable());
  readme = replaceBetween(readme, "config:tooling", toolingTable());
  files.set("README.md", await fmtMarkdown(readme));
  files.set(`${OUT}README.md`, await fmtMarkdown(indexPage(entries)));
  files.set(`${OUT}config.md`, await fmtMarkdown(configPage()));
  files.set(`${OUT}openapi.json`, openapiJson());
  const protos = await protoDescriptors(new URL("proto/", ROOT));
  files.set(`${OUT}proto.md`, await fmtMarkdown(renderProtoReference(protos)));
  return { files, ownedDirs: withApi ? [API] : [] };
}

/** Lists paths, at most `LIST_MAX` of them. */
function listing(paths: readonly string[]): string {
  const shown = paths.slice(0, LIST_MAX).map((p) => `  ${p}`);
  if (paths.length > LIST_MAX) {
    shown.push(`  … and ${paths.length - LIST_MAX} more`);
  }
  return shown.join("\n");
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const outputs = await generate(!check);
  if (check) {
    const stale = await findStale(ROOT, outputs);
    if (stale.length > 0) {
      console.error(
        `stale generated docs (run deno task docs): ${stale.length} file(s)\n${
          listing(stale)
        }`,
      );
      Deno.exit(1);
    }
    console.log(`generated docs are current (${outputs.files.size} files)`);
  } else {
    const changed = await writeOutputs(ROOT, outputs);
    console.log(
      changed.length === 0
        ? "generated docs were current"
        : `wrote or removed ${changed.length} file(s)\n${listing(changed)}`,
    );
  }
}
