/**
 * QMTL for Deno: strategies as DAGs of content-addressed compute nodes, one
 * global DAG in Neo4j so a node shared by many strategies is computed once, a
 * durable Redis queue that survives Sentinel failover, and one authenticated
 * gateway in front of it all.
 *
 * Each building block is also its own entry point — prefer those when you
 * need one part only:
 *
 * | entry point | what |
 * | --- | --- |
 * | `@qmtl/qmtl/contracts` | protobuf messages, node identity, schema version, error codes |
 * | `@qmtl/qmtl/dag` | the global node registry (Neo4j and in memory) |
 * | `@qmtl/qmtl/queue` | work queue, event log and topics (Redis and in memory) |
 * | `@qmtl/qmtl/gateway` | the Hono gateway app and its worker |
 * | `@qmtl/qmtl/sdk` | strategy builder and client |
 *
 * This root module re-exports them as namespaces, so names never clash.
 *
 * @example
 * ```ts
 * import { contracts, sdk } from "@qmtl/qmtl";
 *
 * const s = new sdk.StrategyBuilder("demo");
 * s.streamInput({ name: "btc", tags: ["BTC"], intervalS: 60, period: 1 });
 * const dag = s.build();
 * console.log(dag.nodes[0].nodeId.startsWith("sha256:"), contracts.SCHEMA_VERSION);
 * ```
 *
 * @module
 */
export * as contracts from "./lib/contracts/mod.ts";
export * as dag from "./lib/dag/mod.ts";
export * as queue from "./lib/queue/mod.ts";
export * as gateway from "./lib/gateway/mod.ts";
export * as sdk from "./sdk/mod.ts";
