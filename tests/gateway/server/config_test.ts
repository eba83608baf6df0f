import assert from "node:assert/strict";
import {
  CONFIG_VARIABLES,
  ConfigError,
  loadConfig,
} from "../../../lib/gateway/server/config.ts";
import { DEFAULT_POLICY_LIMITS } from "../../../lib/gateway/mod.ts";

Deno.test("config: defaults give a dev-mode server on memory backends", () => {
  const cfg = loadConfig({});
  assert.equal(cfg.port, 8080);
  assert.equal(cfg.host, "127.0.0.1");
  assert.equal(cfg.devMode, true);
  assert.equal(cfg.neo4j, undefined);
  assert.equal(cfg.redis, undefined);
  assert.equal(cfg.jwt.clockSkewS, 30);
});

Deno.test("config: real backends and JWT secret are read", () => {
  const cfg = loadConfig({
    QMTL_NEO4J_URL: "bolt://127.0.0.1:7687",
    QMTL_NEO4J_MIGRATE: "auto",
    QMTL_REDIS_URL: "redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/qmtl/0",
    QMTL_REDIS_WAIT_REPLICAS: "off",
    QMTL_JWT_SECRET: "x".repeat(32),
    QMTL_JWT_ALGORITHMS: "HS256, HS512",
  });
  assert.equal(cfg.devMode, false);
  assert.deepEqual(cfg.neo4j, {
    url: "bolt://127.0.0.1:7687",
    user: undefined,
    password: undefined,
    database: "neo4j",
    namespace: "default",
    migrate: "auto",
  });
  assert.equal(cfg.namespace, "qmtl");
  assert.equal(cfg.diff.maxAttempts, 8);
  assert.equal(cfg.diff.leaseMs, 30_000);
  assert.equal(cfg.redis?.waitReplicas, 0);
  assert.equal(cfg.redis?.waitTimeoutMs, 1000);
  assert.deepEqual(cfg.jwt.algorithms, ["HS256", "HS512"]);
});

Deno.test("config: QMTL_NAMESPACE names the Redis keys and, when set, the Neo4j namespace", () => {
  const neo4j = { QMTL_NEO4J_URL: "bolt://127.0.0.1:7687" };
  const set = loadConfig({ ...neo4j, QMTL_NAMESPACE: "blue" });
  assert.equal(set.namespace, "blue");
  assert.equal(set.neo4j?.namespace, "blue");
  const both = loadConfig({
    ...neo4j,
    QMTL_NAMESPACE: "blue",
    QMTL_NEO4J_NAMESPACE: "shared",
  });
  assert.equal(both.namespace, "blue");
  assert.equal(both.neo4j?.namespace, "shared");
  const unset = loadConfig(neo4j);
  assert.equal(unset.namespace, "qmtl");
  assert.equal(unset.neo4j?.namespace, "default");
  assert.equal(
    loadConfig({ QMTL_DIFF_MAX_ATTEMPTS: "3" }).diff.maxAttempts,
    3,
  );
});

