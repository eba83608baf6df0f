/**
 * Configuration of the reference server: every setting is a `QMTL_*`
 * environment variable, declared once in {@linkcode CONFIG_VARIABLES} (the
 * README's configuration table is checked against it by a test) and
 * validated at start-up. A bad value stops the process with a message that
 * names the variable and what it expects. The variables read by tools (the
 * CLI and SDK examples, the local stack, the benchmarks) are declared in the
 * same list with `scope: "tooling"`: the server accepts and ignores them,
 * and refuses any other unknown `QMTL_*` name (a typo must not fall back to a
 * default silently).
 *
 * @module
 */

import { parseAllowHosts } from "../webhooks/address_policy.ts";

/** The value kinds a variable can have. */
export type VariableKind =
  | "string"
  | "port"
  | "int"
  | "bool"
  | "url"
  | "enum"
  | "list"
  | "emails"
  | "replicas";

/**
 * Declaration of one `QMTL_*` variable.
 *
 * @example
 * ```ts
 * import type { VariableSpec } from "@qmtl/qmtl/server";
 * const v: VariableSpec = { name: "QMTL_PORT", kind: "port", default: "8080", description: "TCP port." };
 * ```
 */
export interface VariableSpec {
  /** Environment variable name, `QMTL_` prefixed. */
  name: string;
  /**
   * Who reads it: the server (default), or a tool (`tooling`: the CLI, SDK
   * examples, the local stack, benchmarks), which the server ignores.
   */
  scope?: "server" | "tooling";
  /** For tooling variables: what reads it. */
  usedBy?: string;
  /** How the raw string is parsed. */
  kind: VariableKind;
  /** Default as it would be written in the environment; undefined = unset. */
  default?: string;
  /** Allowed values for `enum`; allowed URL schemes for `url`. */
  values?: string[];
  /** Minimum for `int`. */
  min?: number;
  /** One line for the README table. */
  description: string;
  /** True when the value must never be printed or logged. */
  secret?: boolean;
}

/**
 * Every variable the reference server reads.
 *
 * @example
 * ```ts
 * import { CONFIG_VARIABLES } from "@qmtl/qmtl/server";
 * console.log(CONFIG_VARIABLES.map((v) => v.name).join("\n"));
 * ```
 */
