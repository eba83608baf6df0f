/**
 * `Neo4jRegistry`: the Neo4j 5 backend of {@link NodeRegistry}
 * (neo4j-driver). Same semantics as `MemoryRegistry`, proven by the same
 * conformance suite.
 *
 * - A diff is one managed write transaction of at most three batched
 *   statements whatever the DAG size — one when every node is reused, and
 *   for a first attempt at a DAG of up to 64 nodes — or,
 *   above the transaction budget, a chunked commit (see `diff.ts`).
 * - Every write is idempotent, so a retried or repeated call changes
 *   nothing twice.
 * - Safety against a concurrent GC comes from node write locks: a diff locks
 *   every existing node it reuses in the statement that links it (and holds
 *   the lock until commit); the GC locks a node and re-checks "no live
 *   reference, no dependent, out of grace" before deleting.
 * - Failures are typed by `errors_map.ts`: unreachable or transient →
 *   `UnavailableError` (retryable), a store rejection of the input →
 *   `StoreRejectedError`; no fallback.
 *
 * @module
 */

import neo4j, {
  type Driver,
  type ManagedTransaction,
  type Session,
} from "neo4j-driver";
import type {
  DiffResult,
  NodeRecord,
  StrategyDag,
  TopicDescriptor,
} from "../../contracts/messages.ts";
import {
  ConflictError,
  CycleError,
  NotFoundError,
  RegistryError,
} from "../errors.ts";
import { gcPlan } from "../gc_plan.ts";
import { gcReport } from "../gc_report.ts";
import {
  clampPageSize,
  decodePageToken,
  encodePageToken,
} from "../page_token.ts";
import {
  type DiffContext,
  type GcOptions,
  type GcReport,
  type HealthStatus,
  type ListNodesOptions,
  type ListTopicsOptions,
  type NodePage,
  type NodeRegistry,
  type RetireResult,
  sentinelIdOf,
  type StrategyRef,
  type TagQueryOptions,
  type TopicInput,
  type TopicPage,
} from "../registry.ts";
import { checkNamespace, type Neo4jOptions } from "./config.ts";
import { createNeo4jDriver } from "./driver.ts";
import * as Q from "./cypher.ts";
import { commitDiff } from "./diff.ts";
import {
  DEFAULT_TRANSACTION_BUDGET,
  type TransactionBudget,
} from "./diff_plan.ts";
import { toRegistryError } from "./errors_map.ts";
import { type Row, run } from "./run.ts";
import { runWrite } from "./write.ts";
import {
  applyMigrations,
  checkSchema,
  type MigrationReport,
  type MigrationStatus,
  migrationStatus,
} from "./migrations.ts";
import { nodeRecordOf, topicOf } from "./records.ts";
import type { SchemaIssue } from "./schema.ts";

/** Default topic retention: 7 days. */
const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Nodes released per transaction when a version is retired. */
const RELEASE_BATCH = 5_000;
/** Nodes deleted per transaction by the GC. */
const GC_BATCH = 2_000;
/** Attempts for a transaction that lost a race with a concurrent one. */
const RACE_ATTEMPTS = 8;

function int(n: number) {
  return neo4j.int(n);
}

function token(): string {
  return crypto.randomUUID();
}

/**
 * What `Neo4jRegistry.connect` found and did about the schema at start-up.
 *
 * @example
 * ```ts
 * import type { StartupSchemaReport } from "@qmtl/qmtl/dag";
 * function show(r: StartupSchemaReport): void {
 *   console.log(r.mode, r.missing.length);
 * }
 * ```
 */
export interface StartupSchemaReport {
  /** The mode used. */
  mode: "auto" | "check";
  /** What `auto` applied (absent in `check` mode). */
  applied?: MigrationReport;
  /** Issues left after start-up (always empty after a successful `auto`). */
  missing: SchemaIssue[];
}

/**
 * The Neo4j registry. Create it with {@link Neo4jRegistry.connect}.
 *
 * @example
 * ```ts ignore
 * import { Neo4jRegistry } from "@qmtl/qmtl/dag";
 * const reg = await Neo4jRegistry.connect({
 *   url: "bolt://127.0.0.1:7687",
 *   migrate: "auto",
 * });
 * try {
 *   console.log((await reg.health()).detail);
 * } finally {
 *   await reg.close();
 * }
 * ```
 */