const bad: [Record<string, string>, RegExp][] = [
  [
    { QMTL_NAMESPACE: "a:b" },
    /QMTL_NAMESPACE="a:b": expected 1-64 characters of A-Z a-z 0-9 _ \. -/,
  ],
  [
    { QMTL_NEO4J_NAMESPACE: "x y" },
    /QMTL_NEO4J_NAMESPACE="x y": expected 1-64 characters/,
  ],
  [
    { QMTL_DIFF_MAX_ATTEMPTS: "0" },
    /QMTL_DIFF_MAX_ATTEMPTS="0": expected a whole number ≥ 1/,
  ],
  [{ QMTL_PORT: "eighty" }, /QMTL_PORT="eighty": expected a port number/],
  [{ QMTL_PORT: "70000" }, /QMTL_PORT="70000": expected a port number/],
  [
    { QMTL_NEO4J_URL: "http://x" },
    /QMTL_NEO4J_URL=.*expected a URL with scheme bolt:/,
  ],
  [{ QMTL_REDIS_URL: "not a url" }, /QMTL_REDIS_URL=.*expected a URL/],
  [
    { QMTL_NEO4J_MIGRATE: "yes" },
    /QMTL_NEO4J_MIGRATE="yes": expected one of auto, check/,
  ],
  [
    { QMTL_REDIS_WAIT_REPLICAS: "maybe" },
    /QMTL_REDIS_WAIT_REPLICAS="maybe": expected true, false or a replica count/,
  ],
  [
    { QMTL_REDIS_WAIT_TIMEOUT_MS: "0" },
    /QMTL_REDIS_WAIT_TIMEOUT_MS="0": expected a whole number ≥ 1/,
  ],
  [
    { QMTL_JWT_SECRET: "short" },
    /QMTL_JWT_SECRET=<hidden>: expected at least 32 bytes/,
  ],
  [{ QMTL_JWT_ALGORITHMS: "HS256,none" }, /QMTL_JWT_ALGORITHMS=.*\(not none\)/],
  [
    { QMTL_JWT_CLOCK_SKEW_S: "3600" },
    /QMTL_JWT_CLOCK_SKEW_S="3600": expected at most 300/,
  ],
  [
    { QMTL_MAX_BODY_BYTES: "-1" },
    /QMTL_MAX_BODY_BYTES="-1": expected a whole number/,
  ],
  [{ QMTL_PROT: "8080" }, /QMTL_PROT: unknown variable/],
];

Deno.test("config: a secret never appears in the error text", () => {
  const err = (() => {
    try {
      loadConfig({ QMTL_JWT_SECRET: "sekrit-value" });
    } catch (e) {
      return e as Error;
    }
  })();
  assert.ok(err);
  assert.ok(!err.message.includes("sekrit-value"));
});

/** `| \`NAME\` | cell | cell |` rows of README tables, by name. */
async function readmeRows(): Promise<Map<string, string[]>> {
  const readme = await Deno.readTextFile(
    new URL("../../../README.md", import.meta.url),
  );
  const rows = new Map<string, string[]>();
  for (const line of readme.split("\n")) {
    const m = /^\|\s*`(QMTL_[A-Z0-9_]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    assert.ok(!rows.has(m[1]), `README lists ${m[1]} twice`);
    rows.set(m[1], m[2].split(" | ").map((c) => c.trim()));
  }
  return rows;
}

Deno.test("config: the README tables are the declarations, row for row", async () => {
  const rows = await readmeRows();
  for (const v of CONFIG_VARIABLES) {
    const row = rows.get(v.name);
    assert.ok(row, `README configuration tables lack ${v.name}`);
    if (v.scope === "tooling") {
      assert.deepEqual(row, [v.usedBy, v.description], v.name);
    } else {
      const def = v.default === undefined ? "—" : `\`${v.default}\``;
      assert.deepEqual(row, [def, v.description], v.name);
    }
  }
  const declared = new Set(CONFIG_VARIABLES.map((v) => v.name));
  const extra = [...rows.keys()].filter((n) => !declared.has(n));
  assert.deepEqual(extra, [], "README rows without a declaration");
});

Deno.test("config: tooling variables are accepted and ignored, unknown names refused", () => {
  const tooling = CONFIG_VARIABLES.filter((v) => v.scope === "tooling");
  assert.ok(tooling.some((v) => v.name === "QMTL_TOKEN"));
  const env = Object.fromEntries(tooling.map((v) => [v.name, "x y z"]));
  assert.equal(loadConfig(env).port, 8080);
  assert.throws(
    () => loadConfig({ ...env, QMTL_TOKNE: "t" }),
    /QMTL_TOKNE: unknown variable/,
  );
  for (const v of tooling) {
    assert.ok(v.usedBy, `${v.name}: a tooling variable says what reads it`);
  }
});