export const CONFIG_VARIABLES: readonly VariableSpec[] = [
  {
    name: "QMTL_HOST",
    kind: "string",
    description:
      "Interface to bind. Default `127.0.0.1`; dev mode (no JWT key) always binds 127.0.0.1.",
    default: "127.0.0.1",
  },
  {
    name: "QMTL_PORT",
    kind: "port",
    default: "8080",
    description: "TCP port of the HTTP server (0 picks a free port).",
  },
  {
    name: "QMTL_NEO4J_URL",
    kind: "url",
    values: [
      "bolt:",
      "bolt+s:",
      "bolt+ssc:",
      "neo4j:",
      "neo4j+s:",
      "neo4j+ssc:",
    ],
    description:
      "Neo4j Bolt URL of the global DAG registry. Unset: embedded in-memory registry.",
  },
  {
    name: "QMTL_NEO4J_USER",
    kind: "string",
    description: "Neo4j user (unset: no authentication).",
  },
  {
    name: "QMTL_NEO4J_PASSWORD",
    kind: "string",
    secret: true,
    description: "Neo4j password.",
  },
  {
    name: "QMTL_NEO4J_DATABASE",
    kind: "string",
    default: "neo4j",
    description: "Neo4j database name.",
  },
  {
    name: "QMTL_NEO4J_NAMESPACE",
    kind: "string",
    description:
      "Namespace of this deployment's nodes in the Neo4j database (`[A-Za-z0-9_.-]`; several registries share one database). Default: `QMTL_NAMESPACE` when that is set, else `default`.",
  },
  {
    name: "QMTL_NEO4J_MIGRATE",
    kind: "enum",
    values: ["auto", "check"],
    default: "check",
    description:
      "`auto` applies missing schema migrations at start-up; `check` only warns and names `deno task migrate`.",
  },
  {
    name: "QMTL_REDIS_URL",
    kind: "url",
    values: ["redis:", "rediss:", "redis+sentinel:", "rediss+sentinel:"],
    description:
      "`redis://[user:pass@]host:port/db` or `redis+sentinel://[user:pass@]h1:p1,h2:p2/<master>/<db>`. Unset: in-memory queue.",
  },
  {
    name: "QMTL_NAMESPACE",
    kind: "string",
    default: "qmtl",
    description:
      "Namespace of this deployment (1-64 of `A-Z a-z 0-9 _ . -`): every Redis name derives from it — diff and webhook queues `{<ns>:q:diff}` / `{<ns>:q:webhook}`, strategy store `<ns>:gw:`, event log `<ns>:ev`, topics `{<ns>:topics}` — and, when set, the Neo4j namespace. Deployments sharing one Redis need different namespaces; a marker key (`<ns>:gw:namespace`) names the registry the namespace belongs to, and a gateway pointed at another registry refuses to start.",
  },
  {
    name: "QMTL_REDIS_WAIT_REPLICAS",
    kind: "replicas",
    description:
      "Replicas that must confirm a write (`WAIT n`) before it is acknowledged: `true`/`false` or a count. Default: 1 with Sentinel, 0 otherwise.",
  },
  {
    name: "QMTL_REDIS_WAIT_TIMEOUT_MS",
    kind: "int",
    min: 1,
    default: "1000",
    description:
      "How long a write waits for replica confirmation before the caller gets a retryable `DurabilityError`.",
  },
  {
    name: "QMTL_JWT_SECRET",
    kind: "string",
    secret: true,
    description:
      "HS256 secret (≥ 32 bytes) for bearer tokens. Unset with no JWKS: dev mode (127.0.0.1, generated key, printed token).",
  },
  {
    name: "QMTL_JWT_JWKS_URL",
    kind: "url",
    values: ["http:", "https:"],
    description: "JWKS URL for RS*/ES* tokens.",
  },
  {
    name: "QMTL_JWT_ISSUER",
    kind: "string",
    default: "qmtl",
    description: "Required `iss` claim.",
  },
  {
    name: "QMTL_JWT_AUDIENCE",
    kind: "string",
    default: "qmtl-gateway",
    description: "Required `aud` claim.",
  },
  {
    name: "QMTL_JWT_ROLES_CLAIM",
    kind: "string",
    default: "roles",
    description:
      "Claim holding the caller's roles (an array, or a space/comma-separated string). Dev tokens carry their roles under it too.",
  },
  {
    name: "QMTL_JWT_ALGORITHMS",
    kind: "list",
    values: [
      "HS256",
      "HS384",
      "HS512",
      "RS256",
      "RS384",
      "RS512",
      "PS256",
      "ES256",
      "ES384",
      "EdDSA",
    ],
    description:
      "Allowed JWT algorithms, comma-separated. Default: HS256 with a secret, RS256,ES256 with JWKS.",
  },
  {
    name: "QMTL_JWT_CLOCK_SKEW_S",
    kind: "int",
    min: 0,
    default: "30",
    description: "Tolerated clock skew for `exp`/`nbf`, seconds (at most 300).",
  },
  {
    name: "QMTL_STATE_DIR",
    kind: "string",
    description:
      "Folder of the server's local state: the dev-mode signing key (`dev-jwt.key`, mode 0600), so that dev tokens survive restarts; `deno task qmtl token` signs with it. Default `$XDG_STATE_HOME/qmtl`, else `~/.local/state/qmtl` (`%LOCALAPPDATA%\\qmtl` on Windows).",
  },
  {
    name: "QMTL_MAX_BODY_BYTES",
    kind: "int",
    min: 1024,
    default: "8388608",
    description: "Largest accepted request body.",
  },
  {
    name: "QMTL_HTTP_HEADER_TIMEOUT_MS",
    kind: "int",
    min: 1,
    default: "10000",
    description:
      "A new connection's first request head must be complete within this (slowloris); the connection is closed otherwise.",
  },
  {
    name: "QMTL_HTTP_BODY_TIMEOUT_MS",
    kind: "int",
    min: 1,
    default: "60000",
    description:
      "A request body must be complete this long after the server starts reading it; otherwise `408` and the connection is closed.",
  },
  {
    name: "QMTL_HTTP_IDLE_TIMEOUT_MS",
    kind: "int",
    min: 1,
    default: "15000",
    description:
      "Longest client silence: a body read waiting for bytes (`408`), or a keep-alive connection with no request in flight (closed).",
  },
  {
    name: "QMTL_HTTP_MAX_CONNECTIONS",
    kind: "int",
    min: 1,
    default: "1024",
    description:
      "Open connections above which a new one gets `503` + `Connection: close` at once. Keep it below the open-file limit (`ulimit -Hn`).",
  },
  {
    name: "QMTL_WEBHOOK_SECRET",
    kind: "string",
    secret: true,
    description:
      "HMAC-SHA256 key for webhook signatures. Unset: generated per process (dev).",
  },
  {
    name: "QMTL_DIFF_MAX_ATTEMPTS",
    kind: "int",
    min: 1,
    default: "8",
    description:
      "Attempts of one strategy's diff before it goes FAILED with the reason. A permanent failure (invalid or too big for the store) fails at once; a transient one counts while the registry is healthy (during an outage strategies stay QUEUED and diffs pause); an attempt whose worker died counts too.",
  },
  {
    name: "QMTL_DIFF_LEASE_MS",
    kind: "int",
    min: 1000,
    default: "30000",
    description:
      "Lease of a diff job, ms (extended every third of it while the diff runs). A job whose worker died — or whose lease a Redis failover could not confirm — comes back after this long.",
  },
  {
    name: "QMTL_GC_INTERVAL_MS",
    kind: "int",
    min: 0,
    default: "60000",
    description:
      "How often retired strategies' unshared nodes and their topics are collected, ms. `0` turns scheduled GC off.",
  },
  {
    name: "QMTL_GC_GRACE_MS",
    kind: "int",
    min: 0,
    default: "3600000",
    description:
      "A node no live strategy references is collected once unused this long, ms.",
  },
  {
    name: "QMTL_TOPIC_RETENTION_MS",
    kind: "int",
    min: 1,
    default: "604800000",
    description:
      "Default retention of a node topic, ms (bars older than the newest bar minus this are dropped).",
  },
  {
    name: "QMTL_TOPIC_MAX_LEN",
    kind: "int",
    min: 1,
    default: "100000",
    description:
      "Default maximum number of bars kept per topic (approximate on Redis).",
  },
  {
    name: "QMTL_WEBHOOK_ALLOW_HOSTS",
    kind: "string",
    description:
      "Webhook callback hosts admitted besides public addresses (local development), comma-separated: `host`, `host:port`, `1.2.3.4[:port]`, `[::1][:port]` or a CIDR block `10.0.0.0/8`. Unset: callbacks to loopback, private, link-local, CGNAT, multicast… addresses are refused.",
  },
  {
    name: "QMTL_POLICY_MAX_NODES",
    kind: "int",
    min: 0,
    default: "50000",
    description:
      "Submission policy: most nodes in one strategy DAG (`E_POLICY` above). `0`: no limit.",
  },
  {
    name: "QMTL_POLICY_MAX_DEPTH",
    kind: "int",
    min: 0,
    default: "1000",
    description:
      "Submission policy: longest input chain inside one DAG, in nodes (`E_POLICY` above). `0`: no limit.",
  },
  {
    name: "QMTL_POLICY_SUBMISSIONS_PER_MINUTE",
    kind: "int",
    min: 0,
    default: "120",
    description:
      "Submission policy: SubmitStrategy calls per subject per rolling minute (`E_RATE_LIMITED` 429 + `Retry-After` above). `0`: no limit.",
  },
  {
    name: "QMTL_POLICY_ALLOWED_NODE_TYPES",
    kind: "list",
    description:
      "Submission policy: the only node types that may be submitted, comma-separated. Unset: any.",
  },
  {
    name: "QMTL_ALERT_WEBHOOK_URL",
    kind: "url",
    values: ["http:", "https:"],
    secret: true,
    description:
      "Alerts: a JSON webhook that receives a POST per alert (see docs/operations.md). Unset: no webhook sink.",
  },
  {
    name: "QMTL_ALERT_SLACK_WEBHOOK_URL",
    kind: "url",
    values: ["http:", "https:"],
    secret: true,
    description: "Alerts: a Slack incoming-webhook URL. Unset: no Slack sink.",
  },
  {
    name: "QMTL_ALERT_SMTP_HOST",
    kind: "string",
    description:
      "Alerts: SMTP relay for e-mail alerts (needs `QMTL_ALERT_SMTP_FROM` and `_TO`). Unset: no e-mail sink.",
  },
  {
    name: "QMTL_ALERT_SMTP_PORT",
    kind: "port",
    description: "Alerts: SMTP port. Default 465 with `tls`, else 587.",
  },
  {
    name: "QMTL_ALERT_SMTP_TLS",
    kind: "enum",
    values: ["starttls", "tls", "none"],
    default: "starttls",
    description:
      "Alerts: `starttls` (required upgrade), `tls` (implicit TLS) or `none` (trusted local relay only).",
  },
  {
    name: "QMTL_ALERT_SMTP_USER",
    kind: "string",
    description: "Alerts: SMTP user (unset: no authentication).",
  },
  {
    name: "QMTL_ALERT_SMTP_PASSWORD",
    kind: "string",
    secret: true,
    description: "Alerts: SMTP password.",
  },
  {
    name: "QMTL_ALERT_SMTP_FROM",
    kind: "emails",
    description: "Alerts: sender address of e-mail alerts.",
  },
  {
    name: "QMTL_ALERT_SMTP_TO",
    kind: "emails",
    description: "Alerts: recipients of e-mail alerts, comma-separated.",
  },
  {
    name: "QMTL_ALERT_DEDUP_WINDOW_MS",
    kind: "int",
    min: 0,
    default: "600000",
    description:
      "Alerts: the same alert (condition, subject, status) is sent once per window (0 = no de-duplication).",
  },
  {
    name: "QMTL_ALERT_RATE_LIMIT_PER_MINUTE",
    kind: "int",
    min: 1,
    default: "20",
    description: "Alerts: most alerts sent to one sink per rolling minute.",
  },
  {
    name: "QMTL_ALERT_SINK_TIMEOUT_MS",
    kind: "int",
    min: 100,
    default: "5000",
    description:
      "Alerts: bound of one delivery attempt; a slower sink is abandoned and the attempt counted as `timeout`.",
  },
  {
    name: "QMTL_ALERT_CHECK_INTERVAL_MS",
    kind: "int",
    min: 100,
    default: "5000",
    description:
      "Interval of the dependency checks (Redis, Neo4j, replica confirmation) and of the dead-letter and failed-strategy checks.",
  },
  {
    name: "QMTL_ALERT_DEPENDENCY_DOWN_MS",
    kind: "int",
    min: 0,
    default: "30000",
    description:
      "Alerts: Redis or Neo4j unreachable this long raises `dependency_unreachable` (its recovery raises `resolved`).",
  },
  {
    name: "QMTL_ALERT_FAILED_STRATEGIES",
    kind: "int",
    min: 1,
    default: "3",
    description:
      "Alerts: this many FAILED transitions inside `QMTL_ALERT_FAILED_WINDOW_MS` raise `strategies_failing`.",
  },
  {
    name: "QMTL_ALERT_FAILED_WINDOW_MS",
    kind: "int",
    min: 1000,
    default: "600000",
    description: "Alerts: window of `QMTL_ALERT_FAILED_STRATEGIES`.",
  },
  {
    name: "QMTL_LOG_LEVEL",
    kind: "enum",
    values: ["debug", "info", "warn", "error"],
    default: "info",
    description: "Structured JSON log threshold.",
  },
  ...tooling([
    [
      "QMTL_URL",
      "CLI, SDK examples",
      "Gateway base URL (default `http://127.0.0.1:8080`).",
    ],
    [
      "QMTL_TOKEN",
      "CLI, SDK examples",
      "Bearer token sent to the Gateway (`deno task serve` prints a dev one; `deno task qmtl token` signs one).",
    ],
    [
      "QMTL_WATCH_TIMEOUT_MS",
      "examples/watch_events.ts",
      "How long the example follows events before giving up (default 30000).",
    ],
    [
      "QMTL_STACK_DIR",
      "deploy/local/stack.sh",
      "Data, logs and pid files of the local stack (default `/tmp/qmtl-stack`; `deno task test` uses `/tmp/qmtl-stack-test`).",
    ],
    [
      "QMTL_STACK_REDIS_PORT",
      "deploy/local/stack.sh",
      "Redis master port of the local stack (the replica is +1).",
    ],
    [
      "QMTL_STACK_SENTINEL_PORT",
      "deploy/local/stack.sh",
      "First Sentinel port of the local stack (the others are +1, +2).",
    ],
    [
      "QMTL_STACK_BOLT_PORT",
      "deploy/local/stack.sh",
      "Neo4j Bolt port of the local stack.",
    ],
    [
      "QMTL_STACK_MASTER_NAME",
      "deploy/local/stack.sh",
      "Sentinel master name of the local stack (default `qmtl`).",
    ],
    [
      "QMTL_STACK_DOWN_AFTER_MS",
      "deploy/local/stack.sh",
      "Sentinel `down-after-milliseconds` of the local stack (default 1000).",
    ],
    [
      "QMTL_STACK_NEO4J_HEAP",
      "deploy/local/stack.sh",
      "JVM heap of the local Neo4j, initial and maximum (default `1g`).",
    ],
    [
      "QMTL_STACK_NEO4J_HEAP_INITIAL",
      "deploy/local/stack.sh",
      "Initial JVM heap of the local Neo4j when it should differ from the maximum (default: `QMTL_STACK_NEO4J_HEAP`).",
    ],
    [
      "QMTL_BENCH_TOKEN",
      "bench/http/wrk_report.lua",
      "Bearer token wrk sends in `deno task bench` (set by the bench itself).",
    ],
  ]),
];

