// One conformance suite for every NodeRegistry backend.
import assert from "node:assert/strict";
import type { NodeSpec } from "../../lib/contracts/messages.ts";
import {
  ConflictError,
  CycleError,
  type NodeRegistry,
  NotFoundError,
  UnknownInputError,
} from "../../lib/dag/mod.ts";
import { dagOf, nid, spec } from "./helpers.ts";

/** A fresh, isolated registry plus its cleanup. */
export interface RegistryHandle {
  registry: NodeRegistry;
  cleanup(): Promise<void>;
}

/** How the suite obtains registries. */
export interface ConformanceOptions {
  /** Backend label used in test names. */
  name: string;
  /** A fresh, empty, isolated registry. */
  factory: () => Promise<RegistryHandle>;
  /** Skip every test (backend not configured). */
  ignore?: boolean;
  /** Disable Deno's op/resource sanitizers (network drivers). */
  sanitize?: boolean;
}

const ctx = (strategyId: string, version = "1") => ({
  strategyId,
  version,
  owner: "alice",
});

/** A 3-node chain: price (StreamInput, tagged) → sma → signal. */
function chain(prefix: string, tags = ["btc", "price"], interval = 60) {
  const price = spec(`${prefix}price`, {
    type: "StreamInput",
    tags,
    asset: "btc",
    interval,
  });
  const sma = spec(`${prefix}sma`, { inputs: [price.nodeId], interval });
  const signal = spec(`${prefix}signal`, {
    type: "Signal",
    inputs: [sma.nodeId],
    interval,
  });
  return { price, sma, signal, nodes: [price, sma, signal] };
}

/** Every item of a paged listing, read 7 at a time; fails after 1000 pages. */
async function allPages<T>(
  what: string,
  list: (q: { pageSize: number; pageToken: string }) => Promise<
    { items: T[]; nextPageToken: string }
  >,
): Promise<T[]> {
  const out: T[] = [];
  let token = "";
  for (let i = 0; i < 1000; i++) {
    const page = await list({ pageSize: 7, pageToken: token });
    out.push(...page.items);
    token = page.nextPageToken;
    if (token === "") return out;
  }
  throw new Error(`${what} did not terminate`);
}

const allNodes = (reg: NodeRegistry) =>
  allPages("listNodes", async (q) => {
    const p = await reg.listNodes(q);
    return { items: p.nodes, nextPageToken: p.nextPageToken };
  });

const allTopics = (reg: NodeRegistry) =>
  allPages("listTopics", async (q) => {
    const p = await reg.listTopics(q);
    return { items: p.topics, nextPageToken: p.nextPageToken };
  });

