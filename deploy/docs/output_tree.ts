/**
 * The files `deno task docs` owns, compared with (or written to) the
 * repository: `findStale` lists what differs, `writeOutputs` writes it.
 * A generated folder is owned whole: a file in it that the task no longer
 * generates is stale, and is deleted on write.
 *
 * @module
 */

/** What the task generates. */
export interface Outputs {
  /** Path relative to the repository root → content. */
  files: Map<string, string>;
  /** Folders (relative, ending in `/`) owned whole by the task. */
  ownedDirs: string[];
}

/** Relative paths of every file under `dir` (recursively); none if missing. */
async function listFiles(root: URL, dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(new URL(rel, root)));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries) {
      if (e.isDirectory) await walk(`${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * Paths (relative to `root`) whose committed content differs from the
 * generated one: changed or missing files, and files of an owned folder that
 * are no longer generated. Sorted.
 *
 * @example
 * ```ts ignore
 * const stale = await findStale(new URL("./", import.meta.url), outputs);
 * ```
 */
export async function findStale(
  root: URL,
  outputs: Outputs,
): Promise<string[]> {
  const stale = new Set<string>();
  for (const [path, text] of outputs.files) {
    const now = await Deno.readTextFile(new URL(path, root)).catch(() => null);
    if (now !== text) stale.add(path);
  }
  for (const dir of outputs.ownedDirs) {
    for (const path of await listFiles(root, dir)) {
      if (!outputs.files.has(path)) stale.add(path);
    }
  }
  return [...stale].sort();
}

/**
 * Writes the stale files and deletes the files of owned folders that are no
 * longer generated. Returns the paths written or deleted.
 *
 * @example
 * ```ts ignore
 * const changed = await writeOutputs(new URL("./", import.meta.url), outputs);
 * ```
 */
export async function writeOutputs(
  root: URL,
  outputs: Outputs,
): Promise<string[]> {
  const stale = await findStale(root, outputs);
  for (const path of stale) {
    const url = new URL(path, root);
    const text = outputs.files.get(path);
    if (text === undefined) {
      await Deno.remove(url);
      continue;
    }
    await Deno.mkdir(new URL(".", url), { recursive: true });
    await Deno.writeTextFile(url, text);
  }
  return stale;
}
