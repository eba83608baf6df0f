/**
 * `docs/generated/proto.md`: a reference of every protobuf package, rendered
 * from a `FileDescriptorSet` with source info (the comments of the `.proto`
 * files): services and their methods, messages with their fields, enums with
 * their values.
 *
 * @module
 */

import { isFieldSet } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  type FileDescriptorProto,
  type FileDescriptorSet,
  type ServiceDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { cell } from "./markdown.ts";

// Field numbers of descriptor.proto, the steps of a source-info path.
const FILE_MESSAGE = 4;
const FILE_ENUM = 5;
const FILE_SERVICE = 6;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED = 3;
const MESSAGE_ENUM = 4;
const ENUM_VALUE = 2;
const SERVICE_METHOD = 2;

/** Comments of one file, by source-info path (`"4,0,2,1"`). */
type Comments = Map<string, string>;

function commentsOf(file: FileDescriptorProto): Comments {
  const out: Comments = new Map();
  for (const loc of file.sourceCodeInfo?.location ?? []) {
    const text = [loc.leadingComments, loc.trailingComments]
      .map((c) => (c ?? "").trim()).filter((c) => c !== "").join("\n");
    if (text !== "") out.set(loc.path.join(","), text);
  }
  return out;
}

/** A message or enum with its full name, path and comment, in file order. */
interface Declared<T> {
  fullName: string;
  file: string;
  path: number[];
  decl: T;
}

/** Every message (nested ones after their parent) and enum of a file. */
function declarations(file: FileDescriptorProto): {
  messages: Declared<DescriptorProto>[];
  enums: Declared<EnumDescriptorProto>[];
} {
  const messages: Declared<DescriptorProto>[] = [];
  const enums: Declared<EnumDescriptorProto>[] = [];
  const prefix = file.package ? `.${file.package}` : "";
  const visit = (m: DescriptorProto, scope: string, path: number[]): void => {
    const fullName = `${scope}.${m.name}`;
    messages.push({ fullName, file: file.name, path, decl: m });
    m.enumType.forEach((e, i) =>
      enums.push({
        fullName: `${fullName}.${e.name}`,
        file: file.name,
        path: [...path, MESSAGE_ENUM, i],
        decl: e,
      })
    );
    m.nestedType.forEach((n, i) =>
      visit(n, fullName, [...path, MESSAGE_NESTED, i])
    );
  };
  file.messageType.forEach((m, i) => visit(m, prefix, [FILE_MESSAGE, i]));
  file.enumType.forEach((e, i) =>
    enums.push({
      fullName: `${prefix}.${e.name}`,
      file: file.name,
      path: [FILE_ENUM, i],
      decl: e,
    })
  );
  return { messages, enums };
}

/** `.qmtl.v1.NodeSpec` → `qmtl.v1.NodeSpec` (the anchor of its section). */
function anchor(fullName: string): string {
  return fullName.replace(/^\./, "");
}

/** Name shown for a declaration: relative to its package. */
function shortName(fullName: string, pkg: string): string {
  const name = anchor(fullName);
  return pkg && name.startsWith(`${pkg}.`) ? name.slice(pkg.length + 1) : name;
}

/** Renders a proto reference; see the module documentation. */
class Renderer {
  readonly #maps = new Map<string, DescriptorProto>();
  readonly #known = new Set<string>();

  constructor(files: readonly FileDescriptorProto[]) {
    for (const f of files) {
      const { messages, enums } = declarations(f);
      for (const m of messages) {
        if (m.decl.options?.mapEntry) this.#maps.set(m.fullName, m.decl);
        else this.#known.add(m.fullName);
      }
      for (const e of enums) this.#known.add(e.fullName);
    }
  }

  /** A type reference: linked when it is documented here. */
  typeRef(typeName: string, pkg: string): string {
    const name = shortName(typeName, pkg);
    return this.#known.has(typeName)
      ? `[\`${name}\`](#${anchor(typeName)})`
      : `\`${name}\``;
  }

  fieldType(f: FieldDescriptorProto, pkg: string): string {
    const entry = f.typeName ? this.#maps.get(f.typeName) : undefined;
    if (entry) {
      const [k, v] = entry.field;
      return `map<${this.fieldType(k, pkg)}, ${this.fieldType(v, pkg)}>`;
    }
    if (f.typeName) return this.typeRef(f.typeName, pkg);
    return `\`${FieldDescriptorProto_Type[f.type].toLowerCase()}\``;
  }

  isMap(f: FieldDescriptorProto): boolean {
    return f.typeName !== undefined && this.#maps.has(f.typeName);
  }
}

function fieldLabel(
  f: FieldDescriptorProto,
  m: DescriptorProto,
  isMap: boolean,
): string {
  if (isMap) return "map";
  if (f.label === FieldDescriptorProto_Label.REPEATED) return "repeated";
  if (f.label === FieldDescriptorProto_Label.REQUIRED) return "required";
  if (f.proto3Optional) return "optional";
  if (isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex)) {
    return `oneof \`${m.oneofDecl[f.oneofIndex]?.name ?? "?"}\``;
  }
  return "";
}