function tooling(
  rows: [name: string, usedBy: string, description: string][],
): VariableSpec[] {
  return rows.map(([name, usedBy, description]) => ({
    name,
    kind: "string",
    scope: "tooling",
    usedBy,
    description,
  }));
}

/**
 * The default folder of the server's local state (the dev key): `QMTL_STATE_DIR`,
 * else `$XDG_STATE_HOME/qmtl`, `~/.local/state/qmtl`, or `%LOCALAPPDATA%\qmtl`
 * on Windows; undefined when the environment names no home folder.
 *
 * @param env the environment, e.g. `Deno.env.toObject()`
 * @example
 * ```ts
 * import { stateDirFromEnv } from "@qmtl/qmtl/server";
 * import assert from "node:assert/strict";
 * assert.equal(stateDirFromEnv({ HOME: "/home/ada" }), "/home/ada/.local/state/qmtl");
 * assert.equal(stateDirFromEnv({ QMTL_STATE_DIR: "/var/lib/qmtl", HOME: "/x" }), "/var/lib/qmtl");
 * ```
 */
export function stateDirFromEnv(
  env: Record<string, string | undefined>,
): string | undefined {
  if (env.QMTL_STATE_DIR) return env.QMTL_STATE_DIR;
  if (env.XDG_STATE_HOME) return `${env.XDG_STATE_HOME}/qmtl`;
  if (env.HOME) return `${env.HOME}/.local/state/qmtl`;
  if (env.LOCALAPPDATA) return `${env.LOCALAPPDATA}\\qmtl`;
  return undefined;
}

