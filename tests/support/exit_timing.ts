/**
 * Run a program and measure how long it takes to exit after its last line
 * of output: a finished program must not be kept alive by a leaked timer,
 * socket or stream.
 *
 * @module
 */

/** Outcome of {@link runTimed}. */
export interface TimedRun {
  /** Exit code (137 after the safety kill). */
  code: number;
  /** Standard output, line by line (empty lines dropped). */
  stdout: string[];
  /** Standard error. */
  stderr: string;
  /** Milliseconds from the last byte of output (either stream) to the exit. */
  exitLagMs: number;
  /** True when the safety timeout killed it. */
  killed: boolean;
}

/**
 * Spawn `deno <args>` in `cwd`, read its output as it comes, and time the
 * gap between the last output and the exit. Killed after `timeoutMs`.
 */
export async function runTimed(
  args: string[],
  options: {
    cwd: URL | string;
    env?: Record<string, string>;
    timeoutMs?: number;
    stdin?: "null" | "piped";
  },
): Promise<TimedRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let lastOutput = performance.now();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    let text = "";
    for await (const chunk of stream) {
      lastOutput = performance.now();
      text += dec.decode(chunk, { stream: true });
    }
    return text + dec.decode();
  };
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, options.timeoutMs ?? 90_000);
  const [stdout, stderr, status] = await Promise.all([
    read(child.stdout),
    read(child.stderr),
    child.status.then((s) => ({ s, at: performance.now() })),
  ]);
  clearTimeout(timer);
  return {
    code: status.s.code,
    stdout: stdout.split("\n").filter((l) => l !== ""),
    stderr,
    exitLagMs: Math.max(0, status.at - lastOutput),
    killed,
  };
}

/** The largest gap from the last output line to the exit that passes. */
export const MAX_EXIT_LAG_MS = 2_000;