function renderService(
  s: ServiceDescriptorProto,
  index: number,
  file: FileDescriptorProto,
  comments: Comments,
  r: Renderer,
): string[] {
  const pkg = file.package ?? "";
  const full = pkg ? `${pkg}.${s.name}` : s.name;
  const path = [FILE_SERVICE, index];
  const lines = [
    `<a id="${full}"></a>`,
    "",
    `#### ${s.name}`,
    "",
    `Service \`${full}\`, defined in \`${file.name}\`.`,
    "",
  ];
  const doc = comments.get(path.join(","));
  if (doc) lines.push(doc, "");
  lines.push(
    "| method | request | response | description |",
    "| --- | --- | --- | --- |",
  );
  s.method.forEach((m, i) => {
    const stream = (on: boolean | undefined) => (on ? "stream " : "");
    lines.push(
      `| \`${m.name}\` | ${stream(m.clientStreaming)}${
        r.typeRef(m.inputType ?? "", pkg)
      } | ${stream(m.serverStreaming)}${r.typeRef(m.outputType ?? "", pkg)} | ${
        cell(comments.get([...path, SERVICE_METHOD, i].join(",")) ?? "")
      } |`,
    );
  });
  lines.push("");
  return lines;
}

/**
 * The start of a message's or enum's section: its anchor, heading, kind and
 * file, and its doc comment.
 */
function declarationHead(
  d: Declared<unknown>,
  pkg: string,
  comments: Comments,
  kind: "Message" | "Enum",
): string[] {
  const lines = [
    `<a id="${anchor(d.fullName)}"></a>`,
    "",
    `#### ${shortName(d.fullName, pkg)}`,
    "",
    `${kind}, defined in \`${d.file}\`.`,
    "",
  ];
  const doc = comments.get(d.path.join(","));
  if (doc) lines.push(doc, "");
  return lines;
}

function renderMessage(
  d: Declared<DescriptorProto>,
  pkg: string,
  comments: Comments,
  r: Renderer,
): string[] {
  const m = d.decl;
  const lines = declarationHead(d, pkg, comments, "Message");
  if (m.field.length === 0) {
    lines.push("No fields.", "");
    return lines;
  }
  lines.push(
    "| # | field | type | label | description |",
    "| --- | --- | --- | --- | --- |",
  );
  m.field.forEach((f, i) => {
    const isMap = r.isMap(f);
    lines.push(
      `| ${f.number} | \`${f.name}\` | ${r.fieldType(f, pkg)} | ${
        fieldLabel(f, m, isMap)
      } | ${
        cell(comments.get([...d.path, MESSAGE_FIELD, i].join(",")) ?? "")
      } |`,
    );
  });
  lines.push("");
  return lines;
}

function renderEnum(
  d: Declared<EnumDescriptorProto>,
  pkg: string,
  comments: Comments,
): string[] {
  const lines = declarationHead(d, pkg, comments, "Enum");
  lines.push("| value | number | description |", "| --- | --- | --- |");
  d.decl.value.forEach((v, i) => {
    lines.push(
      `| \`${v.name}\` | ${v.number} | ${
        cell(comments.get([...d.path, ENUM_VALUE, i].join(",")) ?? "")
      } |`,
    );
  });
  lines.push("");
  return lines;
}

/**
 * The Markdown reference of every package of `set` (not yet formatted by
 * `deno fmt`). Packages and files are sorted by name; declarations keep their
 * file order. Map entry messages appear as `map<K, V>` field types only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
 * const set = create(FileDescriptorSetSchema, {
 *   file: [{ name: "a.proto", package: "p", messageType: [{ name: "M" }] }],
 * });
 * assert.match(renderProtoReference(set), /#### M/);
 * ```
 */
export function renderProtoReference(set: FileDescriptorSet): string {
  const r = new Renderer(set.file);
  const packages = new Map<string, FileDescriptorProto[]>();
  for (const f of set.file) {
    const pkg = f.package ?? "";
    packages.set(pkg, [...(packages.get(pkg) ?? []), f]);
  }
  const out = [
    "# Protobuf reference",
    "",
    "Generated by `deno task docs` from the `.proto` files under `proto/` " +
    "(`buf build`, comments included). Do not edit.",
    "",
  ];
  for (const pkg of [...packages.keys()].sort()) {
    const files = packages.get(pkg)!.sort((a, b) =>
      (a.name ?? "").localeCompare(b.name ?? "")
    );
    out.push(`## Package \`${pkg || "(none)"}\``, "");
    out.push(`Files: ${files.map((f) => `\`${f.name}\``).join(", ")}.`, "");
    const services: string[] = [];
    const messages: string[] = [];
    const enums: string[] = [];
    for (const f of files) {
      const comments = commentsOf(f);
      f.service.forEach((s, i) =>
        services.push(...renderService(s, i, f, comments, r))
      );
      const decls = declarations(f);
      for (const d of decls.messages) {
        if (d.decl.options?.mapEntry) continue;
        messages.push(...renderMessage(d, pkg, comments, r));
      }
      for (const d of decls.enums) enums.push(...renderEnum(d, pkg, comments));
    }
    if (services.length) out.push("### Services", "", ...services);
    if (messages.length) out.push("### Messages", "", ...messages);
    if (enums.length) out.push("### Enums", "", ...enums);
  }
  return `${out.join("\n")}\n`;
}