/** Typed, validated server configuration. */
export interface ServerConfig {
  /** Interface to bind. */
  host: string;
  /** Port to bind. */
  port: number;
  /** Neo4j settings, or undefined for the in-memory registry. */
  neo4j?: {
    url: string;
    user?: string;
    password?: string;
    database: string;
    /** Namespace of this deployment's nodes in the database. */
    namespace: string;
    migrate: "auto" | "check";
  };
  /** Namespace of every Redis name of this deployment (`QMTL_NAMESPACE`). */
  namespace: string;
  /** Diff worker settings. */
  diff: {
    /** Attempts of one diff before its strategy goes FAILED. */
    maxAttempts: number;
    /** Lease of a diff job, ms. */
    leaseMs: number;
  };
  /** Redis settings, or undefined for the in-memory queue. */
  redis?: {
    url: string;
    /** Replicas that confirm each write; undefined = 1 with Sentinel, else 0. */
    waitReplicas?: number;
    /** Replica confirmation timeout, ms. */
    waitTimeoutMs: number;
  };
  /** JWT verification settings. */
  jwt: {
    secret?: string;
    jwksUrl?: string;
    issuer: string;
    audience: string;
    algorithms?: string[];
    clockSkewS: number;
    /** Claim holding the roles. */
    rolesClaim: string;
  };
  /** True when no JWT key is configured: local-only dev mode. */
  devMode: boolean;
  /** Folder of local state (the dev key); undefined: nowhere to keep it. */
  stateDir?: string;
  /** Largest accepted request body, bytes. */
  maxBodyBytes: number;
  /** HTTP transport limits (see `serveGateway`). */
  http: {
    headerTimeoutMs: number;
    bodyTimeoutMs: number;
    idleTimeoutMs: number;
    maxConnections: number;
  };
  /** Webhook signing secret, if configured. */
  webhookSecret?: string;
  /** Webhook callback allow-list entries (validated), if configured. */
  webhookAllowHosts?: string[];
  /** Log threshold. */
  logLevel: "debug" | "info" | "warn" | "error";
  /** Alert sinks, limits and thresholds. */
  alerts: AlertConfig;
  /** Scheduled GC: interval (0 = off) and grace period, ms. */
  gc: { intervalMs: number; graceMs: number };
  /** Defaults of node topics. */
  topics: { retentionMs: number; maxLen: number };
  /** Default submission-policy limits (0 = unlimited; node types absent = any). */
  policy: {
    maxNodes?: number;
    maxDepth?: number;
    submissionsPerMinute?: number;
    allowedNodeTypes?: string[];
  };
}