/** Register the conformance tests for one backend. */
export function registryConformance(o: ConformanceOptions): void {
  const test = (name: string, fn: (reg: NodeRegistry) => Promise<void>) =>
    Deno.test({
      name: `[${o.name}] ${name}`,
      ignore: o.ignore ?? false,
      sanitizeOps: o.sanitize ?? true,
      sanitizeResources: o.sanitize ?? true,
      fn: async () => {
        const h = await o.factory();
        try {
          await fn(h.registry);
        } finally {
          await h.cleanup();
        }
      },
    });

  test("diff creates nodes, topics and metadata; lookup returns them", async (reg) => {
    const c = chain("a");
    const d = await reg.diffAndCommit(dagOf("s1", c.nodes), ctx("st_1"));
    assert.equal(d.strategyId, "st_1");
    assert.equal(d.version, "1");
    assert.equal(d.sentinelId, "st_1@1");
    assert.deepEqual(d.created, c.nodes.map((n) => n.nodeId));
    assert.deepEqual(d.reused, []);
    assert.equal(Object.keys(d.queueMap).length, 3);
    const short = c.price.nodeId.slice(7, 15);
    assert.equal(d.queueMap[c.price.nodeId], `btc_StreamInput_${short}_v1`);
    assert.match(d.queueMap[c.sma.nodeId], /^any_Processing_[0-9a-f]{8}_v1$/);

    const rec = await reg.getNode(c.sma.nodeId);
    assert.ok(rec);
    assert.deepEqual(rec.node, c.sma);
    assert.equal(rec.topic, d.queueMap[c.sma.nodeId]);
    assert.equal(rec.refCount, 1);
    assert.ok(rec.createdAtMs > 0 && rec.updatedAtMs >= rec.createdAtMs);
    assert.equal(await reg.getNode(nid("nope")), null);

    const topic = await reg.getTopic(d.queueMap[c.price.nodeId]);
    assert.ok(topic);
    assert.equal(topic.nodeId, c.price.nodeId);
    assert.equal(topic.partitions, 1);
    assert.ok(topic.retentionMs > 0);

    assert.deepEqual(
      (await reg.dependencies(c.sma.nodeId)).map((r) => r.node!.nodeId),
      [c.price.nodeId],
    );
    assert.deepEqual(
      (await reg.dependents(c.sma.nodeId)).map((r) => r.node!.nodeId),
      [c.signal.nodeId],
    );
    await assert.rejects(reg.dependencies(nid("nope")), NotFoundError);
    const h = await reg.health();
    assert.equal(h.ok, true);
  });

  test("reuse links a node without changing its record", async (reg) => {
    const c = chain("reuse");
    await reg.diffAndCommit(dagOf("r1", c.nodes), {
      ...ctx("st_r1"),
      now: 1_000,
    });
    const d = await reg.diffAndCommit(dagOf("r2", c.nodes), {
      ...ctx("st_r2"),
      now: 5_000,
    });
    assert.deepEqual(d.reused, c.nodes.map((n) => n.nodeId));
    for (const n of c.nodes) {
      const rec = await reg.getNode(n.nodeId);
      assert.ok(rec);
      assert.equal(rec.refCount, 2);
      assert.equal(rec.createdAtMs, 1_000);
      assert.equal(rec.updatedAtMs, 1_000, "a reuse is not an update");
    }
  });

  test("ref counts stay exact across many strategies sharing nodes", async (reg) => {
    const base = chain("shared");
    const own: NodeSpec[] = [];
    for (let i = 0; i < 12; i++) {
      const mine = spec(`own${i}`, { inputs: [base.sma.nodeId] });
      own.push(mine);
      const d = await reg.diffAndCommit(
        dagOf(`s${i}`, [...base.nodes, mine]),
        ctx(`st_${i}`),
      );
      if (i === 0) assert.equal(d.created.length, 4);
      else {
        assert.deepEqual(d.created, [mine.nodeId]);
        assert.deepEqual(d.reused, base.nodes.map((n) => n.nodeId));
      }
    }
    assert.equal(await reg.refCount(base.price.nodeId), 12);
    assert.equal(await reg.refCount(own[3].nodeId), 1);
    const users = await reg.strategiesUsing(base.sma.nodeId);
    assert.equal(users.length, 12);
    assert.ok(users.every((u) => !u.retired));
    // retire 5: the shared nodes keep 7 references, the retired own nodes drop to 0
    for (let i = 0; i < 5; i++) {
      const r = await reg.retireVersion(`st_${i}`, "1");
      assert.equal(r.alreadyRetired, false);
      assert.deepEqual(r.released, [own[i].nodeId]);
    }
    const again = await reg.retireVersion("st_0", "1");
    assert.deepEqual(again, {
      sentinelId: "st_0@1",
      alreadyRetired: true,
      released: [],
    });
    await assert.rejects(reg.retireVersion("st_x", "1"), NotFoundError);
    assert.equal(await reg.refCount(base.price.nodeId), 7);
    assert.equal(await reg.refCount(own[0].nodeId), 0);
    const users2 = await reg.strategiesUsing(base.sma.nodeId);
    assert.equal(users2.filter((u) => u.retired).length, 5);
    // every node's record agrees with refCount
    const nodes = await allNodes(reg);
    assert.equal(nodes.length, 3 + 12);
    for (const n of nodes) {
      assert.equal(n.refCount, await reg.refCount(n.node!.nodeId));
    }
    await assert.rejects(reg.refCount(nid("nope")), NotFoundError);
  });

  test("listNodes pages in ID order and filters by type and interval", async (reg) => {
    const nodes = [];
    for (let i = 0; i < 9; i++) {
      nodes.push(
        spec(`ln${i}`, {
          type: i % 3 === 0 ? "StreamInput" : "Processing",
          interval: i % 2 === 0 ? 60 : 300,
        }),
      );
    }
    await reg.diffAndCommit(dagOf("ln", nodes), ctx("st_ln"));
    const all = await allNodes(reg);
    assert.deepEqual(
      all.map((n) => n.node!.nodeId),
      nodes.map((n) => n.nodeId).sort(),
    );
    const p1 = await reg.listNodes({ pageSize: 2, nodeType: "StreamInput" });
    assert.equal(p1.nodes.length, 2);
    assert.notEqual(p1.nextPageToken, "");
    const p2 = await reg.listNodes({
      pageSize: 2,
      nodeType: "StreamInput",
      pageToken: p1.nextPageToken,
    });
    assert.equal(p2.nodes.length, 1);
    assert.equal(p2.nextPageToken, "");
    const i300 = await reg.listNodes({ intervalS: 300 });
    assert.equal(i300.nodes.length, 4);
    assert.ok(i300.nodes.every((n) => n.node!.intervalS === 300));
    await assert.rejects(reg.listNodes({ pageToken: "!!garbage" }));
  });

  test("dependency add/remove keeps the DAG consistent", async (reg) => {
    const c = chain("dep");
    const other = spec("dep-other");
    await reg.diffAndCommit(dagOf("d", [...c.nodes, other]), ctx("st_d"));
    await reg.addDependency(c.signal.nodeId, other.nodeId);
    await reg.addDependency(c.signal.nodeId, other.nodeId); // idempotent
    assert.deepEqual(
      (await reg.dependencies(c.signal.nodeId)).map((r) => r.node!.nodeId)
        .sort(),
      [c.sma.nodeId, other.nodeId].sort(),
    );
    assert.deepEqual(
      (await reg.dependents(other.nodeId)).map((r) => r.node!.nodeId),
      [c.signal.nodeId],
    );
    assert.equal(
      await reg.removeDependency(c.signal.nodeId, other.nodeId),
      true,
    );
    assert.equal(
      await reg.removeDependency(c.signal.nodeId, other.nodeId),
      false,
    );
    assert.deepEqual(await reg.dependents(other.nodeId), []);
    await assert.rejects(
      reg.addDependency(c.signal.nodeId, nid("nope")),
      NotFoundError,
    );
    // global consistency: x in dependencies(y) ⇔ y in dependents(x)
    const nodes = await allNodes(reg);
    for (const n of nodes) {
      for (const dep of await reg.dependencies(n.node!.nodeId)) {
        const back = await reg.dependents(dep.node!.nodeId);
        assert.ok(back.some((b) => b.node!.nodeId === n.node!.nodeId));
      }
    }
  });

  test("cycles of length 1, 2 and long are rejected and nothing is written", async (reg) => {
    const a = nid("cyc-a"), b = nid("cyc-b");
    const self = spec("self", { id: a, inputs: [a] });
    const e1 = await reg.diffAndCommit(dagOf("c1", [self]), ctx("st_c1"))
      .catch((e) => e);
    assert.ok(e1 instanceof CycleError, String(e1));
    assert.equal(e1.code, "E_CYCLE");
    assert.deepEqual(e1.path, [a, a]);

    const two = [
      spec("x", { id: a, inputs: [b] }),
      spec("y", { id: b, inputs: [a] }),
    ];
    const e2 = await reg.diffAndCommit(dagOf("c2", two), ctx("st_c2")).catch((
      e,
    ) => e);
    assert.ok(e2 instanceof CycleError);
    assert.equal(e2.path.length, 3);
    assert.equal(e2.path[0], e2.path[2]);

    const ids = Array.from({ length: 40 }, (_, i) => nid(`long${i}`));
    const long = ids.map((id, i) =>
      spec(`l${i}`, { id, inputs: [ids[(i + 1) % ids.length]] })
    );
    const ok = spec("innocent");
    const e3 = await reg.diffAndCommit(
      dagOf("c3", [ok, ...long]),
      ctx("st_c3"),
    ).catch((e) => e);
    assert.ok(e3 instanceof CycleError);
    assert.equal(e3.path.length, 41);
    assert.match(e3.message, /→/);

    assert.deepEqual((await reg.listNodes()).nodes, []);
    assert.deepEqual((await reg.listTopics()).topics, []);
    assert.equal(await reg.getNode(ok.nodeId), null);
    await assert.rejects(reg.retireVersion("st_c3", "1"), NotFoundError);

    // addDependency cycles: 1, 2 and long; the graph is unchanged
    const c = chain("acyc");
    await reg.diffAndCommit(dagOf("ac", c.nodes), ctx("st_ac"));
    const before = await Promise.all(
      c.nodes.map((n) => reg.dependencies(n.nodeId)),
    );
    const s1 = await reg.addDependency(c.sma.nodeId, c.sma.nodeId).catch((
      e,
    ) => e);
    assert.ok(s1 instanceof CycleError);
    assert.deepEqual(s1.path, [c.sma.nodeId, c.sma.nodeId]);
    const s2 = await reg.addDependency(c.price.nodeId, c.sma.nodeId).catch((
      e,
    ) => e);
    assert.ok(s2 instanceof CycleError);
    assert.deepEqual(s2.path, [c.price.nodeId, c.sma.nodeId, c.price.nodeId]);
    const s3 = await reg.addDependency(c.price.nodeId, c.signal.nodeId).catch((
      e,
    ) => e);
    assert.ok(s3 instanceof CycleError);
    assert.deepEqual(s3.path, [
      c.price.nodeId,
      c.signal.nodeId,
      c.sma.nodeId,
      c.price.nodeId,
    ]);
    const after = await Promise.all(
      c.nodes.map((n) => reg.dependencies(n.nodeId)),
    );
    assert.deepEqual(after, before);
  });

  test("unknown inputs are rejected with node and input named; inputs from the registry are fine", async (reg) => {
    const c = chain("ui");
    const missing = nid("missing-input");
    const bad = spec("bad", { inputs: [c.sma.nodeId, missing] });
    const e = await reg.diffAndCommit(
      dagOf("u", [...c.nodes, bad]),
      ctx("st_u"),
    )
      .catch((x) => x);
    assert.ok(e instanceof UnknownInputError, String(e));
    assert.equal(e.code, "E_UNKNOWN_INPUT");
    assert.equal(e.nodeId, bad.nodeId);
    assert.equal(e.input, missing);
    assert.deepEqual((await reg.listNodes()).nodes, []);
    assert.deepEqual((await reg.listTopics()).topics, []);
    // nor the strategy version (Neo4j writes its sentinel first, in the same
    // transaction, and rolls it back)
    await assert.rejects(reg.retireVersion("st_u", "1"), NotFoundError);
    // an input that exists only in the registry is accepted
    await reg.diffAndCommit(dagOf("base", c.nodes), ctx("st_base"));
    const ext = spec("ext", { inputs: [c.signal.nodeId] });
    const d = await reg.diffAndCommit(dagOf("ext", [ext]), ctx("st_ext"));
    assert.deepEqual(d.created, [ext.nodeId]);
    assert.deepEqual(Object.keys(d.queueMap), [ext.nodeId]);
    assert.deepEqual(
      (await reg.dependencies(ext.nodeId)).map((r) => r.node!.nodeId),
      [c.signal.nodeId],
    );
    assert.equal(await reg.refCount(c.signal.nodeId), 1);
  });

  test("tag queries: any / all and interval filter", async (reg) => {
    const n1 = spec("t1", { tags: ["btc", "price"], interval: 60 });
    const n2 = spec("t2", { tags: ["btc", "volume"], interval: 60 });
    const n3 = spec("t3", { tags: ["eth", "price"], interval: 300 });
    const n4 = spec("t4", { tags: ["btc", "price"], interval: 300 });
    // A tag query is tagged with its own query tags: it never matches a query.
    const q = spec("q", {
      type: "TagQuery",
      tags: ["btc", "price"],
      params: { match_mode: "any", query_tags: ["btc", "price"] },
    });
    await reg.diffAndCommit(dagOf("t", [n1, n2, n3, n4, q]), ctx("st_t"));
    const ids = (rs: { node?: NodeSpec }[]) => rs.map((r) => r.node!.nodeId);
    const sorted = (...n: NodeSpec[]) => n.map((x) => x.nodeId).sort();
    assert.deepEqual(
      ids(await reg.queryByTags(["btc"], { matchMode: "any" })),
      sorted(n1, n2, n4),
    );
    assert.deepEqual(
      ids(await reg.queryByTags(["btc", "price"], { matchMode: "all" })),
      sorted(n1, n4),
    );
    assert.deepEqual(
      ids(await reg.queryByTags(["volume", "eth"], { matchMode: "any" })),
      sorted(n2, n3),
    );
    assert.deepEqual(
      ids(
        await reg.queryByTags(["btc", "price"], {
          matchMode: "all",
          intervalS: 300,
        }),
      ),
      sorted(n4),
    );
    assert.deepEqual(
      ids(
        await reg.queryByTags(["price"], { matchMode: "any", intervalS: 60 }),
      ),
      sorted(n1),
    );
    assert.deepEqual(
      await reg.queryByTags(["btc", "nope"], { matchMode: "all" }),
      [],
    );
    assert.deepEqual(await reg.queryByTags([], { matchMode: "any" }), []);
    const r = await reg.queryByTags(["eth"], { matchMode: "any" });
    assert.equal(r[0].refCount, 1);
    assert.deepEqual(r[0].node!.tags, ["eth", "price"]);
  });

  test("topics: create/delete idempotent, metadata, refusal for a live node's topic", async (reg) => {
    const t = await reg.createTopic({
      name: "orphan_topic_v1",
      retentionMs: 3600000,
      partitions: 3,
    });
    assert.equal(t.nodeId, "");
    assert.equal(t.retentionMs, 3600000);
    assert.equal(t.partitions, 3);
    const again = await reg.createTopic({ name: "orphan_topic_v1" });
    assert.deepEqual(again, t);
    assert.deepEqual(await reg.getTopic("orphan_topic_v1"), t);

    const c = chain("tp");
    const d = await reg.diffAndCommit(dagOf("tp", c.nodes), ctx("st_tp"));
    const live = d.queueMap[c.sma.nodeId];
    await assert.rejects(
      reg.createTopic({ name: "orphan_topic_v1", nodeId: c.sma.nodeId }),
      ConflictError,
    );
    await assert.rejects(
      reg.createTopic({ name: "another_v1", nodeId: c.sma.nodeId }),
      ConflictError,
    );
    await assert.rejects(
      reg.createTopic({ name: "x_v1", nodeId: nid("nope") }),
      NotFoundError,
    );
    const same = await reg.createTopic({ name: live, nodeId: c.sma.nodeId });
    assert.equal(same.nodeId, c.sma.nodeId);

    const refused = await reg.deleteTopic(live).catch((e) => e);
    assert.ok(refused instanceof ConflictError);
    assert.equal(refused.code, "E_CONFLICT");
    assert.ok(await reg.getTopic(live));

    const names = (await allTopics(reg)).map((x) => x.name);
    assert.deepEqual(
      names,
      [...Object.values(d.queueMap), "orphan_topic_v1"].sort(),
    );

    assert.equal(await reg.deleteTopic("orphan_topic_v1"), true);
    assert.equal(await reg.deleteTopic("orphan_topic_v1"), false);
    assert.equal(await reg.getTopic("orphan_topic_v1"), null);

    // once the node has no live reference its topic may go; reuse re-creates it
    await reg.retireVersion("st_tp", "1");
    assert.equal(await reg.deleteTopic(live), true);
    assert.equal((await reg.getNode(c.sma.nodeId))?.topic, "");
    const d2 = await reg.diffAndCommit(dagOf("tp", c.nodes), ctx("st_tp2"));
    assert.equal(d2.queueMap[c.sma.nodeId], live);
    assert.deepEqual(d2.created, []);
    assert.equal((await reg.getTopic(live))?.nodeId, c.sma.nodeId);
  });

  test("a topic name already taken gets the next version suffix", async (reg) => {
    const n = spec("clash", { asset: "eth" });
    const v1 = `eth_Processing_${n.nodeId.slice(7, 15)}_v1`;
    await reg.createTopic({ name: v1 });
    const d = await reg.diffAndCommit(dagOf("clash", [n]), ctx("st_clash"));
    assert.equal(d.queueMap[n.nodeId], v1.replace(/_v1$/, "_v2"));
    assert.equal((await reg.getTopic(v1))?.nodeId, "");
    assert.equal(
      (await reg.getTopic(d.queueMap[n.nodeId]))?.nodeId,
      n.nodeId,
    );
  });

  test("diffAndCommit is idempotent; same version with another DAG conflicts", async (reg) => {
    const c = chain("idem");
    const first = await reg.diffAndCommit(dagOf("i", c.nodes), ctx("st_i"));
    for (let i = 0; i < 3; i++) {
      const again = await reg.diffAndCommit(dagOf("i", c.nodes), ctx("st_i"));
      assert.deepEqual(again, first);
    }
    assert.equal(await reg.refCount(c.price.nodeId), 1);
    assert.equal((await reg.listNodes()).nodes.length, 3);
    assert.equal((await reg.listTopics()).topics.length, 3);
    const other = spec("idem-other");
    await assert.rejects(
      reg.diffAndCommit(dagOf("i", [...c.nodes, other]), ctx("st_i")),
      ConflictError,
    );
    assert.equal(await reg.getNode(other.nodeId), null);
    // a new version of the same strategy is a new reference
    const v2 = await reg.diffAndCommit(dagOf("i", c.nodes), ctx("st_i", "2"));
    assert.deepEqual(v2.created, []);
    assert.equal(v2.sentinelId, "st_i@2");
    assert.equal(await reg.refCount(c.price.nodeId), 2);
    await reg.retireVersion("st_i", "1");
    await assert.rejects(
      reg.diffAndCommit(dagOf("i", c.nodes), ctx("st_i")),
      ConflictError,
    );
  });

  test("20 concurrent overlapping submissions: no duplicates, exact ref counts", async (reg) => {
    const shared = chain("conc");
    const mids = Array.from(
      { length: 5 },
      (_, i) => spec(`mid${i}`, { inputs: [shared.sma.nodeId], tags: ["mid"] }),
    );
    const dags = Array.from({ length: 20 }, (_, i) => {
      const mine = spec(`leaf${i}`, {
        inputs: [mids[i % 5].nodeId, mids[(i + 1) % 5].nodeId],
      });
      return dagOf(`c${i}`, [
        ...shared.nodes,
        mids[i % 5],
        mids[(i + 1) % 5],
        mine,
      ]);
    });
    const results = await Promise.all(
      dags.map((d, i) => reg.diffAndCommit(d, ctx(`st_c${i}`))),
    );
    const created = results.flatMap((r) => r.created);
    assert.equal(new Set(created).size, created.length, "created twice");
    assert.equal(created.length, 3 + 5 + 20);
    const nodes = await allNodes(reg);
    assert.equal(nodes.length, 28);
    const topics = await allTopics(reg);
    assert.equal(topics.length, 28);
    assert.equal(new Set(topics.map((t) => t.nodeId)).size, 28);
    for (const r of results) {
      for (const [id, topic] of Object.entries(r.queueMap)) {
        assert.equal((await reg.getNode(id))?.topic, topic);
      }
    }
    assert.equal(await reg.refCount(shared.price.nodeId), 20);
    for (const m of mids) assert.equal(await reg.refCount(m.nodeId), 8);
    const midTagged = await reg.queryByTags(["mid"], { matchMode: "any" });
    assert.equal(midTagged.length, 5);
  });

  test("concurrent submissions of one strategy version agree and count once", async (reg) => {
    const base = chain("same-base");
    await reg.diffAndCommit(dagOf("sb", base.nodes), ctx("st_sb"));
    const fresh = spec("same-new", { inputs: [base.signal.nodeId] });
    const dag = dagOf("same", [...base.nodes, fresh]);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => reg.diffAndCommit(dag, ctx("st_same"))),
    );
    for (const r of results) assert.deepEqual(r, results[0]);
    assert.deepEqual(results[0].created, [fresh.nodeId]);
    assert.equal(results[0].reused.length, 3);
    assert.equal(await reg.refCount(base.price.nodeId), 2);
    assert.equal(await reg.refCount(fresh.nodeId), 1);
    assert.deepEqual(
      (await reg.strategiesUsing(fresh.nodeId)).map((s) => s.sentinelId),
      ["st_same@1"],
    );
  });

  test("gc: grace period, dependents keep nodes, report", async (reg) => {
    const c = chain("gc");
    const keep = spec("gc-keep", { inputs: [c.price.nodeId] });
    await reg.diffAndCommit(dagOf("g1", c.nodes), ctx("st_g1"));
    await reg.diffAndCommit(dagOf("g2", [keep]), ctx("st_g2"));
    const nothing = await reg.gc({ graceMs: 0 });
    assert.equal(nothing.observed, 0);
    assert.deepEqual(nothing.removed, []);

    const r = await reg.retireVersion("st_g1", "1");
    assert.deepEqual(r.released, c.nodes.map((n) => n.nodeId).sort());
    const inGrace = await reg.gc({ graceMs: 3_600_000 });
    assert.equal(inGrace.observed, 3);
    assert.deepEqual(inGrace.removed, []);
    assert.deepEqual(inGrace.keptInGrace, c.nodes.map((n) => n.nodeId).sort());

    const later = Date.now() + 7_200_000;
    const rep = await reg.gc({ graceMs: 3_600_000, now: later });
    assert.equal(rep.observed, 3);
    // price has zero refs but the live node gc-keep depends on it
    assert.deepEqual(rep.keptWithDependents, [c.price.nodeId]);
    assert.deepEqual(rep.removed, [c.sma.nodeId, c.signal.nodeId].sort());
    assert.equal(rep.removedTopics.length, 2);
    for (const t of rep.removedTopics) {
      assert.equal(await reg.getTopic(t), null);
    }
    assert.equal(await reg.getNode(c.sma.nodeId), null);
    assert.ok(await reg.getNode(c.price.nodeId));
    assert.deepEqual(
      await reg.dependents(c.price.nodeId).then((x) => x.length),
      1,
    );

    // once the dependent goes too, the whole chain is collected in one run
    await reg.retireVersion("st_g2", "1");
    const all = await reg.gc({ graceMs: 0, now: Date.now() + 1000 });
    assert.deepEqual(all.removed, [c.price.nodeId, keep.nodeId].sort());
    assert.deepEqual((await reg.listNodes()).nodes, []);
    assert.deepEqual((await reg.listTopics()).topics, []);
    // a collected node can be submitted again
    const d = await reg.diffAndCommit(dagOf("g1", c.nodes), ctx("st_g3"));
    assert.equal(d.created.length, 3);
  });

  test("gc running concurrently with submissions never collects a referenced node", async (reg) => {
    const pool = Array.from({ length: 12 }, (_, i) => spec(`gcc${i}`));
    // never reused: the first gc run must collect these
    const garbage = Array.from({ length: 5 }, (_, i) => spec(`gcg${i}`));
    // seed: every pool node exists with zero references
    await reg.diffAndCommit(
      dagOf("seed", [...pool, ...garbage]),
      ctx("st_seed"),
    );
    await reg.retireVersion("st_seed", "1");
    let stop = false;
    let gcRuns = 0;
    let removedTotal = 0;
    const gcLoop = (async () => {
      for (let i = 0; i < 400 && !stop; i++) {
        const rep = await reg.gc({ graceMs: 0, now: Date.now() + 1 });
        gcRuns++;
        removedTotal += rep.removed.length;
        await new Promise((r) => setTimeout(r, 0));
      }
    })();
    const live: { id: string; sid: string; nodes: NodeSpec[] }[] = [];
    try {
      for (let round = 0; round < 8; round++) {
        const batch = await Promise.all(
          Array.from({ length: 4 }, (_, j) => {
            const k = round * 4 + j;
            const nodes = [pool[k % 12], pool[(k + 5) % 12]];
            return reg.diffAndCommit(dagOf(`g${k}`, nodes), ctx(`st_gc${k}`))
              .then((d) => ({ id: `st_gc${k}`, sid: d.sentinelId, nodes }));
          }),
        );
        live.push(...batch);
        // every node of every live version must exist with its topic
        for (const l of live) {
          for (const n of l.nodes) {
            const rec = await reg.getNode(n.nodeId);
            assert.ok(rec, `node ${n.name} collected while referenced`);
            assert.notEqual(rec.topic, "", `topic of ${n.name} missing`);
            assert.ok(rec.refCount >= 1);
          }
        }
        // retire the oldest half so gc has work
        if (round % 2 === 1) {
          for (const l of live.splice(0, 4)) {
            await reg.retireVersion(l.id, "1");
          }
        }
      }
    } finally {
      stop = true;
      await gcLoop;
    }
    assert.ok(gcRuns > 0);
    assert.ok(removedTotal >= garbage.length, "gc collected nothing");
    for (const g of garbage) assert.equal(await reg.getNode(g.nodeId), null);
  });
}
