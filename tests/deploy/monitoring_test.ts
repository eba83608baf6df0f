// deploy/monitoring/ validated with the real tools: `promtool check config`,
// `check rules`, `test rules`, every dashboard query parsed by promtool,
// `/metrics` of a real server linted by `promtool check metrics`, and every
// metric name used by the rules and the dashboard present in that output.
// Under CI=true a missing promtool fails (`.ci/run` installs Debian's
// `prometheus` package, which ships it).
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/gateway/server/config.ts";
import { startServer } from "../../lib/gateway/server/start.ts";
import { createLogger } from "../../lib/gateway/mod.ts";
import { ALERT_CONDITIONS } from "../../lib/gateway/alerts/conditions.ts";
import { SENTINEL_EVENT_TYPES } from "../../lib/queue/mod.ts";
import { realStack } from "../support/services.ts";
import { SECRET, token } from "../gateway/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MON = `${ROOT}deploy/monitoring`;
const RULES = `${MON}/alerts.yml`;
const DASHBOARD = `${MON}/grafana/qmtl-overview.json`;
/** Series Prometheus itself makes for every target. */
const PROMETHEUS_OWN = new Set(["up"]);

function havePromtool(): boolean {
  try {
    new Deno.Command("promtool", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    return true;
  } catch {
    if (Deno.env.get("CI") === "true") {
      throw new Error(
        "promtool not found but CI=true: install it (apt-get install -y prometheus; .ci/run does)",
      );
    }
    console.warn("[tests] promtool not found: skipping the promtool checks");
    return false;
  }
}
const promtool = havePromtool();
const { neo4j, redis, ignore } = realStack();

async function run(
  args: string[],
  stdin?: string,
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command("promtool", {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const o = await child.output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout) + d.decode(o.stderr) };
}

interface Target {
  expr: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
}

async function dashboard(): Promise<
  { panels: Panel[]; uid: string; templating: { list: { name: string }[] } }
> {
  return JSON.parse(await Deno.readTextFile(DASHBOARD));
}

/** Every PromQL expression of the rules file and the dashboard. */
async function expressions(): Promise<{ where: string; expr: string }[]> {
  const out: { where: string; expr: string }[] = [];
  const rules = await Deno.readTextFile(RULES);
  // `expr:` single line, or a `|` block indented below it.
  const lines = rules.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    if (m[2].trim() === "|") {
      const block: string[] = [];
      for (
        let j = i + 1;
        j < lines.length && /^\s*$|^\s{10,}/.test(lines[j]) &&
        lines[j].search(/\S/) > m[1].length;
        j++
      ) block.push(lines[j].trim());
      out.push({ where: `alerts.yml:${i + 1}`, expr: block.join(" ") });
    } else out.push({ where: `alerts.yml:${i + 1}`, expr: m[2] });
  }
  for (const p of (await dashboard()).panels) {
    for (const t of p.targets ?? []) {
      out.push({ where: `dashboard "${p.title}"`, expr: t.expr });
    }
  }
  return out;
}

/**
 * Metric names of a PromQL expression: identifiers outside label matchers,
 * strings, range/offset brackets and `by (…)`-style label lists, that are
 * not followed by `(` (functions, aggregations) and are not keywords.
 */
function metricNames(expr: string): string[] {
  const KEYWORDS = new Set([
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
  ]);
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(
      /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
      " ",
    );
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = s.slice(m.index! + m[0].length);
    if (/^\s*\(/.test(rest)) continue; // function or aggregation
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

Deno.test("monitoring: metric-name extraction sees through functions, labels and ranges", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.99, sum by (route, le) (rate(qmtl_http_request_duration_seconds_bucket{instance=~"$instance"}[5m]))) > 1 and on(instance) up == 1',
    ).sort(),
    ["qmtl_http_request_duration_seconds_bucket", "up"],
  );
});

