/**
 * The QMTL SDK: build a strategy DAG, submit it to a Gateway, follow it.
 *
 * A strategy is a DAG of compute nodes. {@link StrategyBuilder} declares the
 * nodes (stream inputs selected by tags, processing nodes with a compute
 * function and params, tag queries), validates the DAG and computes each
 * node's content-derived ID with the one implementation in
 * `@qmtl/qmtl/contracts`. Invalid DAGs are refused before anything is sent,
 * with a {@link ValidationError} naming the node and field.
 *
 * @example
 * ```ts
 * import { type NodeView, StrategyBuilder } from "@qmtl/qmtl/sdk";
 *
 * const s = new StrategyBuilder("sma_crossover");
 * const price = s.streamInput({ name: "btc_close", tags: ["btc", "close"], intervalS: 60, period: 1 });
 * const sma = (v: NodeView<number>) => v.values.reduce((a, b) => a + b, 0) / v.length;
 * const fast = s.processing({ name: "sma_fast", inputs: [price], intervalS: 60, period: 5, params: { window: 5 }, compute: sma });
 * const slow = s.processing({ name: "sma_slow", inputs: [price], intervalS: 60, period: 20, params: { window: 20 }, compute: sma });
 * s.processing({ name: "cross", nodeType: "Signal", inputs: [fast, slow], intervalS: 60, period: 2, compute: (v) => Math.sign(v.inputs[0].last - v.inputs[1].last) });
 * const dag = s.build();
 * console.log(dag.nodes.map((n) => `${n.name} ${n.nodeId.slice(0, 15)}`));
 * ```
 *
 * @module
 */

export {
  type ConnectCode,
  ErrorCode,
  type ErrorDetail,
  type JsonValue,
  type MatchMode,
  type NodeSpec,
  QmtlError,
  type QmtlErrorOptions,
  type StrategyDag,
} from "./contracts.ts";
export {
  type CommonNodeOptions,
  type CompiledNode,
  type ComputeFn,
  type NodeInput,
  NodeRef,
  type Params,
  type ProcessingOptions,
  type Strategy,
  StrategyBuilder,
  type StrategyOptions,
  type StreamInputOptions,
  type TagQueryOptions,
} from "./builder.ts";
export * from "./runner/mod.ts";
export { capturedNames, freeVariables } from "./compute_check.ts";
export {
  clientErrorOf,
  type ClientErrorOptions,
  errorFromCode,
  errorFromResponse,
  QmtlClientError,
  UnexpectedStateError,
  ValidationError,
  WaitTimeoutError,
} from "./errors.ts";
export {
  type CallOptions,
  type ListNodesOptions,
  type ListTopicsOptions,
  type NodesByTagsOptions,
  type PublishBarsOptions,
  type PublishBarsResult,
  QmtlClient,
  type QmtlClientOptions,
  type ReadBarsOptions,
  type SubmitOptions,
  type TopicInfo,
  type WaitForOptions,
} from "./client.ts";
export {
  type EventsOptions,
  type LifecycleData,
  type StrategyEvent,
  toStrategyEvent,
} from "./events.ts";
export { backoffMs, DEFAULT_RETRY, type RetryOptions } from "./retry.ts";
export { CLIENT_SCHEMA, type ClientConfig, gatewayClient } from "./rpc.ts";
export {
  type StateLike,
  type StateName,
  stateName,
  toState,
} from "./states.ts";
export {
  type ListNodesResponse,
  type NodeRecord,
  type StrategyStatus,
  type SubmitStrategyResponse,
} from "./views.ts";