Deno.test("config: HTTP transport limits", () => {
  assert.deepEqual(loadConfig({}).http, {
    headerTimeoutMs: 10_000,
    bodyTimeoutMs: 60_000,
    idleTimeoutMs: 15_000,
    maxConnections: 1024,
  });
  assert.deepEqual(
    loadConfig({
      QMTL_HTTP_HEADER_TIMEOUT_MS: "2000",
      QMTL_HTTP_BODY_TIMEOUT_MS: "30000",
      QMTL_HTTP_IDLE_TIMEOUT_MS: "5000",
      QMTL_HTTP_MAX_CONNECTIONS: "100",
    }).http,
    {
      headerTimeoutMs: 2000,
      bodyTimeoutMs: 30_000,
      idleTimeoutMs: 5000,
      maxConnections: 100,
    },
  );
  assert.throws(
    () => loadConfig({ QMTL_HTTP_MAX_CONNECTIONS: "0" }),
    /QMTL_HTTP_MAX_CONNECTIONS="0": expected a whole number ≥ 1/,
  );
  assert.throws(
    () => loadConfig({ QMTL_HTTP_HEADER_TIMEOUT_MS: "soon" }),
    /QMTL_HTTP_HEADER_TIMEOUT_MS="soon": expected a whole number ≥ 1/,
  );
});

Deno.test("config: policy limits from the environment (safe defaults, 0 lifts a limit)", () => {
  const none = loadConfig({});
  assert.deepEqual(none.policy, {
    maxNodes: 50_000,
    maxDepth: 1_000,
    submissionsPerMinute: 120,
    allowedNodeTypes: undefined,
  });
  // The server's defaults are the library's.
  assert.deepEqual(
    {
      maxNodes: none.policy.maxNodes,
      maxDepth: none.policy.maxDepth,
      submissionsPerMinute: none.policy.submissionsPerMinute,
    },
    { ...DEFAULT_POLICY_LIMITS },
  );
  const unlimited = loadConfig({
    QMTL_POLICY_MAX_NODES: "0",
    QMTL_POLICY_MAX_DEPTH: "0",
    QMTL_POLICY_SUBMISSIONS_PER_MINUTE: "0",
  });
  assert.deepEqual(unlimited.policy, {
    maxNodes: 0,
    maxDepth: 0,
    submissionsPerMinute: 0,
    allowedNodeTypes: undefined,
  });
  const cfg = loadConfig({
    QMTL_POLICY_MAX_NODES: "5000",
    QMTL_POLICY_MAX_DEPTH: "64",
    QMTL_POLICY_SUBMISSIONS_PER_MINUTE: "30",
    QMTL_POLICY_ALLOWED_NODE_TYPES: "StreamInput, Processing,",
  });
  assert.deepEqual(cfg.policy, {
    maxNodes: 5000,
    maxDepth: 64,
    submissionsPerMinute: 30,
    allowedNodeTypes: ["StreamInput", "Processing"],
  });
});

const badPolicy: [Record<string, string>, RegExp][] = [
  [
    { QMTL_POLICY_MAX_NODES: "-1" },
    /QMTL_POLICY_MAX_NODES="-1": expected a whole number ≥ 0/,
  ],
  [
    { QMTL_POLICY_MAX_DEPTH: "deep" },
    /QMTL_POLICY_MAX_DEPTH="deep": expected a whole number ≥ 0/,
  ],
  [
    { QMTL_POLICY_SUBMISSIONS_PER_MINUTE: "1.5" },
    /QMTL_POLICY_SUBMISSIONS_PER_MINUTE="1.5": expected a whole number ≥ 0/,
  ],
  [
    { QMTL_POLICY_ALLOWED_NODE_TYPES: " , " },
    /QMTL_POLICY_ALLOWED_NODE_TYPES=" , ": expected a comma-separated list/,
  ],
  [
    { QMTL_POLICY_ALLOWED_NODE_TYPES: "Processing,Bad Type" },
    /QMTL_POLICY_ALLOWED_NODE_TYPES=.*not "Bad Type"/,
  ],
];
// Both tables: the general settings above and the policy settings.
for (const [env, message] of [...bad, ...badPolicy]) {
  Deno.test(`config: rejects ${JSON.stringify(env)}`, () => {
    assert.throws(() => loadConfig(env), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, message);
      return true;
    });
  });
}