Deno.test({
  name: "monitoring: promtool check config / check rules / test rules",
  ignore: !promtool,
  fn: async () => {
    // The scrape config names a token file that exists on the Prometheus
    // host; check a copy beside a placeholder token and the rules.
    const dir = await Deno.makeTempDir({ prefix: "qmtl-monitoring-" });
    try {
      await Deno.copyFile(`${MON}/prometheus.yml`, `${dir}/prometheus.yml`);
      await Deno.copyFile(RULES, `${dir}/alerts.yml`);
      await Deno.writeTextFile(`${dir}/qmtl-token`, "placeholder\n");
      const cfg = await run(["check", "config", `${dir}/prometheus.yml`]);
      assert.equal(cfg.code, 0, cfg.out);
      assert.match(cfg.out, /SUCCESS: 1 rule files found/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    const rules = await run(["check", "rules", RULES]);
    assert.equal(rules.code, 0, rules.out);
    assert.match(rules.out, /SUCCESS: \d+ rules found/);
    const tests = await run(["test", "rules", `${MON}/alerts_test.yml`]);
    assert.equal(tests.code, 0, tests.out);
    assert.match(tests.out, /SUCCESS/);
  },
});

Deno.test("monitoring: every alert rule is unit-tested and has a runbook section", async () => {
  const rules = await Deno.readTextFile(RULES);
  const tests = await Deno.readTextFile(`${MON}/alerts_test.yml`);
  const ops = await Deno.readTextFile(`${ROOT}docs/operations.md`);
  const names = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  assert.ok(names.length >= 10);
  for (const n of names) {
    assert.match(
      tests,
      new RegExp(`alertname: ${n}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
      `${n} has no firing test in alerts_test.yml`,
    );
  }
  for (const m of rules.matchAll(/runbook: docs\/operations\.md#(\w+)/g)) {
    assert.match(
      ops,
      new RegExp(`^#{2,4} .*\\{#${m[1]}\\}|^<a id="${m[1]}"></a>`, "m"),
      `docs/operations.md has no anchor #${m[1]}`,
    );
  }
  // The alerter's own conditions too.
  for (const c of ALERT_CONDITIONS) {
    assert.match(
      ops,
      new RegExp(`^<a id="${c.id}"></a>`, "m"),
      `docs/operations.md has no section for alert ${c.id}`,
    );
  }
});

Deno.test({
  name:
    "monitoring: every dashboard query parses (promtool) and the layout is sound",
  ignore: !promtool,
  fn: async () => {
    const d = await dashboard();
    assert.equal(d.uid, "qmtl-overview");
    assert.deepEqual(d.templating.list.map((v) => v.name), [
      "datasource",
      "instance",
    ]);
    const ids = new Set<number>();
    let queries = 0;
    for (const p of d.panels) {
      assert.ok(p.gridPos, `${p.title}: no gridPos`);
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title}: wider than 24`);
      const id = (p as unknown as { id: number }).id;
      assert.ok(!ids.has(id), `duplicate panel id ${id}`);
      ids.add(id);
      if (p.type === "row") continue;
      assert.deepEqual(p.datasource, {
        type: "prometheus",
        uid: "${datasource}",
      });
      assert.ok((p.targets ?? []).length > 0, `${p.title}: no query`);
      queries += p.targets!.length;
    }
    // promtool parses PromQL in recording rules: one rule per query, with
    // Grafana's variables replaced by values.
    const rules = d.panels.flatMap((p) => p.targets ?? []).map((t, i) =>
      `      - record: qmtl:dashboard_query_${i}\n        expr: ${
        JSON.stringify(t.expr.replaceAll("$__rate_interval", "5m"))
      }`
    );
    const file = await Deno.makeTempFile({ suffix: ".yml" });
    try {
      await Deno.writeTextFile(
        file,
        `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`,
      );
      const r = await run(["check", "rules", file]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`SUCCESS: ${queries} rules found`));
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test({
  name:
    "monitoring: /metrics lists every family from start-up (at 0), passes promtool check metrics, and has every metric the rules and dashboard use",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const srv = await startServer(
      loadConfig({
        QMTL_NEO4J_URL: neo4j.url!,
        QMTL_REDIS_URL: redis.url!,
        QMTL_JWT_SECRET: SECRET,
        QMTL_PORT: "0",
        QMTL_NAMESPACE: `montest-${crypto.randomUUID()}`,
        // A sink, so that its delivery series exist; nothing is sent to it.
        QMTL_ALERT_WEBHOOK_URL: "http://127.0.0.1:9/never-used",
      }),
      {
        quiet: true,
        logger: createLogger({ level: "error", sink: () => {} }),
      },
    );
    try {
      const op = await token("prometheus", ["service"]);
      const res = await fetch(`${srv.url}/metrics`, {
        headers: { authorization: `Bearer ${op}` },
      });
      assert.equal(res.status, 200);
      assert.match(
        res.headers.get("content-type") ?? "",
        /^text\/plain; version=0\.0\.4/,
      );
      const text = await res.text();
      // Families declared from start-up, before any event.
      for (
        const line of [
          "qmtl_redis_failovers_total 0",
          ...SENTINEL_EVENT_TYPES.map((t) =>
            `qmtl_redis_sentinel_events_total{type="${t}"} 0`
          ),
          "qmtl_runner_lease_takeovers_total 0",
          ...ALERT_CONDITIONS.map((c) =>
            `qmtl_alerts_total{condition="${c.id}",severity="${c.severity}"} 0`
          ),
          ...["ok", "error", "timeout", "rate_limited", "dropped"].map((o) =>
            `qmtl_alert_deliveries_total{sink="webhook",outcome="${o}"} 0`
          ),
          'qmtl_dead_letters_total{queue="diff"} 0',
          'qmtl_dead_letters_total{queue="webhook"} 0',
          'qmtl_dependency_up{dependency="redis"} 1',
          'qmtl_dependency_up{dependency="neo4j"} 1',
          'qmtl_redis_writes_confirmed{dependency="redis"} 1',
          "qmtl_redis_unconfirmed_writes_total 0",
          'qmtl_queue_jobs{queue="diff",state="dead"} 0',
          "qmtl_worker_alive 1",
          "qmtl_log_lines_dropped_total 0",
        ]
      ) {
        assert.ok(text.split("\n").includes(line), `missing: ${line}`);
      }
      for (
        const family of [
          "qmtl_http_requests_total",
          "qmtl_http_request_duration_seconds",
          "qmtl_lifecycle_transitions_total",
          "qmtl_alerts_suppressed_total",
          "qmtl_dependency_check_seconds",
        ]
      ) {
        assert.match(text, new RegExp(`^# TYPE ${family} `, "m"));
      }

      // Every metric the rules and the dashboard use exists here.
      const types = new Map<string, string>();
      for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        types.set(m[1], m[2]);
      }
      const missing: string[] = [];
      for (const { where, expr } of await expressions()) {
        for (const name of metricNames(expr)) {
          if (PROMETHEUS_OWN.has(name)) continue;
          const base = name.replace(/_(bucket|sum|count)$/, "");
          const ok = types.has(name) ||
            (base !== name && types.get(base) === "histogram");
          if (!ok) missing.push(`${name} (${where})`);
        }
      }
      assert.deepEqual(missing, [], "metrics used but not exported");

      if (promtool) {
        const lint = await run(["check", "metrics"], text);
        assert.equal(lint.code, 0, lint.out);
      }
    } finally {
      await srv.stop();
    }
  },
});
