/**
 * The shapes shared by the benchmark runner and its groups: what a group is
 * given ({@linkcode GroupContext}), what it returns ({@linkcode GroupReport}),
 * and one measured figure ({@linkcode Figure}).
 *
 * @module
 */

/** The figure's peer: the same work done by something else, in the same run. */
export interface Peer {
  /** What the peer is, e.g. "bare Deno.serve, identical response". */
  name: string;
  /** Its measured value. */
  value: number;
  /** Its unit, when it differs from the figure's. */
  unit?: string;
}

/** A target the figure is checked against. */
export interface Target {
  /** The target as written in the brief, e.g. "≥ 80 % of bare". */
  text: string;
  /** Whether this run met it. */
  met: boolean;
}

/** One measured figure. */
export interface Figure {
  /** What was measured. */
  name: string;
  /** The value (NaN when the measurement failed: see `detail`). */
  value: number;
  /** Unit of `value`, e.g. "req/s", "ms". */
  unit: string;
  /** The same work by a peer in the same run. */
  peer?: Peer;
  /**
   * The ratio quoted against the peer; default `value / peer.value`. A
   * group that defines it otherwise says so in `ratioNote`.
   */
  ratio?: number;
  /** How the ratio reads, e.g. "of bare" or "× BullMQ". */
  ratioNote?: string;
  /** The target, when there is one. */
  target?: Target;
  /** Spread, sample counts, percentiles, memory: anything a reader needs. */
  detail?: string;
}

/** What a group hands back. */
export interface GroupReport {
  /** Measured figures, in reading order. */
  figures: Figure[];
  /** Method notes: what ran where, pinning, sizes, how memory was read. */
  notes: string[];
}

/** Services found in the environment. */
export interface Services {
  /** `QMTL_NEO4J_URL`, when set. */
  neo4jUrl?: string;
  /** `QMTL_REDIS_URL`, when set. */
  redisUrl?: string;
}

/** Everything a group may use. */
export interface GroupContext {
  /** Tiny sizes, seconds in total (the smoke test). */
  quick: boolean;
  /** Repository root (file URL, ends with `/`). */
  root: URL;
  /** A scratch folder for this run (deleted at the end). */
  tmpDir: string;
  /** Real services from the environment. */
  services: Services;
  /** Progress line to stderr. */
  log(message: string): void;
}

/** A registered benchmark group. */
export interface BenchGroup {
  /** Short name used by `--only`, e.g. "http". */
  name: string;
  /** Section title in results.md. */
  title: string;
  /** One or two sentences: what is measured and against what. */
  description: string;
  /** Services the group cannot run without. */
  needs: (keyof Services)[];
  /** Programs the group cannot run without (looked up on PATH). */
  programs?: string[];
  /** Run the group. Throwing marks the group failed in results.md. */
  run(ctx: GroupContext): Promise<GroupReport>;
}
