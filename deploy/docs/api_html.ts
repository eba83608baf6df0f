/**
 * The HTML API reference: `deno doc --html` over every entry point of
 * `deno.json` `exports`, made independent of the checkout's location.
 *
 * `deno doc` links each symbol to its source file by absolute `file://` URL
 * (HTML-escaped); those links are rewritten to paths relative to the page, so
 * that they open the repository's file and a clone anywhere generates the same
 * bytes. The output is otherwise deterministic for one Deno version (CI pins
 * it: links to the Deno API name the version).
 *
 * @module
 */

import { denoOutput } from "./deno_output.ts";

/** What `deno doc`'s HTML templates escape, and how. */
const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#x27;",
  "/": "&#x2F;",
  "`": "&#x60;",
  "=": "&#x3D;",
};

/** Escapes text the way `deno doc`'s HTML templates do. */
function htmlEscape(s: string): string {
  return s.replace(/[&<>"'\/`=]/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Rewrites `deno doc`'s `file://` links into the repository at `root` (a
 * `file:` URL ending in `/`) to paths relative to the page at `pagePath`
 * (relative to the repository root).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const html = 'href="file:&#x2F;&#x2F;&#x2F;r&#x2F;lib&#x2F;a.ts"';
 * assert.equal(
 *   relativizeSourceLinks(html, new URL("file:///r/"), "docs/x/p.html"),
 *   'href="..&#x2F;..&#x2F;lib&#x2F;a.ts"',
 * );
 * ```
 */
export function relativizeSourceLinks(
  html: string,
  root: URL,
  pagePath: string,
): string {
  const up = "../".repeat(pagePath.split("/").length - 1);
  return html.replaceAll(htmlEscape(root.href), htmlEscape(up));
}

/**
 * Every file of the HTML reference, keyed by path relative to the repository
 * (under `outDir`, relative, ending in `/`).
 *
 * @throws Error when `deno doc` fails, or when a page still names the
 * checkout's absolute path after the rewrite (the output would differ per
 * clone)
 * @example
 * ```ts ignore
 * const files = await apiHtml(root, "docs/generated/api/", "@qmtl/qmtl", ["mod.ts"]);
 * ```
 */
export async function apiHtml(
  root: URL,
  outDir: string,
  name: string,
  entries: readonly string[],
): Promise<Map<string, string>> {
  const tmp = await Deno.makeTempDir({ prefix: "qmtl-docs-api-" });
  try {
    await denoOutput(
      ["doc", "--html", `--name=${name}`, `--output=${tmp}`, ...entries],
      root,
      "deno doc --html",
    );
    const files = new Map<string, string>();
    const rootPath = decodeURIComponent(root.pathname);
    const walk = async (rel: string): Promise<void> => {
      for await (const e of Deno.readDir(`${tmp}/${rel}`)) {
        const path = `${rel}${e.name}`;
        if (e.isDirectory) {
          await walk(`${path}/`);
          continue;
        }
        const page = `${outDir}${path}`;
        const text = relativizeSourceLinks(
          await Deno.readTextFile(`${tmp}/${path}`),
          root,
          page,
        );
        if (text.includes(rootPath) || text.includes(htmlEscape(rootPath))) {
          throw new Error(`${page} names the checkout's path ${rootPath}`);
        }
        files.set(page, text);
      }
    };
    await walk("");
    return files;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
