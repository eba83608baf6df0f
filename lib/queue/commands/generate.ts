/**
 * Build step of the Redis Lua commands (`deno task lua`): reads
 * `lib/queue/commands/<name>-<numkeys>.lua`, resolves their
 * `-- @include includes/<file>.lua` lines and writes `mod.gen.ts`, a module
 * that embeds every resolved script as a string. The library imports only
 * the generated module, so the scripts reach the runtime without reading
 * files (the package is imported over https from JSR).
 *
 * Rules checked here (a violation is an error naming the file):
 * - a command file is named `<name>-<numkeys>.lua`, `name` in lowerCamelCase;
 * - it starts with a `--[[ … ]]` header that documents `KEYS[1]` …
 *   `KEYS[numkeys]`, each exactly once, and no other KEYS index;
 * - includes live under `includes/`, are inserted once per command (a second
 *   include of the same file is dropped) and may include others; a cycle or a
 *   missing file is an error.
 *
 * `tests/queue/commands_test.ts` fails when `mod.gen.ts` is stale.
 *
 * @module
 */

/** One command file after includes are resolved. */
export interface ResolvedCommand {
  /** Command name, from the file name (`enqueue-4.lua` → `enqueue`). */
  name: string;
  /** Number of KEYS, from the file name. */
  numberOfKeys: number;
  /** The script with every include inlined (ends with one newline). */
  lua: string;
  /** Lowercase hex SHA-1 of `lua` (what `EVALSHA` takes). */
  sha1: string;
}

/** Reads a file relative to the commands directory. */
export type ReadText = (relativePath: string) => Promise<string>;

const FILE = /^([a-z][A-Za-z0-9]*)-(\d+)\.lua$/;
const INCLUDE = /^--\s*@include\s+(\S+)\s*$/;

/**
 * Resolves the includes of one script.
 *
 * @param file Path of the script, relative to the commands directory.
 * @param read Reads a file relative to the commands directory.
 * @returns The script with its includes inlined.
 */
export async function resolveIncludes(
  file: string,
  read: ReadText,
): Promise<string> {
  const seen = new Set<string>();
  const expand = async (path: string, stack: string[]): Promise<string> => {
    const text = await read(path).catch((e) => {
      throw new Error(
        `${stack.at(-1) ?? path}: cannot read ${path}: ${(e as Error).message}`,
      );
    });
    const out: string[] = [];
    for (const line of text.split("\n")) {
      const m = INCLUDE.exec(line.trimEnd());
      if (!m) {
        out.push(line);
        continue;
      }
      const inc = m[1];
      if (!/^includes\/[A-Za-z0-9_]+\.lua$/.test(inc)) {
        throw new Error(
          `${path}: include "${inc}" must be includes/<name>.lua`,
        );
      }
      if (stack.includes(inc) || inc === path) {
        throw new Error(
          `${path}: include cycle ${[...stack, path, inc].join(" → ")}`,
        );
      }
      if (seen.has(inc)) continue;
      seen.add(inc);
      const body = (await expand(inc, [...stack, path])).replace(/\n+$/, "");
      out.push(`-- ${inc}`, body, `-- end of ${inc}`);
    }
    return out.join("\n");
  };
  return await expand(file, []);
}

/**
 * Checks the header of a command: a leading `--[[ … ]]` block documenting
 * KEYS[1..numberOfKeys].
 *
 * @param file File name, for messages.
 * @param text Script text (before includes are resolved).
 * @param numberOfKeys KEYS count from the file name.
 */
