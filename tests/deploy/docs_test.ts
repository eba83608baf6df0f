/**
 * `deno task docs` (deploy/docs/): the renderers on small inputs, the stale
 * check on a temporary tree, and the committed generated files against the
 * sources (fails when someone forgets to run `deno task docs`).
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { VariableSpec } from "../../lib/gateway/server/config.ts";
import { buildOpenApi } from "../../lib/gateway/openapi/mod.ts";
import { relativizeSourceLinks } from "../../deploy/docs/api_html.ts";
import {
  configPage,
  replaceBetween,
  serverTable,
  toolingTable,
} from "../../deploy/docs/config_tables.ts";
import { indexPage } from "../../deploy/docs/index_page.ts";
import { cell } from "../../deploy/docs/markdown.ts";
import { openapiJson } from "../../deploy/docs/openapi_file.ts";
import { findStale, writeOutputs } from "../../deploy/docs/output_tree.ts";
import { renderProtoReference } from "../../deploy/docs/proto_reference.ts";

const ROOT = new URL("../../", import.meta.url);

const VARS: VariableSpec[] = [
  { name: "QMTL_PORT", kind: "port", default: "8080", description: "a | b" },
  { name: "QMTL_HOST", kind: "string", description: "host" },
  {
    name: "QMTL_STACK_DIR",
    scope: "tooling",
    usedBy: "the CLI",
    kind: "url",
    description: "where",
  },
];

Deno.test("docs: replaceBetween replaces between the markers, keeps the rest", () => {
  assert.equal(
    replaceBetween("a<!-- x:start -->old<!-- x:end -->b", "x", "new"),
    "a<!-- x:start -->\n\nnew\n\n<!-- x:end -->b",
  );
  assert.throws(
    () => replaceBetween("no markers", "x", "new"),
    /markers <!-- x:start --> … <!-- x:end --> not found/,
  );
  assert.throws(
    () => replaceBetween("<!-- x:end --><!-- x:start -->", "x", "new"),
    /not found/,
  );
});

Deno.test("docs: configuration tables split server and tooling variables", () => {
  assert.equal(
    serverTable(VARS),
    [
      "| variable | default | meaning |",
      "| --- | --- | --- |",
      "| `QMTL_PORT` | `8080` | a \\| b |",
      "| `QMTL_HOST` | — | host |",
    ].join("\n"),
  );
  assert.equal(
    toolingTable(VARS),
    [
      "| variable | read by | meaning |",
      "| --- | --- | --- |",
      "| `QMTL_STACK_DIR` | the CLI | where |",
    ].join("\n"),
  );
  const page = configPage(VARS);
  assert.ok(page.includes(serverTable(VARS)));
  assert.ok(page.includes(toolingTable(VARS)));
  assert.ok(page.indexOf("## Server") < page.indexOf("## Tooling"));
  assert.equal(cell(" x |\n  y "), "x \\| y");
});

Deno.test("docs: the index names every entry point and generated file", () => {
  const page = indexPage(["mod.ts", "sdk/mod.ts"]);
  for (
    const s of [
      "`mod.ts`",
      "`sdk/mod.ts`",
      "api/index.html",
      "openapi.json",
      "proto.md",
      "config.md",
    ]
  ) assert.ok(page.includes(s), s);
});

Deno.test("docs: openapi.json is the builder's document, pretty-printed", () => {
  const text = openapiJson();
  assert.deepEqual(JSON.parse(text), buildOpenApi());
  assert.ok(text.startsWith('{\n  "openapi": "3.1.0",\n'));
  assert.ok(text.endsWith("}\n"));
});

Deno.test("docs: source links are made relative to the page", () => {
  const root = new URL("file:///ci/build/qmtl/");
  const link = (p: string) =>
    `href="${p.replaceAll("/", "&#x2F;")}lib&#x2F;dag&#x2F;mod.ts"`;
  const html = `<a ${link("file:///ci/build/qmtl/")}>`;
  assert.equal(
    relativizeSourceLinks(html, root, "docs/generated/api/dag/~/X.html"),
    `<a ${link("../../../../../")}>`,
  );
  assert.equal(
    relativizeSourceLinks(html, root, "docs/generated/api/index.html"),
    `<a ${link("../../../")}>`,
  );
  // Links elsewhere are untouched.
  const other = `<a ${link("file:///elsewhere/")}>`;
  assert.equal(relativizeSourceLinks(other, root, "a/b.html"), other);
});

/** A small descriptor set with comments (paths as protoc/buf write them). */
function sampleSet() {
  const comment = (path: number[], leadingComments: string) => ({
    path,
    span: [0, 0, 0],
    leadingComments,
  });
  return create(FileDescriptorSetSchema, {
    file: [{
      name: "demo/v1/demo.proto",
      package: "demo.v1",
      syntax: "proto3",
      service: [{
        name: "DemoService",
        method: [{
          name: "Get",
          inputType: ".demo.v1.GetRequest",
          outputType: ".demo.v1.Item",
        }, {
          name: "Watch",
          inputType: ".demo.v1.GetRequest",
          outputType: ".demo.v1.Item",
          serverStreaming: true,
        }],
      }],
      messageType: [{
        name: "GetRequest",
        field: [{ name: "id", number: 1, type: 9, label: 1 }],
      }, {
        name: "Item",
        field: [
          { name: "id", number: 1, type: 9, label: 1 },
          { name: "tags", number: 2, type: 9, label: 3 },
          {
            name: "labels",
            number: 3,
            type: 11,
            label: 3,
            typeName: ".demo.v1.Item.LabelsEntry",
          },
          {
            name: "kind",
            number: 4,
            type: 14,
            label: 1,
            typeName: ".demo.v1.Kind",
          },
          {
            name: "note",
            number: 5,
            type: 9,
            label: 1,
            oneofIndex: 0,
            proto3Optional: true,
          },
          { name: "n", number: 6, type: 1, label: 1, oneofIndex: 1 },
          { name: "s", number: 7, type: 9, label: 1, oneofIndex: 1 },
          {
            name: "part",
            number: 8,
            type: 11,
            label: 1,
            typeName: ".demo.v1.Item.Part",
          },
          {
            name: "at",
            number: 9,
            type: 11,
            label: 1,
            typeName: ".google.protobuf.Timestamp",
          },
        ],
        oneofDecl: [{ name: "_note" }, { name: "value" }],
        nestedType: [{
          name: "LabelsEntry",
          options: { mapEntry: true },
          field: [
            { name: "key", number: 1, type: 9, label: 1 },
            {
              name: "value",
              number: 2,
              type: 11,
              label: 1,
              typeName: ".demo.v1.Item.Part",
            },
          ],
        }, { name: "Part" }],
      }],
      enumType: [{
        name: "Kind",
        value: [{ name: "KIND_UNSPECIFIED", number: 0 }, {
          name: "KIND_A",
          number: 1,
        }],
      }],
      sourceCodeInfo: {
        location: [
          comment([6, 0], " The demo service.\n"),
          comment([6, 0, 2, 0], " Reads one item;\n a | b.\n"),
          comment([4, 1], " An item.\n"),
          comment([4, 1, 2, 1], " Its tags.\n"),
          comment([4, 1, 3, 1], " A part of an item.\n"),
          comment([5, 0], " Kinds.\n"),
          comment([5, 0, 2, 1], " The A kind.\n"),
        ],
      },
    }],
  });
}

