/**
 * `MemoryRegistry`: the in-memory {@link NodeRegistry} backend (the embedded
 * default). Same semantics as the Neo4j backend; every operation is one
 * synchronous step, so it is atomic with respect to every other call.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  type DiffResult,
  DiffResultSchema,
  type NodeRecord,
  NodeRecordSchema,
  type NodeSpec,
  type StrategyDag,
  type TopicDescriptor,
  TopicDescriptorSchema,
} from "../../contracts/messages.ts";
import {
  ConflictError,
  CycleError,
  NotFoundError,
  RegistryError,
  UnknownInputError,
} from "../errors.ts";
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
import { gcPlan } from "../gc_plan.ts";
import { gcReport } from "../gc_report.ts";
import { TAG_QUERY_NODE_TYPE } from "../../contracts/node_id.ts";

/** Default topic retention: 7 days. */
const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;

interface StoredNode {
  spec: NodeSpec;
  topic: string;
  createdAt: number;
  updatedAt: number;
  lastRefAt: number;
  inputs: Set<string>;
  dependents: Set<string>;
  sentinels: Set<string>;
}

interface StoredSentinel {
  strategyId: string;
  version: string;
  dagHash: string;
  createdAt: number;
  retired: boolean;
  retiredAt: number;
  nodes: string[];
  created: Set<string>;
}

function cloneSpec(spec: NodeSpec): NodeSpec {
  return {
    ...spec,
    inputs: [...spec.inputs],
    tags: [...spec.tags],
    metadata: { ...spec.metadata },
  };
}

/**
 * The in-memory registry. Nothing persists across processes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { StrategyDagSchema } from "@qmtl/qmtl/contracts";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * const reg = new MemoryRegistry();
 * const diff = await reg.diffAndCommit(
 *   create(StrategyDagSchema, { name: "empty" }),
 *   { strategyId: "st_1", version: "1", owner: "alice" },
 * );
 * assert.equal(diff.sentinelId, "st_1@1");
 * await reg.close();
 * ```
 */
export class MemoryRegistry implements NodeRegistry {
  #nodes = new Map<string, StoredNode>();
  #topics = new Map<string, TopicDescriptor>();
  #strategies = new Map<string, { owner: string; createdAt: number }>();
  #sentinels = new Map<string, StoredSentinel>();
  #tags = new Map<string, Set<string>>();
  #closed = false;

  #check(): void {
    if (this.#closed) throw new RegistryError("E_INTERNAL", "registry closed");
  }

  #refs(n: StoredNode): number {
    let c = 0;
    for (const s of n.sentinels) if (!this.#sentinels.get(s)?.retired) c++;
    return c;
  }