/**
 * Alert settings of {@link ServerConfig} (`QMTL_ALERT_*`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "@qmtl/qmtl/server";
 * const a = loadConfig({ QMTL_ALERT_WEBHOOK_URL: "https://alerts.example/qmtl" }).alerts;
 * assert.equal(a.webhookUrl, "https://alerts.example/qmtl");
 * assert.equal(a.dedupWindowMs, 600000);
 * ```
 */
export interface AlertConfig {
  /** JSON webhook URL (secret). */
  webhookUrl?: string;
  /** Slack incoming-webhook URL (secret). */
  slackWebhookUrl?: string;
  /** SMTP relay, when e-mail alerts are configured. */
  smtp?: {
    host: string;
    port?: number;
    tls: "starttls" | "tls" | "none";
    user?: string;
    password?: string;
    from: string;
    to: string[];
  };
  /** De-duplication window, ms. */
  dedupWindowMs: number;
  /** Alerts per sink per minute. */
  rateLimitPerMinute: number;
  /** Bound of one delivery attempt, ms. */
  sinkTimeoutMs: number;
  /** Interval of the dependency and queue checks, ms. */
  checkIntervalMs: number;
  /** Unreachable this long raises `dependency_unreachable`, ms. */
  dependencyDownMs: number;
  /** FAILED transitions in the window that raise `strategies_failing`. */
  failedStrategies: number;
  /** Window of `failedStrategies`, ms. */
  failedWindowMs: number;
}