export function checkHeader(
  file: string,
  text: string,
  numberOfKeys: number,
): void {
  const m = /^--\[\[([\s\S]*?)\]\]/.exec(text);
  if (!m) {
    throw new Error(
      `${file}: must start with a --[[ … ]] header documenting KEYS and ARGV`,
    );
  }
  const documented = [...m[1].matchAll(/^\s*KEYS\[(\d+)\]/gm)].map((k) =>
    Number(k[1])
  );
  const expected = Array.from({ length: numberOfKeys }, (_, i) => i + 1);
  if (documented.join(",") !== expected.join(",")) {
    throw new Error(
      `${file}: the header documents KEYS [${
        documented.join(", ")
      }], the file name says ${numberOfKeys} key(s) [${expected.join(", ")}]`,
    );
  }
  if (!/^\s*ARGV\[/m.test(m[1]) && /\bARGV\b/.test(text.slice(m[0].length))) {
    throw new Error(`${file}: uses ARGV but its header documents none`);
  }
}

/**
 * Reads every command of a directory listing and resolves it.
 *
 * @param files File names in the commands directory (others are ignored).
 * @param read Reads a file relative to the commands directory.
 * @returns Commands sorted by name.
 */
export async function loadCommands(
  files: readonly string[],
  read: ReadText,
): Promise<ResolvedCommand[]> {
  const out: ResolvedCommand[] = [];
  const names = new Set<string>();
  for (const file of [...files].sort()) {
    if (!file.endsWith(".lua")) continue;
    const m = FILE.exec(file);
    if (!m) {
      throw new Error(
        `${file}: a command file is named <name>-<numkeys>.lua (name in lowerCamelCase)`,
      );
    }
    const [, name, keys] = m;
    if (names.has(name)) throw new Error(`${file}: command ${name} twice`);
    names.add(name);
    const numberOfKeys = Number(keys);
    checkHeader(file, await read(file), numberOfKeys);
    const lua = (await resolveIncludes(file, read)).replace(/\n*$/, "\n");
    out.push({ name, numberOfKeys, lua, sha1: await sha1Hex(lua) });
  }
  return out.sort((a, b) => a.name < b.name ? -1 : 1);
}

async function sha1Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(text),
  );
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function template(s: string): string {
  return "`" + s.replace(/[\\`]/g, "\\$&").replace(/\$\{/g, "\\${") + "`";
}

/**
 * The text of `mod.gen.ts` for these commands (already `deno fmt` clean).
 *
 * @param commands Resolved commands.
 * @returns TypeScript source.
 */
export function renderModule(commands: readonly ResolvedCommand[]): string {
  const names = commands.map((c) => JSON.stringify(c.name));
  const lines = [
    "// Generated by `deno task lua` (lib/queue/commands/generate.ts) from",
    "// lib/queue/commands/*.lua. Do not edit: edit the .lua files and re-run.",
    "",
    "/** A Lua command: its KEYS count and its source with includes inlined. */",
    "export interface LuaCommand {",
    "  /** Number of KEYS the script takes. */",
    "  numberOfKeys: number;",
    "  /** SHA-1 of `lua`, for `EVALSHA`. */",
    "  sha1: string;",
    "  /** Script source. */",
    "  lua: string;",
    "}",
    "",
    "/** Names of the commands. */",
    `export type CommandName =`,
    ...names.map((n, i) => `  | ${n}${i === names.length - 1 ? ";" : ""}`),
    "",
    "/** Every command, by name. */",
    "export const COMMANDS: Readonly<Record<CommandName, LuaCommand>> = {",
  ];
  for (const c of commands) {
    lines.push(
      `  ${c.name}: {`,
      `    numberOfKeys: ${c.numberOfKeys},`,
      `    sha1: "${c.sha1}",`,
      `    lua: ${template(c.lua)},`,
      "  },",
    );
  }
  lines.push("};", "");
  return lines.join("\n");
}

/**
 * Renders the module from the `.lua` files of a directory.
 *
 * @param dir The commands directory.
 * @returns TypeScript source of `mod.gen.ts`.
 */
export async function renderFromDirectory(dir: URL): Promise<string> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile) files.push(e.name);
  const commands = await loadCommands(
    files,
    (p) => Deno.readTextFile(new URL(p, dir)),
  );
  return renderModule(commands);
}

if (import.meta.main) {
  const dir = new URL("./", import.meta.url);
  const text = await renderFromDirectory(dir);
  const target = new URL("mod.gen.ts", dir);
  const old = await Deno.readTextFile(target).catch(() => "");
  if (old === text) console.log("lib/queue/commands/mod.gen.ts is up to date");
  else {
    await Deno.writeTextFile(target, text);
    console.log("wrote lib/queue/commands/mod.gen.ts");
  }
}