Deno.test("config: alert settings have defaults and are read", () => {
  const none = loadConfig({}).alerts;
  assert.deepEqual(none, {
    webhookUrl: undefined,
    slackWebhookUrl: undefined,
    smtp: undefined,
    dedupWindowMs: 600_000,
    rateLimitPerMinute: 20,
    sinkTimeoutMs: 5_000,
    checkIntervalMs: 5_000,
    dependencyDownMs: 30_000,
    failedStrategies: 3,
    failedWindowMs: 600_000,
  });
  const a = loadConfig({
    QMTL_ALERT_WEBHOOK_URL: "https://alerts.example/qmtl",
    QMTL_ALERT_SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/X",
    QMTL_ALERT_SMTP_HOST: "smtp.example.com",
    QMTL_ALERT_SMTP_PORT: "465",
    QMTL_ALERT_SMTP_TLS: "tls",
    QMTL_ALERT_SMTP_USER: "qmtl",
    QMTL_ALERT_SMTP_PASSWORD: "pw",
    QMTL_ALERT_SMTP_FROM: "qmtl@example.com",
    QMTL_ALERT_SMTP_TO: "oncall@example.com, lead+qmtl@example.com",
    QMTL_ALERT_DEDUP_WINDOW_MS: "0",
    QMTL_ALERT_RATE_LIMIT_PER_MINUTE: "5",
    QMTL_ALERT_DEPENDENCY_DOWN_MS: "10000",
  }).alerts;
  assert.equal(a.webhookUrl, "https://alerts.example/qmtl");
  assert.deepEqual(a.smtp, {
    host: "smtp.example.com",
    port: 465,
    tls: "tls",
    user: "qmtl",
    password: "pw",
    from: "qmtl@example.com",
    to: ["oncall@example.com", "lead+qmtl@example.com"],
  });
  assert.equal(a.dedupWindowMs, 0);
  assert.equal(a.rateLimitPerMinute, 5);
  assert.equal(a.dependencyDownMs, 10_000);
});

const badAlerts: [Record<string, string>, RegExp][] = [
  [
    { QMTL_ALERT_WEBHOOK_URL: "ftp://x/y" },
    /QMTL_ALERT_WEBHOOK_URL=<hidden>: expected a URL with scheme http: or https:/,
  ],
  [
    { QMTL_ALERT_SMTP_HOST: "smtp.example.com" },
    /QMTL_ALERT_SMTP_FROM: required when QMTL_ALERT_SMTP_HOST is set[\s\S]*QMTL_ALERT_SMTP_TO: required/,
  ],
  [
    {
      QMTL_ALERT_SMTP_HOST: "h",
      QMTL_ALERT_SMTP_FROM: "a@example.com,b@example.com",
      QMTL_ALERT_SMTP_TO: "c@example.com",
    },
    /QMTL_ALERT_SMTP_FROM: expected one e-mail address/,
  ],
  [
    { QMTL_ALERT_SMTP_TO: "oncall" },
    /QMTL_ALERT_SMTP_TO="oncall": expected comma-separated e-mail addresses \(not "oncall"\)/,
  ],
  [
    { QMTL_ALERT_SMTP_TLS: "ssl" },
    /QMTL_ALERT_SMTP_TLS="ssl": expected one of starttls, tls, none/,
  ],
  [
    { QMTL_ALERT_SMTP_PORT: "0" },
    /QMTL_ALERT_SMTP_PORT="0": expected a port number 1-65535/,
  ],
  [
    { QMTL_ALERT_SMTP_PASSWORD: "pw-value" },
    /QMTL_ALERT_SMTP_PASSWORD=<hidden>: set QMTL_ALERT_SMTP_USER too/,
  ],
  [
    { QMTL_ALERT_RATE_LIMIT_PER_MINUTE: "0" },
    /QMTL_ALERT_RATE_LIMIT_PER_MINUTE="0": expected a whole number ≥ 1/,
  ],
  [
    { QMTL_ALERT_CHECK_INTERVAL_MS: "10" },
    /QMTL_ALERT_CHECK_INTERVAL_MS="10": expected a whole number ≥ 100/,
  ],
];
for (const [env, message] of badAlerts) {
  Deno.test(`config: rejects ${JSON.stringify(env)}`, () => {
    assert.throws(() => loadConfig(env), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, message);
      for (const v of Object.values(env)) {
        if (/pw|ftp/.test(v)) assert.ok(!e.message.includes(v), "secret shown");
      }
      return true;
    });
  });
}