Deno.test("docs: the proto reference lists services, fields, enums with comments", () => {
  const md = renderProtoReference(sampleSet());
  const lines = md.split("\n");
  const has = (line: string) =>
    assert.ok(lines.includes(line), `missing line ${line}\n---\n${md}`);
  has("## Package `demo.v1`");
  has("#### DemoService");
  has("The demo service.");
  has(
    "| `Get` | [`GetRequest`](#demo.v1.GetRequest) | [`Item`](#demo.v1.Item) | Reads one item; a \\| b. |",
  );
  has(
    "| `Watch` | [`GetRequest`](#demo.v1.GetRequest) | stream [`Item`](#demo.v1.Item) |  |",
  );
  has('<a id="demo.v1.Item"></a>');
  has("An item.");
  has("| 1 | `id` | `string` |  |  |");
  has("| 2 | `tags` | `string` | repeated | Its tags. |");
  has(
    "| 3 | `labels` | map<`string`, [`Item.Part`](#demo.v1.Item.Part)> | map |  |",
  );
  has("| 4 | `kind` | [`Kind`](#demo.v1.Kind) |  |  |");
  has("| 5 | `note` | `string` | optional |  |");
  has("| 6 | `n` | `double` | oneof `value` |  |");
  has("| 7 | `s` | `string` | oneof `value` |  |");
  has("| 8 | `part` | [`Item.Part`](#demo.v1.Item.Part) |  |  |");
  // Types not in the set are named, not linked.
  has("| 9 | `at` | `google.protobuf.Timestamp` |  |  |");
  has("#### Item.Part");
  has("A part of an item.");
  has("No fields.");
  has("#### Kind");
  has("| `KIND_A` | 1 | The A kind. |");
  // Map entries are types of fields only, never sections of their own.
  assert.ok(!md.includes("LabelsEntry"), md);
  // Sections come in order: services, messages, enums.
  assert.ok(md.indexOf("### Services") < md.indexOf("### Messages"));
  assert.ok(md.indexOf("### Messages") < md.indexOf("### Enums"));
});

Deno.test("docs: the stale check names changed, missing and leftover files; write repairs them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qmtl-docs-test-" });
  try {
    const root = new URL(`file://${dir}/`);
    await Deno.mkdir(`${dir}/gen/api/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/same.md`, "same\n");
    await Deno.writeTextFile(`${dir}/changed.md`, "old\n");
    await Deno.writeTextFile(`${dir}/gen/api/sub/kept.html`, "kept");
    await Deno.writeTextFile(`${dir}/gen/api/sub/left.html`, "left");
    const outputs = {
      files: new Map([
        ["same.md", "same\n"],
        ["changed.md", "new\n"],
        ["gen/missing.json", "{}\n"],
        ["gen/api/sub/kept.html", "kept"],
      ]),
      ownedDirs: ["gen/api/"],
    };
    const expected = [
      "changed.md",
      "gen/api/sub/left.html",
      "gen/missing.json",
    ];
    assert.deepEqual(await findStale(root, outputs), expected);
    assert.deepEqual(await writeOutputs(root, outputs), expected);
    assert.deepEqual(await findStale(root, outputs), []);
    assert.equal(await Deno.readTextFile(`${dir}/changed.md`), "new\n");
    assert.equal(await Deno.readTextFile(`${dir}/gen/missing.json`), "{}\n");
    await assert.rejects(
      Deno.stat(`${dir}/gen/api/sub/left.html`),
      Deno.errors.NotFound,
    );
    // An owned folder that does not exist yet is not an error.
    assert.deepEqual(
      await findStale(root, { files: new Map(), ownedDirs: ["nothing/"] }),
      [],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs: the committed generated files are current (deno task docs --check)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      "deploy/docs/main.ts",
      "--check",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `deno task docs --check failed:\n${text}`);
  assert.match(text, /generated docs are current/);
});