export class Neo4jRegistry implements NodeRegistry {
  readonly #driver: Driver;
  readonly #database: string | undefined;
  readonly #ns: string;
  readonly #url: string;
  readonly #budget: TransactionBudget;
  readonly #retryMs: number;
  #closed = false;
  /** What start-up found and did about the schema. */
  readonly startup: StartupSchemaReport;

  private constructor(
    driver: Driver,
    options: Neo4jOptions,
    startup: StartupSchemaReport,
  ) {
    this.#driver = driver;
    this.#database = options.database;
    this.#ns = options.namespace ?? "default";
    this.#url = options.url;
    this.#retryMs = options.maxRetryTimeMs ?? 15_000;
    this.#budget = {
      ...DEFAULT_TRANSACTION_BUDGET,
      ...options.transactionBudget,
    };
    this.startup = startup;
  }

  /**
   * Connect, verify the server answers (else `UnavailableError`), and check
   * the schema: `migrate: "auto"` applies pending migrations and re-creates
   * missing objects; `"check"` (default) logs one warning per missing or
   * different index/constraint naming the fix (`deno task migrate`).
   *
   * @example
   * ```ts ignore
   * import { Neo4jRegistry } from "@qmtl/qmtl/dag";
   * const reg = await Neo4jRegistry.connect({ url: "bolt://127.0.0.1:7687", namespace: "dev" });
   * await reg.close();
   * ```
   */
  static async connect(options: Neo4jOptions): Promise<Neo4jRegistry> {
    const ns = checkNamespace(options.namespace ?? "default");
    const driver = createNeo4jDriver(options);
    try {
      await driver.getServerInfo(
        options.database ? { database: options.database } : {},
      );
      const target = { driver, database: options.database };
      const mode = options.migrate ?? "check";
      let startup: StartupSchemaReport;
      if (mode === "auto") {
        const applied = await applyMigrations(target);
        startup = { mode, applied, missing: await checkSchema(target) };
      } else {
        const status = await migrationStatus(target);
        startup = { mode, missing: status.issues };
        const warn = options.warn ?? ((m: string) => console.warn(m));
        for (const issue of status.issues) {
          warn(
            `[qmtl] Neo4j schema: ${issue.object.kind} ${issue.object.name} ` +
              `(:${issue.object.label} ${
                issue.object.properties.join(", ")
              }) is ${issue.problem}${
                issue.detail ? ` (${issue.detail})` : ""
              }; fix with \`deno task migrate\` or start with QMTL_NEO4J_MIGRATE=auto`,
          );
        }
        if (status.pending.length > 0) {
          warn(
            `[qmtl] Neo4j migrations pending: ${
              status.pending.map((m) => `${m.version} (${m.name})`).join(", ")
            }; run \`deno task migrate\``,
          );
        }
      }
      return new Neo4jRegistry(driver, { ...options, namespace: ns }, startup);
    } catch (e) {
      await driver.close().catch(() => {});
      throw toRegistryError(e, `neo4j at ${options.url}`);
    }
  }

  /** The namespace this registry reads and writes. */
  get namespace(): string {
    return this.#ns;
  }

  /**
   * Schema objects missing or different right now (empty when healthy).
   *
   * @example
   * ```ts ignore
   * import { Neo4jRegistry } from "@qmtl/qmtl/dag";
   * const reg = await Neo4jRegistry.connect({ url: "bolt://127.0.0.1:7687" });
   * for (const i of await reg.checkSchema()) console.warn(i.object.name, i.problem);
   * await reg.close();
   * ```
   */
  checkSchema(): Promise<SchemaIssue[]> {
    return checkSchema({ driver: this.#driver, database: this.#database });
  }

  /**
   * Pending migrations and schema issues (for readiness probes).
   *
   * @example
   * ```ts ignore
   * import { Neo4jRegistry } from "@qmtl/qmtl/dag";
   * const reg = await Neo4jRegistry.connect({ url: "bolt://127.0.0.1:7687" });
   * const s = await reg.migrationStatus();
   * console.log(s.pending.length === 0 && s.issues.length === 0);
   * await reg.close();
   * ```
   */
  migrationStatus(): Promise<MigrationStatus> {
    return migrationStatus({ driver: this.#driver, database: this.#database });
  }

  #uid(id: string): string {
    return `${this.#ns}:${id}`;
  }

  #session(mode: "READ" | "WRITE"): Session {
    if (this.#closed) {
      throw new RegistryError("E_INTERNAL", "registry closed");
    }
    return this.#driver.session({
      defaultAccessMode: mode === "READ"
        ? neo4j.session.READ
        : neo4j.session.WRITE,
      ...(this.#database ? { database: this.#database } : {}),
    });
  }

  #write<T>(
    work: (tx: ManagedTransaction, attempt: number) => Promise<T>,
  ): Promise<T> {
    return runWrite(() => this.#session("WRITE"), work, {
      raceAttempts: RACE_ATTEMPTS,
      maxRetryTimeMs: this.#retryMs,
    });
  }

  async #read<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const session = this.#session("READ");
    try {
      return await session.executeRead(work);
    } catch (e) {
      throw toRegistryError(e);
    } finally {
      await session.close().catch(() => {});
    }
  }

  /** Runs one read statement and returns its rows. */
  #select(cypher: string, params: Record<string, unknown>): Promise<Row[]> {
    return this.#read((tx) => run(tx, cypher, params));
  }

  /** The first row of a lookup by uid (`$uid`: the id in this namespace). */
  async #one<T>(
    cypher: string,
    id: string,
    map: (row: Row) => T,
  ): Promise<T | null> {
    const rows = await this.#select(cypher, { uid: this.#uid(id) });
    return rows.length > 0 ? map(rows[0]) : null;
  }

  /**
   * One page of a listing: `cypher` gets `prefix`, `after` (the page
   * token's key, as a uid) and `limit` (one more than the page, to see
   * whether another follows) besides `params`.
   */
  async #page<T>(
    cypher: string,
    options: { pageSize?: number; pageToken?: string },
    params: Record<string, unknown>,
    map: (row: Row) => T,
    keyOf: (item: T) => string,
  ): Promise<{ items: T[]; nextPageToken: string }> {
    const size = clampPageSize(options.pageSize);
    const after = decodePageToken(options.pageToken);
    const rows = await this.#select(cypher, {
      prefix: `${this.#ns}:`,
      after: after === "" ? `${this.#ns}:` : this.#uid(after),
      ...params,
      limit: int(size + 1),
    });
    const items = rows.slice(0, size).map(map);
    return {
      items,
      nextPageToken: rows.length > size
        ? encodePageToken(keyOf(items[items.length - 1]))
        : "",
    };
  }

  /** {@inheritDoc NodeRegistry.diffAndCommit} */
  diffAndCommit(dag: StrategyDag, ctx: DiffContext): Promise<DiffResult> {
    return commitDiff(
      {
        ns: this.#ns,
        budget: this.#budget,
        retentionMs: DEFAULT_RETENTION_MS,
        write: (work) => this.#write(work),
      },
      dag,
      ctx,
    );
  }

  /** {@inheritDoc NodeRegistry.getNode} */
  getNode(nodeId: string): Promise<NodeRecord | null> {
    return this.#one(Q.Q_GET_NODE, nodeId, nodeRecordOf);
  }

  /** {@inheritDoc NodeRegistry.listNodes} */
  async listNodes(options: ListNodesOptions = {}): Promise<NodePage> {
    const page = await this.#page(
      Q.Q_LIST_NODES,
      options,
      {
        nodeType: options.nodeType ? options.nodeType : null,
        interval: options.intervalS ? int(options.intervalS) : null,
      },
      nodeRecordOf,
      (n) => n.node!.nodeId,
    );
    return { nodes: page.items, nextPageToken: page.nextPageToken };
  }

  async #neighbours(
    nodeId: string,
    direction: "out" | "in",
  ): Promise<NodeRecord[]> {
    const rows = await this.#select(Q.qNeighbours(direction), {
      uid: this.#uid(nodeId),
    });
    if (rows.length === 0) {
      throw new NotFoundError(`node ${nodeId} not found`, { nodeId });
    }
    return rows.filter((r) => r.present === true).map(nodeRecordOf);
  }

  /** {@inheritDoc NodeRegistry.dependencies} */
  dependencies(nodeId: string): Promise<NodeRecord[]> {
    return this.#neighbours(nodeId, "out");
  }

  /** {@inheritDoc NodeRegistry.dependents} */
  dependents(nodeId: string): Promise<NodeRecord[]> {
    return this.#neighbours(nodeId, "in");
  }

  /** {@inheritDoc NodeRegistry.queryByTags} */
  async queryByTags(
    tags: string[],
    options: TagQueryOptions,
  ): Promise<NodeRecord[]> {
    if (options.matchMode !== "any" && options.matchMode !== "all") {
      throw new RegistryError("E_INVALID", "matchMode must be any or all");
    }
    const wanted = [...new Set(tags)];
    const limit = clampPageSize(options.limit, 1000, 10000);
    if (wanted.length === 0) return [];
    const rows = await this.#select(Q.Q_BY_TAGS, {
      tagUids: wanted.map((t) => this.#uid(t)),
      need: int(options.matchMode === "all" ? wanted.length : 1),
      interval: options.intervalS ? int(options.intervalS) : null,
      limit: int(limit),
    });
    return rows.map(nodeRecordOf);
  }

  /** {@inheritDoc NodeRegistry.refCount} */
  async refCount(nodeId: string): Promise<number> {
    const rec = await this.getNode(nodeId);
    if (!rec) throw new NotFoundError(`node ${nodeId} not found`, { nodeId });
    return rec.refCount;
  }

  /** {@inheritDoc NodeRegistry.strategiesUsing} */
  async strategiesUsing(nodeId: string): Promise<StrategyRef[]> {
    const rows = await this.#select(Q.Q_STRATEGIES_USING, {
      uid: this.#uid(nodeId),
    });
    return rows.map((r) => ({
      strategyId: String(r.strategyId),
      version: String(r.version),
      sentinelId: String(r.sentinelId),
      retired: r.retired === true,
    }));
  }

  /** {@inheritDoc NodeRegistry.addDependency} */
  async addDependency(from: string, to: string): Promise<void> {
    await this.#write(async (tx) => {
      const now = int(Date.now());
      await run(tx, Q.Q_EDGE_LOCK, {
        lockUid: `${this.#ns}:edges`,
        ns: this.#ns,
        now,
      });
      const fuid = this.#uid(from), tuid = this.#uid(to);
      const [chk] = await run(
        tx,
        Q.Q_EDGE_CHECK,
        from === to ? { fuid, tuid: `${tuid}\u0000none` } : { fuid, tuid },
      );
      if (!chk.hasFrom) {
        throw new NotFoundError(`node ${from} not found`, { nodeId: from });
      }
      if (from === to) throw new CycleError([from, from]);
      if (!chk.hasTo) {
        throw new NotFoundError(`node ${to} not found`, { nodeId: to });
      }
      if (chk.exists === true) return;
      if (Array.isArray(chk.path)) {
        throw new CycleError([from, ...(chk.path as string[])]);
      }
      await run(tx, Q.Q_EDGE_ADD, { fuid, tuid, now });
    });
  }

  /** {@inheritDoc NodeRegistry.removeDependency} */
  async removeDependency(from: string, to: string): Promise<boolean> {
    return await this.#write(async (tx) => {
      const [r] = await run(tx, Q.Q_EDGE_REMOVE, {
        fuid: this.#uid(from),
        tuid: this.#uid(to),
        now: int(Date.now()),
      });
      return Number(r?.removed ?? 0) > 0;
    });
  }

  /** {@inheritDoc NodeRegistry.retireVersion} */
  async retireVersion(
    strategyId: string,
    version: string,
  ): Promise<RetireResult> {
    const sentinelId = sentinelIdOf(strategyId, version);
    const vuid = this.#uid(sentinelId);
    const [r] = await this.#write((tx) =>
      run(tx, Q.Q_RETIRE, { vuid, now: int(Date.now()) })
    );
    if (!r) throw new NotFoundError(`strategy version ${sentinelId} not found`);
    const alreadyRetired = r.was === true;
    const released = r.releasing === true ? await this.#release(vuid) : [];
    return { sentinelId, alreadyRetired, released };
  }

  /**
   * Release a retired sentinel's nodes in batches ({@link Q.Q_RELEASE}),
   * then drop its `releasing` mark. Returns the node IDs released.
   */
  async #release(vuid: string): Promise<string[]> {
    const released: string[] = [];
    const lock = token();
    let after = "";
    for (let i = 0; i < 1_000_000; i++) {
      const [b] = await this.#write((tx) =>
        run(tx, Q.Q_RELEASE, {
          vuid,
          after,
          batch: int(RELEASE_BATCH),
          now: int(Date.now()),
          token: lock,
        })
      );
      released.push(...(b?.released as string[] ?? []));
      if (Number(b?.seen ?? 0) < RELEASE_BATCH) break;
      after = String(b.last);
    }
    await this.#write((tx) => run(tx, Q.Q_RELEASE_DONE, { vuid }));
    return released.sort();
  }

  /** {@inheritDoc NodeRegistry.createTopic} */
  async createTopic(input: TopicInput): Promise<TopicDescriptor> {
    if (typeof input.name !== "string" || input.name === "") {
      throw new RegistryError("E_INVALID", "topic name is empty");
    }
    const nodeId = input.nodeId ?? "";
    const uid = this.#uid(input.name);
    return await this.#write(async (tx) => {
      const existing = await run(tx, Q.Q_GET_TOPIC, { uid });
      if (existing.length > 0) {
        const t = topicOf(existing[0]);
        if (t.nodeId !== nodeId) {
          throw new ConflictError(
            `topic ${input.name} belongs to ${t.nodeId || "no node"}`,
          );
        }
        return t;
      }
      if (nodeId !== "") {
        const locked = await run(tx, Q.Q_LOCK_NODE, {
          uid: this.#uid(nodeId),
          token: token(),
        });
        if (locked.length === 0) {
          throw new NotFoundError(`node ${nodeId} not found`, { nodeId });
        }
        if (locked[0].topic) {
          throw new ConflictError(
            `node ${nodeId} already emits ${locked[0].topic}`,
            { nodeId },
          );
        }
      }
      const [row] = await run(tx, Q.Q_CREATE_TOPIC, {
        uid,
        ns: this.#ns,
        name: input.name,
        now: int(Date.now()),
        retention: int(input.retentionMs ?? DEFAULT_RETENTION_MS),
        partitions: int(input.partitions ?? 1),
        nodeUid: nodeId === "" ? null : this.#uid(nodeId),
      });
      return topicOf(row);
    });
  }

  /** {@inheritDoc NodeRegistry.deleteTopic} */
  async deleteTopic(name: string): Promise<boolean> {
    const uid = this.#uid(name);
    return await this.#write(async (tx) => {
      const rows = await run(tx, Q.Q_TOPIC_FOR_DELETE, { uid, token: token() });
      if (rows.length === 0) return false;
      const nodeId = rows[0].nodeId ? String(rows[0].nodeId) : "";
      if (Number(rows[0].refs) > 0) {
        throw new ConflictError(
          `topic ${name} is emitted by live node ${nodeId}`,
          { nodeId },
        );
      }
      await run(tx, Q.Q_DELETE_TOPIC, { uid });
      return true;
    });
  }

  /** {@inheritDoc NodeRegistry.getTopic} */
  getTopic(name: string): Promise<TopicDescriptor | null> {
    return this.#one(Q.Q_GET_TOPIC, name, topicOf);
  }

  /** {@inheritDoc NodeRegistry.listTopics} */
  async listTopics(options: ListTopicsOptions = {}): Promise<TopicPage> {
    const page = await this.#page(
      Q.Q_LIST_TOPICS,
      options,
      {},
      topicOf,
      (t) => t.name,
    );
    return { topics: page.items, nextPageToken: page.nextPageToken };
  }

  /** {@inheritDoc NodeRegistry.gc} */
  async gc(options: GcOptions): Promise<GcReport> {
    const now = options.now ?? Date.now();
    const cutoff = now - options.graceMs;
    const limit = options.limit ?? 10000;
    // finish releases a crash cut short: their nodes become candidates
    const releasing = await this.#select(Q.Q_RELEASING, { ns: this.#ns });
    for (const r of releasing) await this.#release(String(r.uid));
    const scanned = await this.#select(Q.Q_GC_SCAN, {
      ns: this.#ns,
      limit: int(50000),
    });
    const plan = gcPlan(
      scanned.map((r) => ({
        nodeId: String(r.id),
        lastRefAt: Number(r.lastRefAt),
        dependents: (r.dependents as string[]) ?? [],
      })),
      { cutoff, limit },
    );
    const removed: string[] = [];
    const removedTopics: string[] = [];
    // level by level (dependents before their inputs), in transactions of
    // at most GC_BATCH nodes: each locks and re-checks its nodes, so a
    // batch is safe on its own and a crash between batches loses nothing
    const lock = token();
    for (const level of plan.levels) {
      for (let i = 0; i < level.length; i += GC_BATCH) {
        const batch = level.slice(i, i + GC_BATCH);
        const deleted = await this.#write(async (tx) => {
          const out = await run(tx, Q.Q_GC_DELETE, {
            uids: batch.map((id) => this.#uid(id)),
            cutoff: int(cutoff),
            token: lock,
          });
          // tags left without any node go with them
          const tags = [...new Set(out.flatMap((r) => r.tags as string[]))];
          if (tags.length > 0) {
            await run(tx, Q.Q_GC_TAGS, { uids: tags.sort(), token: lock });
          }
          return out;
        });
        for (const r of deleted) {
          removed.push(String(r.id));
          removedTopics.push(...(r.names as string[]));
        }
      }
    }
    return gcReport(plan, removed, removedTopics);
  }

  /**
   * Delete every node of this registry's namespace (nodes, topics, tags,
   * strategies, sentinels), in bounded batches. Returns how many were
   * deleted. Meant for tests and throw-away namespaces.
   *
   * @example
   * ```ts ignore
   * import { Neo4jRegistry } from "@qmtl/qmtl/dag";
   * const reg = await Neo4jRegistry.connect({ url: "bolt://127.0.0.1:7687", namespace: "scratch" });
   * await reg.purgeNamespace();
   * await reg.close();
   * ```
   */
  async purgeNamespace(): Promise<number> {
    // high-degree links first, in batches (see Q_PURGE_LINKS)
    await this.#deleteInBatches(Q.Q_PURGE_LINKS, 10_000);
    return await this.#deleteInBatches(Q.Q_PURGE_BATCH, 5000);
  }

  /**
   * Runs a deleting statement (params `ns`, `batch`; returns `deleted`) in
   * write transactions until it deletes nothing; returns the total.
   */
  async #deleteInBatches(cypher: string, batch: number): Promise<number> {
    let total = 0;
    for (let i = 0; i < 100_000; i++) {
      const n = await this.#write(async (tx) => {
        const [r] = await run(tx, cypher, { ns: this.#ns, batch: int(batch) });
        return Number(r?.deleted ?? 0);
      });
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  /** {@inheritDoc NodeRegistry.health} */
  async health(): Promise<HealthStatus> {
    if (this.#closed) return { ok: false, detail: "neo4j registry closed" };
    try {
      const info = await this.#driver.getServerInfo(
        this.#database ? { database: this.#database } : {},
      );
      return {
        ok: true,
        detail: `${
          info.agent ?? "neo4j"
        } at ${this.#url} (namespace ${this.#ns})`,
      };
    } catch (e) {
      return { ok: false, detail: toRegistryError(e).message };
    }
  }

  /** {@inheritDoc NodeRegistry.close} */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#driver.close();
  }
}