/**
 * Raised when one or more variables hold invalid values. `problems` has one
 * line per variable, naming it and what it expects.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig } from "@qmtl/qmtl/server";
 * try {
 *   loadConfig({ QMTL_PORT: "eighty" });
 * } catch (e) {
 *   if (e instanceof ConfigError) console.error(e.problems.join("\n"));
 * }
 * ```
 */
export class ConfigError extends Error {
  /** One message per invalid variable. */
  readonly problems: string[];
  /** Builds the error from its problem lines. */
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Parsed = string | number | boolean | string[] | undefined;

function parseOne(spec: VariableSpec, raw: string): Parsed | Error {
  const expect = (what: string) =>
    new Error(
      `${spec.name}=${
        spec.secret ? "<hidden>" : JSON.stringify(raw)
      }: expected ${what}`,
    );
  switch (spec.kind) {
    case "string":
      return raw;
    case "port": {
      if (!/^\d+$/.test(raw)) return expect("a port number 0-65535");
      const n = Number(raw);
      return n <= 65535 ? n : expect("a port number 0-65535");
    }
    case "int": {
      if (!/^\d+$/.test(raw)) {
        return expect(`a whole number ≥ ${spec.min ?? 0}`);
      }
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < (spec.min ?? 0)) {
        return expect(`a whole number ≥ ${spec.min ?? 0}`);
      }
      return n;
    }
    case "bool": {
      const v = raw.toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      return expect("true or false (1/0, yes/no, on/off)");
    }
    case "emails": {
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (items.length === 0) return expect("comma-separated e-mail addresses");
      const bad = items.filter((i) =>
        !/^[^\s@<>(),;:"]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(i)
      );
      return bad.length === 0 ? items : expect(
        `comma-separated e-mail addresses (not ${
          bad.map((b) => JSON.stringify(b)).join(", ")
        })`,
      );
    }
    case "replicas": {
      const v = raw.toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return 1;
      if (["0", "false", "no", "off"].includes(v)) return 0;
      if (/^\d+$/.test(v) && Number(v) <= 16) return Number(v);
      return expect("true, false or a replica count 0-16");
    }
    case "enum":
      return spec.values!.includes(raw)
        ? raw
        : expect(`one of ${spec.values!.join(", ")}`);
    case "list": {
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (items.length === 0) return expect("a comma-separated list");
      const odd = items.filter((i) => !/^[A-Za-z0-9_.:-]{1,128}$/.test(i));
      if (odd.length > 0) {
        return expect(
          `a comma-separated list of names (letters, digits, _ . : -; not ${
            odd.map((o) => JSON.stringify(o)).join(", ")
          })`,
        );
      }
      const bad = items.filter((i) => spec.values && !spec.values.includes(i));
      return bad.length === 0 ? items : expect(
        `values among ${spec.values!.join(", ")} (not ${bad.join(", ")})`,
      );
    }
    case "url": {
      const scheme = /^([a-z][a-z0-9+.-]*:)\/\/[^\s]+$/i.exec(raw)?.[1]
        ?.toLowerCase();
      const schemes = spec.values!.join(" or ");
      if (scheme === undefined) return expect(`a URL with scheme ${schemes}`);
      if (!spec.values!.includes(scheme)) {
        return expect(`a URL with scheme ${schemes} (got ${scheme})`);
      }
      // Multi-host (Sentinel) URIs are not WHATWG URLs; lib/queue parses them.
      if (!scheme.includes("sentinel")) {
        try {
          new URL(raw);
        } catch {
          return expect(`a URL with scheme ${schemes}`);
        }
      }
      return raw;
    }
  }
}

/**
 * Reads and validates every `QMTL_*` variable. Unknown `QMTL_*` names are
 * reported too (a typo must not silently fall back to a default).
 *
 * @param env the environment, e.g. `Deno.env.toObject()`
 * @throws {ConfigError} naming each invalid variable and what it expects
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "@qmtl/qmtl/server";
 * const cfg = loadConfig({ QMTL_PORT: "9000" });
 * assert.equal(cfg.port, 9000);
 * assert.equal(cfg.devMode, true); // no JWT secret or JWKS URL configured
 * ```
 */
export function loadConfig(
  env: Record<string, string | undefined>,
): ServerConfig {
  const problems: string[] = [];
  const values = new Map<string, Parsed>();
  const known = new Set(CONFIG_VARIABLES.map((v) => v.name));
  for (const name of Object.keys(env)) {
    if (name.startsWith("QMTL_") && !known.has(name)) {
      problems.push(
        `${name}: unknown variable (known: see README "Configuration")`,
      );
    }
  }
  for (const spec of CONFIG_VARIABLES) {
    if (spec.scope === "tooling") continue;
    const raw = env[spec.name] ?? spec.default;
    if (raw === undefined || raw === "") {
      values.set(spec.name, undefined);
      continue;
    }
    const v = parseOne(spec, raw);
    if (v instanceof Error) problems.push(v.message);
    else values.set(spec.name, v);
  }
  const str = (n: string) => values.get(n) as string | undefined;
  const num = (n: string) => values.get(n) as number;
  const secret = str("QMTL_JWT_SECRET");
  if (secret !== undefined && new TextEncoder().encode(secret).length < 32) {
    problems.push(
      "QMTL_JWT_SECRET=<hidden>: expected at least 32 bytes for HS256",
    );
  }
  const skew = num("QMTL_JWT_CLOCK_SKEW_S");
  if (typeof skew === "number" && skew > 300) {
    problems.push(
      `QMTL_JWT_CLOCK_SKEW_S="${skew}": expected at most 300 seconds`,
    );
  }
  const smtpHost = str("QMTL_ALERT_SMTP_HOST");
  const smtpFrom = values.get("QMTL_ALERT_SMTP_FROM") as string[] | undefined;
  const smtpTo = values.get("QMTL_ALERT_SMTP_TO") as string[] | undefined;
  if (smtpHost !== undefined) {
    if (smtpFrom === undefined) {
      problems.push(
        "QMTL_ALERT_SMTP_FROM: required when QMTL_ALERT_SMTP_HOST is set",
      );
    } else if (smtpFrom.length !== 1) {
      problems.push("QMTL_ALERT_SMTP_FROM: expected one e-mail address");
    }
    if (smtpTo === undefined) {
      problems.push(
        "QMTL_ALERT_SMTP_TO: required when QMTL_ALERT_SMTP_HOST is set",
      );
    }
  }
  if (values.get("QMTL_ALERT_SMTP_PORT") === 0) {
    problems.push('QMTL_ALERT_SMTP_PORT="0": expected a port number 1-65535');
  }
  if (
    str("QMTL_ALERT_SMTP_PASSWORD") !== undefined &&
    str("QMTL_ALERT_SMTP_USER") === undefined
  ) {
    problems.push(
      "QMTL_ALERT_SMTP_PASSWORD=<hidden>: set QMTL_ALERT_SMTP_USER too",
    );
  }
  const nsPattern = /^[A-Za-z0-9_.-]{1,64}$/;
  for (const v of ["QMTL_NAMESPACE", "QMTL_NEO4J_NAMESPACE"]) {
    const ns = str(v);
    if (ns !== undefined && !nsPattern.test(ns)) {
      problems.push(
        `${v}=${
          JSON.stringify(ns)
        }: expected 1-64 characters of A-Z a-z 0-9 _ . -`,
      );
    }
  }
  const allowHosts = str("QMTL_WEBHOOK_ALLOW_HOSTS");
  if (allowHosts !== undefined) {
    try {
      parseAllowHosts(allowHosts);
    } catch (e) {
      problems.push(
        `QMTL_WEBHOOK_ALLOW_HOSTS=${JSON.stringify(allowHosts)}: ${
          (e as Error).message
        }`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const jwksUrl = str("QMTL_JWT_JWKS_URL");
  const neo4jUrl = str("QMTL_NEO4J_URL");
  const redisUrl = str("QMTL_REDIS_URL");
  return {
    host: str("QMTL_HOST")!,
    port: num("QMTL_PORT"),
    neo4j: neo4jUrl === undefined ? undefined : {
      url: neo4jUrl,
      user: str("QMTL_NEO4J_USER"),
      password: str("QMTL_NEO4J_PASSWORD"),
      database: str("QMTL_NEO4J_DATABASE")!,
      namespace: str("QMTL_NEO4J_NAMESPACE") ??
        (env.QMTL_NAMESPACE ? str("QMTL_NAMESPACE")! : "default"),
      migrate: str("QMTL_NEO4J_MIGRATE") as "auto" | "check",
    },
    namespace: str("QMTL_NAMESPACE")!,
    diff: {
      maxAttempts: num("QMTL_DIFF_MAX_ATTEMPTS"),
      leaseMs: num("QMTL_DIFF_LEASE_MS"),
    },
    redis: redisUrl === undefined ? undefined : {
      url: redisUrl,
      waitReplicas: values.get("QMTL_REDIS_WAIT_REPLICAS") as
        | number
        | undefined,
      waitTimeoutMs: num("QMTL_REDIS_WAIT_TIMEOUT_MS"),
    },
    jwt: {
      secret,
      jwksUrl,
      issuer: str("QMTL_JWT_ISSUER")!,
      audience: str("QMTL_JWT_AUDIENCE")!,
      algorithms: values.get("QMTL_JWT_ALGORITHMS") as string[] | undefined,
      clockSkewS: num("QMTL_JWT_CLOCK_SKEW_S"),
      rolesClaim: str("QMTL_JWT_ROLES_CLAIM")!,
    },
    devMode: secret === undefined && jwksUrl === undefined,
    stateDir: stateDirFromEnv(env),
    maxBodyBytes: num("QMTL_MAX_BODY_BYTES"),
    http: {
      headerTimeoutMs: num("QMTL_HTTP_HEADER_TIMEOUT_MS"),
      bodyTimeoutMs: num("QMTL_HTTP_BODY_TIMEOUT_MS"),
      idleTimeoutMs: num("QMTL_HTTP_IDLE_TIMEOUT_MS"),
      maxConnections: num("QMTL_HTTP_MAX_CONNECTIONS"),
    },
    webhookSecret: str("QMTL_WEBHOOK_SECRET"),
    webhookAllowHosts: allowHosts?.split(",").map((h) => h.trim()).filter((
      h,
    ) => h !== ""),
    logLevel: str("QMTL_LOG_LEVEL") as ServerConfig["logLevel"],
    alerts: {
      webhookUrl: str("QMTL_ALERT_WEBHOOK_URL"),
      slackWebhookUrl: str("QMTL_ALERT_SLACK_WEBHOOK_URL"),
      smtp: smtpHost === undefined ? undefined : {
        host: smtpHost,
        port: values.get("QMTL_ALERT_SMTP_PORT") as number | undefined,
        tls: str("QMTL_ALERT_SMTP_TLS") as "starttls" | "tls" | "none",
        user: str("QMTL_ALERT_SMTP_USER"),
        password: str("QMTL_ALERT_SMTP_PASSWORD"),
        from: smtpFrom![0],
        to: smtpTo!,
      },
      dedupWindowMs: num("QMTL_ALERT_DEDUP_WINDOW_MS"),
      rateLimitPerMinute: num("QMTL_ALERT_RATE_LIMIT_PER_MINUTE"),
      sinkTimeoutMs: num("QMTL_ALERT_SINK_TIMEOUT_MS"),
      checkIntervalMs: num("QMTL_ALERT_CHECK_INTERVAL_MS"),
      dependencyDownMs: num("QMTL_ALERT_DEPENDENCY_DOWN_MS"),
      failedStrategies: num("QMTL_ALERT_FAILED_STRATEGIES"),
      failedWindowMs: num("QMTL_ALERT_FAILED_WINDOW_MS"),
    },
    gc: {
      intervalMs: num("QMTL_GC_INTERVAL_MS"),
      graceMs: num("QMTL_GC_GRACE_MS"),
    },
    topics: {
      retentionMs: num("QMTL_TOPIC_RETENTION_MS"),
      maxLen: num("QMTL_TOPIC_MAX_LEN"),
    },
    policy: {
      maxNodes: values.get("QMTL_POLICY_MAX_NODES") as number | undefined,
      maxDepth: values.get("QMTL_POLICY_MAX_DEPTH") as number | undefined,
      submissionsPerMinute: values.get("QMTL_POLICY_SUBMISSIONS_PER_MINUTE") as
        | number
        | undefined,
      allowedNodeTypes: values.get("QMTL_POLICY_ALLOWED_NODE_TYPES") as
        | string[]
        | undefined,
    },
  };
}

/**
 * The configuration of this process's environment: {@linkcode loadConfig}
 * of `Deno.env` (needs `--allow-env`).
 *
 * @param env the environment; default `Deno.env.toObject()`
 * @throws {ConfigError} naming each invalid variable and what it expects
 * @example
 * ```ts
 * import { configFromEnv } from "@qmtl/qmtl/server";
 * import assert from "node:assert/strict";
 * const cfg = configFromEnv({ QMTL_PORT: "0" });
 * assert.equal(cfg.port, 0);
 * ```
 */
export function configFromEnv(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): ServerConfig {
  return loadConfig(env);
}