  #record(n: StoredNode): NodeRecord {
    return create(NodeRecordSchema, {
      node: cloneSpec(n.spec),
      topic: n.topic,
      refCount: this.#refs(n),
      createdAtMs: n.createdAt,
      updatedAtMs: n.updatedAt,
    });
  }

  #mustGet(nodeId: string): StoredNode {
    const n = this.#nodes.get(nodeId);
    if (!n) throw new NotFoundError(`node ${nodeId} not found`, { nodeId });
    return n;
  }

  #result(sentinelId: string, s: StoredSentinel): DiffResult {
    const queueMap: Record<string, string> = {};
    const reused: string[] = [];
    const created: string[] = [];
    for (const id of s.nodes) {
      queueMap[id] = this.#nodes.get(id)?.topic ?? "";
      (s.created.has(id) ? created : reused).push(id);
    }
    return create(DiffResultSchema, {
      strategyId: s.strategyId,
      version: s.version,
      queueMap,
      reused,
      created,
      sentinelId,
    });
  }

  #newTopicName(spec: NodeSpec): string {
    const base = topicBase(spec);
    const taken = new Set<string>();
    for (let n = 1; this.#topics.has(`${base}_v${n}`); n++) {
      taken.add(`${base}_v${n}`);
    }
    return firstFreeTopicName(base, taken);
  }

  /** {@inheritDoc NodeRegistry.diffAndCommit} */
  diffAndCommit(dag: StrategyDag, ctx: DiffContext): Promise<DiffResult> {
    try {
      this.#check();
      const v = validateDag(dag);
      const dagHash = ctx.dagHash ?? defaultDagHash(dag);
      const sentinelId = sentinelIdOf(ctx.strategyId, ctx.version);
      const existing = this.#sentinels.get(sentinelId);
      if (existing) {
        if (existing.retired) {
          throw new ConflictError(`strategy version ${sentinelId} is retired`);
        }
        if (existing.dagHash !== dagHash) {
          throw new ConflictError(
            `strategy version ${sentinelId} was committed with another DAG`,
          );
        }
        return Promise.resolve(this.#result(sentinelId, existing));
      }
      for (const [input, consumer] of v.externalInputs) {
        if (!this.#nodes.has(input)) {
          throw new UnknownInputError(consumer, input);
        }
      }
      // validated: from here on nothing throws
      const now = ctx.now ?? Date.now();
      const created = new Set<string>();
      for (const spec of v.nodes) {
        const n = this.#nodes.get(spec.nodeId);
        if (n) {
          // reuse links the node; its record changes only if it needs a topic
          n.lastRefAt = now;
          if (n.topic === "") {
            this.#attachTopic(n, now);
            n.updatedAt = now;
          }
          continue;
        }
        const stored: StoredNode = {
          spec: cloneSpec({ ...spec, tags: [...new Set(spec.tags)] }),
          topic: "",
          createdAt: now,
          updatedAt: now,
          lastRefAt: now,
          inputs: new Set(spec.inputs),
          dependents: new Set(),
          sentinels: new Set(),
        };
        this.#nodes.set(spec.nodeId, stored);
        this.#attachTopic(stored, now);
        for (const tag of stored.spec.tags) {
          let set = this.#tags.get(tag);
          if (!set) this.#tags.set(tag, set = new Set());
          set.add(spec.nodeId);
        }
        created.add(spec.nodeId);
      }
      for (const id of created) {
        for (const input of this.#nodes.get(id)!.inputs) {
          this.#nodes.get(input)!.dependents.add(id);
        }
      }
      for (const input of v.externalInputs.keys()) {
        this.#nodes.get(input)!.lastRefAt = now;
      }
      if (!this.#strategies.has(ctx.strategyId)) {
        this.#strategies.set(ctx.strategyId, {
          owner: ctx.owner,
          createdAt: now,
        });
      }
      const sentinel: StoredSentinel = {
        strategyId: ctx.strategyId,
        version: ctx.version,
        dagHash,
        createdAt: now,
        retired: false,
        retiredAt: 0,
        nodes: v.nodes.map((n) => n.nodeId),
        created,
      };
      this.#sentinels.set(sentinelId, sentinel);
      for (const id of sentinel.nodes) {
        this.#nodes.get(id)!.sentinels.add(sentinelId);
      }
      return Promise.resolve(this.#result(sentinelId, sentinel));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #attachTopic(n: StoredNode, now: number): void {
    const name = this.#newTopicName(n.spec);
    this.#topics.set(
      name,
      create(TopicDescriptorSchema, {
        name,
        nodeId: n.spec.nodeId,
        retentionMs: DEFAULT_RETENTION_MS,
        partitions: 1,
        createdAtMs: now,
      }),
    );
    n.topic = name;
  }

  /** {@inheritDoc NodeRegistry.getNode} */
  getNode(nodeId: string): Promise<NodeRecord | null> {
    return this.#run(() => {
      const n = this.#nodes.get(nodeId);
      return n ? this.#record(n) : null;
    });
  }

  /** {@inheritDoc NodeRegistry.listNodes} */
  listNodes(options: ListNodesOptions = {}): Promise<NodePage> {
    return this.#run(() => {
      const size = clampPageSize(options.pageSize);
      const after = decodePageToken(options.pageToken);
      const ids = [...this.#nodes.keys()].filter((id) => id > after).sort();
      const nodes: NodeRecord[] = [];
      let last = "";
      for (const id of ids) {
        const n = this.#nodes.get(id)!;
        if (options.nodeType && n.spec.nodeType !== options.nodeType) continue;
        if (options.intervalS && n.spec.intervalS !== options.intervalS) {
          continue;
        }
        if (nodes.length === size) {
          return { nodes, nextPageToken: encodePageToken(last) };
        }
        nodes.push(this.#record(n));
        last = id;
      }
      return { nodes, nextPageToken: "" };
    });
  }

  /** {@inheritDoc NodeRegistry.dependencies} */
  dependencies(nodeId: string): Promise<NodeRecord[]> {
    return this.#run(() =>
      [...this.#mustGet(nodeId).inputs].sort().map((id) =>
        this.#record(this.#nodes.get(id)!)
      )
    );
  }

  /** {@inheritDoc NodeRegistry.dependents} */
  dependents(nodeId: string): Promise<NodeRecord[]> {
    return this.#run(() =>
      [...this.#mustGet(nodeId).dependents].sort().map((id) =>
        this.#record(this.#nodes.get(id)!)
      )
    );
  }

  /** {@inheritDoc NodeRegistry.queryByTags} */
  queryByTags(tags: string[], options: TagQueryOptions): Promise<NodeRecord[]> {
    return this.#run(() => {
      const wanted = [...new Set(tags)];
      if (options.matchMode !== "any" && options.matchMode !== "all") {
        throw new RegistryError("E_INVALID", "matchMode must be any or all");
      }
      const limit = clampPageSize(options.limit, 1000, 10000);
      if (wanted.length === 0) return [];
      const counts = new Map<string, number>();
      for (const t of wanted) {
        for (const id of this.#tags.get(t) ?? []) {
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
      }
      const need = options.matchMode === "all" ? wanted.length : 1;
      return [...counts].filter(([id, c]) =>
        c >= need &&
        this.#nodes.get(id)!.spec.nodeType !== TAG_QUERY_NODE_TYPE &&
        (!options.intervalS ||
          this.#nodes.get(id)!.spec.intervalS === options.intervalS)
      ).map(([id]) => id).sort().slice(0, limit).map((id) =>
        this.#record(this.#nodes.get(id)!)
      );
    });
  }

  /** {@inheritDoc NodeRegistry.refCount} */
  refCount(nodeId: string): Promise<number> {
    return this.#run(() => this.#refs(this.#mustGet(nodeId)));
  }

  /** {@inheritDoc NodeRegistry.strategiesUsing} */
  strategiesUsing(nodeId: string): Promise<StrategyRef[]> {
    return this.#run(() => {
      const n = this.#nodes.get(nodeId);
      if (!n) return [];
      return [...n.sentinels].sort().map((sid) => {
        const s = this.#sentinels.get(sid)!;
        return {
          strategyId: s.strategyId,
          version: s.version,
          sentinelId: sid,
          retired: s.retired,
        };
      });
    });
  }

  /** {@inheritDoc NodeRegistry.addDependency} */
  addDependency(from: string, to: string): Promise<void> {
    return this.#run(() => {
      const f = this.#mustGet(from);
      this.#mustGet(to);
      if (f.inputs.has(to)) return;
      const path = this.#pathBetween(to, from);
      if (path) throw new CycleError([from, ...path]);
      f.inputs.add(to);
      this.#nodes.get(to)!.dependents.add(from);
      f.updatedAt = Date.now();
    });
  }

  /** Shortest dependency path start → … → goal (BFS), or null. */
  #pathBetween(start: string, goal: string): string[] | null {
    const prev = new Map<string, string>([[start, ""]]);
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i];
      if (id === goal) {
        const path = [id];
        for (let p = prev.get(id)!; p !== ""; p = prev.get(p)!) path.push(p);
        return path.reverse();
      }
      for (const next of this.#nodes.get(id)!.inputs) {
        if (!prev.has(next)) {
          prev.set(next, id);
          queue.push(next);
        }
      }
    }
    return null;
  }

  /** {@inheritDoc NodeRegistry.removeDependency} */
  removeDependency(from: string, to: string): Promise<boolean> {
    return this.#run(() => {
      const f = this.#nodes.get(from);
      if (!f || !f.inputs.has(to)) return false;
      f.inputs.delete(to);
      this.#nodes.get(to)?.dependents.delete(from);
      f.updatedAt = Date.now();
      return true;
    });
  }

  /** {@inheritDoc NodeRegistry.retireVersion} */
  retireVersion(strategyId: string, version: string): Promise<RetireResult> {
    return this.#run(() => {
      const sentinelId = sentinelIdOf(strategyId, version);
      const s = this.#sentinels.get(sentinelId);
      if (!s) {
        throw new NotFoundError(`strategy version ${sentinelId} not found`);
      }
      if (s.retired) return { sentinelId, alreadyRetired: true, released: [] };
      const now = Date.now();
      s.retired = true;
      s.retiredAt = now;
      const released: string[] = [];
      for (const id of s.nodes) {
        const n = this.#nodes.get(id);
        if (n && this.#refs(n) === 0) {
          n.lastRefAt = now;
          n.updatedAt = now;
          released.push(id);
        }
      }
      return { sentinelId, alreadyRetired: false, released: released.sort() };
    });
  }

  /** {@inheritDoc NodeRegistry.createTopic} */
  createTopic(input: TopicInput): Promise<TopicDescriptor> {
    return this.#run(() => {
      if (typeof input.name !== "string" || input.name === "") {
        throw new RegistryError("E_INVALID", "topic name is empty");
      }
      const nodeId = input.nodeId ?? "";
      const existing = this.#topics.get(input.name);
      if (existing) {
        if (existing.nodeId !== nodeId) {
          throw new ConflictError(
            `topic ${input.name} belongs to ${existing.nodeId || "no node"}`,
          );
        }
        return { ...existing };
      }
      let node: StoredNode | undefined;
      if (nodeId !== "") {
        node = this.#mustGet(nodeId);
        if (node.topic !== "") {
          throw new ConflictError(
            `node ${nodeId} already emits ${node.topic}`,
            { nodeId },
          );
        }
      }
      const t: TopicDescriptor = create(TopicDescriptorSchema, {
        name: input.name,
        nodeId,
        retentionMs: input.retentionMs ?? DEFAULT_RETENTION_MS,
        partitions: input.partitions ?? 1,
        createdAtMs: Date.now(),
      });
      this.#topics.set(t.name, t);
      if (node) node.topic = t.name;
      return { ...t };
    });
  }

  /** {@inheritDoc NodeRegistry.deleteTopic} */
  deleteTopic(name: string): Promise<boolean> {
    return this.#run(() => {
      const t = this.#topics.get(name);
      if (!t) return false;
      const node = t.nodeId ? this.#nodes.get(t.nodeId) : undefined;
      if (node && this.#refs(node) > 0) {
        throw new ConflictError(
          `topic ${name} is emitted by live node ${t.nodeId}`,
          { nodeId: t.nodeId },
        );
      }
      this.#topics.delete(name);
      if (node) node.topic = "";
      return true;
    });
  }

  /** {@inheritDoc NodeRegistry.getTopic} */
  getTopic(name: string): Promise<TopicDescriptor | null> {
    return this.#run(() => {
      const t = this.#topics.get(name);
      return t ? { ...t } : null;
    });
  }

  /** {@inheritDoc NodeRegistry.listTopics} */
  listTopics(options: ListTopicsOptions = {}): Promise<TopicPage> {
    return this.#run(() => {
      const size = clampPageSize(options.pageSize);
      const after = decodePageToken(options.pageToken);
      const names = [...this.#topics.keys()].filter((n) => n > after).sort();
      const page = names.slice(0, size);
      return {
        topics: page.map((n) => ({ ...this.#topics.get(n)! })),
        nextPageToken: names.length > size
          ? encodePageToken(page[page.length - 1])
          : "",
      };
    });
  }

  /** {@inheritDoc NodeRegistry.gc} */
  gc(options: GcOptions): Promise<GcReport> {
    return this.#run(() => {
      const now = options.now ?? Date.now();
      const zero = [...this.#nodes.values()].filter((n) => this.#refs(n) === 0);
      const plan = gcPlan(
        zero.map((n) => ({
          nodeId: n.spec.nodeId,
          lastRefAt: n.lastRefAt,
          dependents: [...n.dependents],
        })),
        { cutoff: now - options.graceMs, limit: options.limit },
      );
      const removed: string[] = [];
      const removedTopics: string[] = [];
      for (const level of plan.levels) {
        for (const id of level) {
          const n = this.#nodes.get(id)!;
          removed.push(id);
          if (n.topic !== "") {
            this.#topics.delete(n.topic);
            removedTopics.push(n.topic);
          }
          for (const input of n.inputs) {
            this.#nodes.get(input)?.dependents.delete(id);
          }
          for (const tag of n.spec.tags) {
            const set = this.#tags.get(tag);
            set?.delete(id);
            if (set?.size === 0) this.#tags.delete(tag);
          }
          this.#nodes.delete(id);
        }
      }
      return gcReport(plan, removed, removedTopics);
    });
  }

  /** {@inheritDoc NodeRegistry.health} */
  health(): Promise<HealthStatus> {
    return Promise.resolve(
      this.#closed
        ? { ok: false, detail: "memory registry closed" }
        : { ok: true, detail: `memory registry, ${this.#nodes.size} nodes` },
    );
  }

  /** {@inheritDoc NodeRegistry.close} */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #run<T>(fn: () => T): Promise<T> {
    try {
      this.#check();
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  }
}
