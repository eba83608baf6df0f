/**
 * `Neo4jRegistry`: the Neo4j 5 backend of {@link NodeRegistry}
 * (neo4j-driver). Same semantics as `MemoryRegistry`, proven by the same
 * conformance suite.
 *
 * - A diff is one managed write transaction (`session.executeWrite`, retried
 *   by the driver on transient errors) of at most five batched statements
 *   whatever the DAG size — two when every node is reused (sentinel; lock +
 *   link of the existing nodes).
 * - Every write is idempotent, so a retried or repeated call changes
 *   nothing twice.
 * - Safety against a concurrent GC comes from node write locks: a diff locks
 *   every existing node it reuses in the statement that links it (and holds
 *   the lock until commit); the GC locks a node and re-checks "no live
 *   reference, no dependent, out of grace" before deleting.
 * - Unreachable database → `UnavailableError`; no fallback.
 *
 * @module
 */

import neo4j, {
  type Driver,
  type ManagedTransaction,
  type Session,
} from "neo4j-driver";
import { create } from "@bufbuild/protobuf";
import {
  type DiffResult,
  DiffResultSchema,
  type NodeRecord,
  type StrategyDag,
  type TopicDescriptor,
} from "../../contracts/messages.ts";
import {
  ConflictError,
  CycleError,
  NotFoundError,
  RegistryError,
  UnknownInputError,
} from "../errors.ts";
import { gcPlan } from "../gc_plan.ts";
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
import { firstFreeTopicName, topicBase } from "../topic_name.ts";
import { defaultDagHash, validateDag } from "../validate.ts";
import { checkNamespace, type Neo4jOptions } from "./config.ts";
import { createNeo4jDriver } from "./driver.ts";
import * as Q from "./cypher.ts";
import { isConcurrentRace, toRegistryError } from "./errors_map.ts";
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
/** Attempts for a transaction that lost a race with a concurrent one. */
const RACE_ATTEMPTS = 5;

type Row = Record<string, unknown>;

function int(n: number) {
  return neo4j.int(n);
}

function token(): string {
  return crypto.randomUUID();
}

