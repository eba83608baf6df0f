/**
 * `docs/generated/README.md`: the index of what `deno task docs` generates,
 * and how.
 *
 * @module
 */

/**
 * The index page (not yet formatted by `deno fmt`), naming the entry points
 * the API reference covers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(indexPage(["mod.ts"]), /`mod\.ts`/);
 * ```
 */
export function indexPage(entries: readonly string[]): string {
  return [
    "# Generated documentation",
    "",
    "Everything in this folder is written by `deno task docs` (script",
    "`deploy/docs/main.ts`); do not edit it by hand. CI runs",
    "`deno task docs --check`, which writes nothing and fails naming every",
    "file that differs from what the sources generate: after changing JSDoc,",
    "routes, `.proto` files or `CONFIG_VARIABLES`, run `deno task docs` and",
    "commit the result.",
    "",
    "| file | what | generated from |",
    "| --- | --- | --- |",
    "| [`api/index.html`](api/index.html) | HTML API reference of every entry point of `@qmtl/qmtl` | " +
    "`deno doc --html` over " + entries.map((e) => `\`${e}\``).join(", ") +
    " (the `exports` of `deno.json`); source links are relative to the repository. Built by `deno task docs` in your checkout, not committed (about 96 MB) and not part of `--check` |",
    "| [`openapi.json`](openapi.json) | OpenAPI 3.1 document of the gateway's REST views, as served at `GET /openapi.json` | " +
    "`buildOpenApi()` of `lib/gateway/openapi/` (the route table) |",
    "| [`proto.md`](proto.md) | Protobuf reference: services, methods, messages, fields, enums, with their comments | " +
    "`proto/qmtl/v1/*.proto` through `buf build` (descriptors with source info) |",
    "| [`config.md`](config.md) | Every `QMTL_*` environment variable (server and tooling) | " +
    "`CONFIG_VARIABLES` of `lib/gateway/server/config.ts`, which also fills the README's tables |",
    "",
    "The HTML reference depends on the Deno version (`deno doc`'s templates,",
    "links to the Deno API): generate it with the version CI pins (`.ci/run`).",
    "",
  ].join("\n");
}