async function run(
  tx: ManagedTransaction,
  cypher: string,
  params: Record<string, unknown>,
): Promise<Row[]> {
  const r = await tx.run(cypher, params);
  return r.records.map((rec) => rec.toObject() as Row);
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

  async #write<T>(
    work: (tx: ManagedTransaction, attempt: number) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1;; attempt++) {
      const session = this.#session("WRITE");
      try {
        return await session.executeWrite((tx) => work(tx, attempt));
      } catch (e) {
        if (e instanceof RegistryError) throw e;
        if (attempt < RACE_ATTEMPTS && isConcurrentRace(e)) {
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          continue;
        }
        throw toRegistryError(e);
      } finally {
        await session.close().catch(() => {});
      }
    }
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

  /** {@inheritDoc NodeRegistry.diffAndCommit} */
  async diffAndCommit(dag: StrategyDag, ctx: DiffContext): Promise<DiffResult> {
    const v = validateDag(dag);
    const dagHash = ctx.dagHash ?? defaultDagHash(dag);
    const sentinelId = sentinelIdOf(ctx.strategyId, ctx.version);
    const vuid = this.#uid(sentinelId);
    const order = v.nodes.map((n) => n.nodeId);
    const result = (
      topics: Map<string, string>,
      created: Set<string>,
    ): DiffResult => {
      const queueMap: Record<string, string> = {};
      for (const id of order) queueMap[id] = topics.get(id) ?? "";
      return create(DiffResultSchema, {
        strategyId: ctx.strategyId,
        version: ctx.version,
        queueMap,
        reused: order.filter((id) => !created.has(id)),
        created: order.filter((id) => created.has(id)),
        sentinelId,
      });
    };
    const conflict = (hash: unknown, retired: unknown) => {
      if (retired === true) {
        return new ConflictError(`strategy version ${sentinelId} is retired`);
      }
      if (hash !== dagHash) {
        return new ConflictError(
          `strategy version ${sentinelId} was committed with another DAG`,
        );
      }
      return null;
    };
    return await this.#write(async (tx, attemptNo) => {
      const now = int(ctx.now ?? Date.now());
      const attempt = token();
      // 1. strategy + sentinel first; an existing sentinel (a re-run, or a
      // concurrent attempt at the same version that committed first) holds
      // the stored result, and nothing else is written
      const [sv] = await run(tx, Q.Q_OPEN_SENTINEL, {
        suid: this.#uid(ctx.strategyId),
        vuid,
        ns: this.#ns,
        strategyId: ctx.strategyId,
        owner: ctx.owner,
        sentinelId,
        version: ctx.version,
        dagHash,
        now,
        token: attempt,
      });
      if (sv.born !== true) {
        const err = conflict(sv.hash, sv.retired);
        if (err) throw err;
        const topics = new Map<string, string>();
        const created = new Set<string>();
        for (const c of sv.contents as Row[]) {
          topics.set(String(c.id), String(c.topic ?? ""));
          if (c.created === true) created.add(String(c.id));
        }
        return result(topics, created);
      }
      // 2. lock existing nodes (DAG nodes and external inputs) and link the
      // DAG's ones to the sentinel, in one pass; a rejection below throws and
      // the driver rolls the whole transaction back
      const inDag = new Set(order);
      const lockIds = [...new Set([...order, ...v.externalInputs.keys()])]
        .sort((a, b) => {
          const x = this.#uid(a), y = this.#uid(b);
          return x < y ? -1 : x > y ? 1 : 0;
        });
      const [locked] = await run(tx, Q.Q_LOCK_LINK, {
        vuid,
        uids: lockIds.map((id) => this.#uid(id)),
        link: lockIds.map((id) => inDag.has(id)),
        now,
      });
      const found = locked.found as number[];
      const foundTopics = locked.topics as string[];
      const existing = new Map<string, string | null>();
      for (let k = 0; k < found.length; k++) {
        existing.set(lockIds[Number(found[k])], foundTopics[k] || null);
      }
      for (const [input, consumer] of v.externalInputs) {
        if (!existing.has(input)) throw new UnknownInputError(consumer, input);
      }
      // 3. names for topics that must be created: optimistic `_v1` first;
      // a name taken after all (orphan topic, hash-prefix clash) fails the
      // topic uniqueness constraint and the retry reads the taken names
      const needTopic = v.nodes.filter((n) => !existing.get(n.nodeId));
      const names = new Map<string, string>();
      if (needTopic.length > 0 && attemptNo === 1) {
        const local = new Set<string>();
        for (const n of needTopic) {
          const name = firstFreeTopicName(topicBase(n), local);
          local.add(name);
          names.set(n.nodeId, name);
        }
      } else if (needTopic.length > 0) {
        const bases = [...new Set(needTopic.map((n) => topicBase(n)))];
        const taken = new Set<string>(
          (await run(tx, Q.Q_TAKEN_TOPICS, {
            prefixes: bases.map((b) => this.#uid(`${b}_v`)),
          })).map((r) => String(r.name)),
        );
        for (const n of needTopic) {
          const name = firstFreeTopicName(topicBase(n), taken);
          taken.add(name);
          names.set(n.nodeId, name);
        }
      }
      // 4. upsert and link the nodes not found (and attach a topic to found
      // nodes without one); found nodes with a topic are already done
      const topics = new Map<string, string>();
      const created = new Set<string>();
      for (const [id, topic] of existing) if (topic) topics.set(id, topic);
      if (needTopic.length > 0) {
        const col = <T>(f: (n: typeof needTopic[number]) => T): T[] =>
          needTopic.map(f);
        const rows = await run(tx, Q.Q_UPSERT_NODES, {
          vuid,
          ns: this.#ns,
          now,
          token: attempt,
          retention: int(DEFAULT_RETENTION_MS),
          id: col((n) => n.nodeId),
          node_type: col((n) => n.nodeType),
          interval: col((n) => int(n.intervalS)),
          period: col((n) => int(n.period)),
          code_hash: col((n) => n.codeHash ?? ""),
          schema_compat_id: col((n) => n.schemaCompatId ?? ""),
          params_canon: col((n) => n.paramsJson ?? ""),
          inputs: col((n) => n.inputs ?? []),
          name: col((n) => n.name ?? ""),
          tags: col((n) => [...new Set(n.tags ?? [])]),
          metadata_json: col((n) => JSON.stringify(n.metadata ?? {})),
          topic: col((n) => names.get(n.nodeId)!),
          link: col((n) => !existing.has(n.nodeId)),
        });
        for (const r of rows) {
          const id = needTopic[Number(r.i)].nodeId;
          topics.set(id, String(r.topic));
          if (r.created === true) created.add(id);
        }
      }
      // 5. input edges of created nodes
      const edges = v.edges.filter((e) => created.has(e.from)).map((e) => ({
        from: this.#uid(e.from),
        to: this.#uid(e.to),
      }));
      if (edges.length > 0) {
        await run(tx, Q.Q_CREATE_EDGES, { edges, token: attempt });
      }
      return result(topics, created);
    });
  }

  /** {@inheritDoc NodeRegistry.getNode} */
  async getNode(nodeId: string): Promise<NodeRecord | null> {
    const rows = await this.#read((tx) =>
      run(tx, Q.Q_GET_NODE, { uid: this.#uid(nodeId) })
    );
    return rows.length > 0 ? nodeRecordOf(rows[0]) : null;
  }

  /** {@inheritDoc NodeRegistry.listNodes} */
  async listNodes(options: ListNodesOptions = {}): Promise<NodePage> {
    const size = clampPageSize(options.pageSize);
    const after = decodePageToken(options.pageToken);
    const rows = await this.#read((tx) =>
      run(tx, Q.Q_LIST_NODES, {
        prefix: `${this.#ns}:`,
        after: after === "" ? `${this.#ns}:` : this.#uid(after),
        nodeType: options.nodeType ? options.nodeType : null,
        interval: options.intervalS ? int(options.intervalS) : null,
        limit: int(size + 1),
      })
    );
    const nodes = rows.slice(0, size).map(nodeRecordOf);
    return {
      nodes,
      nextPageToken: rows.length > size
        ? encodePageToken(nodes[nodes.length - 1].node!.nodeId)
        : "",
    };
  }

  async #neighbours(
    nodeId: string,
    direction: "out" | "in",
  ): Promise<NodeRecord[]> {
    const rows = await this.#read((tx) =>
      run(tx, Q.qNeighbours(direction), { uid: this.#uid(nodeId) })
    );
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
    const rows = await this.#read((tx) =>
      run(tx, Q.Q_BY_TAGS, {
        tagUids: wanted.map((t) => this.#uid(t)),
        need: int(options.matchMode === "all" ? wanted.length : 1),
        interval: options.intervalS ? int(options.intervalS) : null,
        limit: int(limit),
      })
    );
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
    const rows = await this.#read((tx) =>
      run(tx, Q.Q_STRATEGIES_USING, { uid: this.#uid(nodeId) })
    );
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
    return await this.#write(async (tx) => {
      const now = int(Date.now());
      const rows = await run(tx, Q.Q_RETIRE, { vuid, now });
      if (rows.length === 0) {
        throw new NotFoundError(`strategy version ${sentinelId} not found`);
      }
      if (rows[0].was === true) {
        return { sentinelId, alreadyRetired: true, released: [] };
      }
      const released = (await run(tx, Q.Q_RELEASE, {
        vuid,
        now,
        token: token(),
      })).map((r) => String(r.id)).sort();
      return { sentinelId, alreadyRetired: false, released };
    });
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
  async getTopic(name: string): Promise<TopicDescriptor | null> {
    const rows = await this.#read((tx) =>
      run(tx, Q.Q_GET_TOPIC, { uid: this.#uid(name) })
    );
    return rows.length > 0 ? topicOf(rows[0]) : null;
  }

  /** {@inheritDoc NodeRegistry.listTopics} */
  async listTopics(options: ListTopicsOptions = {}): Promise<TopicPage> {
    const size = clampPageSize(options.pageSize);
    const after = decodePageToken(options.pageToken);
    const rows = await this.#read((tx) =>
      run(tx, Q.Q_LIST_TOPICS, {
        prefix: `${this.#ns}:`,
        after: after === "" ? `${this.#ns}:` : this.#uid(after),
        limit: int(size + 1),
      })
    );
    const topics = rows.slice(0, size).map(topicOf);
    return {
      topics,
      nextPageToken: rows.length > size
        ? encodePageToken(topics[topics.length - 1].name)
        : "",
    };
  }

  /** {@inheritDoc NodeRegistry.gc} */
  async gc(options: GcOptions): Promise<GcReport> {
    const now = options.now ?? Date.now();
    const cutoff = now - options.graceMs;
    const limit = options.limit ?? 10000;
    const scanned = await this.#read((tx) =>
      run(tx, Q.Q_GC_SCAN, { ns: this.#ns, limit: int(50000) })
    );
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
    if (plan.levels.length > 0) {
      const deleted = await this.#write(async (tx) => {
        const out: Row[] = [];
        const lock = token();
        for (const level of plan.levels) {
          out.push(
            ...await run(tx, Q.Q_GC_DELETE, {
              uids: level.map((id) => this.#uid(id)),
              cutoff: int(cutoff),
              token: lock,
            }),
          );
        }
        return out;
      });
      for (const r of deleted) {
        removed.push(String(r.id));
        removedTopics.push(...(r.names as string[]));
      }
    }
    return {
      observed: plan.observed,
      removed: removed.sort(),
      removedTopics: removedTopics.sort(),
      keptInGrace: plan.keptInGrace,
      keptWithDependents: plan.keptWithDependents,
    };
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
    let total = 0;
    for (let i = 0; i < 100_000; i++) {
      const n = await this.#write(async (tx) => {
        const [r] = await run(tx, Q.Q_PURGE_BATCH, {
          ns: this.#ns,
          batch: int(5000),
        });
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
