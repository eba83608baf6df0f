/**
 * One rich sample per top-level message (non-default values everywhere,
 * unicode, negative and large int64, maps, nested messages). Used by
 * `generate.ts` to write the golden files and by the round-trip tests.
 *
 * @module
 */

import {
  create,
  type DescMessage,
  type Message,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import {
  computeNodeId,
  dagChecksum,
  DiffResultSchema,
  EdgeSchema,
  ErrorDetailSchema,
  EventSchema,
  GetStrategyRequestSchema,
  GetStrategyResponseSchema,
  ListNodesRequestSchema,
  ListNodesResponseSchema,
  type NodeRecord,
  NodeRecordSchema,
  type NodeSpec,
  NodeSpecSchema,
  QueryNodesByTagsRequestSchema,
  QueryNodesByTagsResponseSchema,
  QueueJobSchema,
  RetireStrategyRequestSchema,
  RetireStrategyResponseSchema,
  SchemaVersionSchema,
  StrategyDagSchema,
  StrategyState,
  type StrategyStatus,
  StrategyStatusSchema,
  SubmitStrategyRequestSchema,
  AcquireLeasesRequestSchema,
  AcquireLeasesResponseSchema,
  BarRecordSchema,
  LeaseGrantSchema,
  LeaseRequestSchema,
  PublishBarsRequestSchema,
  PublishBarsResponseSchema,
  ReadBarsRequestSchema,
  ReadBarsResponseSchema,
  ReleaseLeasesRequestSchema,
  ReleaseLeasesResponseSchema,
  TopicBarsSchema,
  TopicCursorSchema,
  SubmitStrategyResponseSchema,
  TopicDescriptorSchema,
} from "../../lib/contracts/mod.ts";

// The identity fields of the two nodes: hashed into their IDs and set on them.
const streamIdentity = {
  nodeType: "StreamInput",
  intervalS: 60,
  period: 1,
  paramsJson: '{"field":"close","symbol":"BTC/USDT"}',
  inputs: [],
  codeHash: "",
};
const streamId = computeNodeId(streamIdentity);
const smaIdentity = {
  nodeType: "Processing",
  intervalS: 60,
  period: 20,
  paramsJson: '{"window":20}',
  inputs: [streamId],
  codeHash:
    "sha256:1c4f8ad3b02b1e8a5b1c0f0e3bba3b0a6f7a2d5b6cdb1d92b2e60a1a5d0f3c11",
};
const smaId = computeNodeId(smaIdentity);

/** A StreamInput node. Map keys are in sorted order (as on the wire). */
export const STREAM_NODE: NodeSpec = create(NodeSpecSchema, {
  nodeId: streamId,
  ...streamIdentity,
  schemaCompatId: "v1",
  name: "btc_close",
  tags: ["btc", "price", "ünïcødé 😀"],
  metadata: { "display-name": "BTC close 1m", owner: "alice" },
});

/** A Processing node consuming {@link STREAM_NODE}. */
export const SMA_NODE: NodeSpec = create(NodeSpecSchema, {
  nodeId: smaId,
  ...smaIdentity,
  schemaCompatId: "v1",
  name: "sma20",
  tags: [],
  metadata: {},
});

const record: NodeRecord = create(NodeRecordSchema, {
  node: SMA_NODE,
  topic: "btc_Processing_" + smaId.slice(7, 15) + "_v1",
  refCount: 3,
  createdAtMs: 1767225600000,
  updatedAtMs: 1767225660123,
});

/** A FAILED strategy status with an error. */
export const STATUS: StrategyStatus = create(StrategyStatusSchema, {
  strategyId: "st_01J0ABCDEF",
  owner: "alice",
  version: "2",
  state: StrategyState.FAILED,
  dagHash:
    "sha256:6872d75cc39f633ec8800f6cba8765e2a1dbe5a02c7b1d352251cb1d25cd59cd",
  queueMap: { [smaId]: record.topic, [streamId]: "btc_StreamInput_x_v1" },
  reused: [streamId],
  created: [smaId],
  sentinelId: "vs_1",
  error: {
    code: "E_UNAVAILABLE",
    message: "neo4j unreachable",
    field: "",
    nodeId: smaId,
    details: { retry_after_s: "5" },
  },
  attempts: 2,
  nodeCount: 2,
  createdAtMs: 1767225600000,
  updatedAtMs: -1,
  callbackUrl: "https://example.com/hook",
  name: "btc sma crossover",
});

function withoutError(s: StrategyStatus): StrategyStatus {
  const { error: _error, ...rest } = s;
  return rest;
}

/** One sample message per top-level message, by message name. */
export interface Sample {
  /** The message descriptor. */
  schema: DescMessage;
  /** The sample (non-default values everywhere). */
  message: Message;
}

function sample<D extends DescMessage>(
  schema: D,
  init: MessageInitShape<D>,
): Sample {
  return { schema, message: create(schema, init) };
}

/** The samples, keyed by message name. */
export const SAMPLES: Record<string, Sample> = {
  NodeSpec: { schema: NodeSpecSchema, message: STREAM_NODE },
  Edge: sample(EdgeSchema, { from: streamId, to: smaId }),
  NodeRecord: { schema: NodeRecordSchema, message: record },
  TopicDescriptor: sample(TopicDescriptorSchema, {
    name: record.topic,
    nodeId: smaId,
    retentionMs: 604800000,
    partitions: 4,
    createdAtMs: 1767225600000,
  }),
  StrategyDag: sample(StrategyDagSchema, {
    name: "btc sma crossover",
    nodes: [STREAM_NODE, SMA_NODE],
    checksum: dagChecksum([streamId, smaId]),
    metadata: { "": "empty key", team: "quant" },
  }),
  StrategyStatus: { schema: StrategyStatusSchema, message: STATUS },
  DiffResult: sample(DiffResultSchema, {
    strategyId: "st_01J0ABCDEF",
    version: "2",
    queueMap: { [smaId]: record.topic },
    reused: [],
    created: [smaId, streamId],
    sentinelId: "vs_1",
  }),
  QueueJob: sample(QueueJobSchema, {
    id: "job_1",
    kind: "diff",
    payload: new Uint8Array([0, 1, 2, 0xfe, 0xff]),
    idempotencyKey: "st_01J0ABCDEF:2",
    attempts: 1,
    maxAttempts: 5,
    createdAtMs: 9007199254740991,
    notBeforeMs: 1767225600500,
    lastError: "timeout",
  }),
  Event: sample(EventSchema, {
    id: "evt_1",
    source: "/qmtl/gateway",
    specVersion: "1.0",
    type: "qmtl.strategy.completed",
    subject: "st_01J0ABCDEF",
    time: "2026-01-01T00:00:00Z",
    dataContentType: "application/json",
    data: new TextEncoder().encode('{"state":"COMPLETED"}'),
  }),
  ErrorDetail: sample(ErrorDetailSchema, {
    code: "E_NODE_ID_MISMATCH",
    message: "nodes[1]: node_id does not match",
    field: "nodes[1].node_id",
    nodeId: smaId,
    details: { actual: streamId, expected: smaId },
  }),
  SchemaVersion: sample(SchemaVersionSchema, {
    version: "1.0.0",
    hash:
      "sha256:5eb5fdad65dd60437830a6b54f7616b70283ffa35189474a310e23c1250bf14b",
    accepted: ["1.0.0", "^1.0.0"],
  }),
  SubmitStrategyRequest: sample(SubmitStrategyRequestSchema, {
    dag: {
      name: "btc sma crossover",
      nodes: [STREAM_NODE, SMA_NODE],
      checksum: dagChecksum([streamId, smaId]),
      metadata: {},
    },
    version: "2",
    callbackUrl: "https://example.com/hook",
    metadata: { ci: "true" },
  }),
  SubmitStrategyResponse: sample(SubmitStrategyResponseSchema, {
    strategyId: "st_01J0ABCDEF",
    state: StrategyState.QUEUED,
    dagHash:
      "sha256:6872d75cc39f633ec8800f6cba8765e2a1dbe5a02c7b1d352251cb1d25cd59cd",
    duplicate: true,
  }),
  GetStrategyRequest: sample(GetStrategyRequestSchema, { strategyId: "st_01J0ABCDEF" }),
  RetireStrategyRequest: sample(RetireStrategyRequestSchema, { strategyId: "st_01J0ABCDEF" }),
  ListNodesRequest: sample(ListNodesRequestSchema, {
    pageSize: 100,
    pageToken: "tok_2",
    nodeType: "Processing",
    intervalS: 60,
  }),
  ListNodesResponse: sample(ListNodesResponseSchema, { nodes: [record, record], nextPageToken: "tok_3" }),
  QueryNodesByTagsRequest: sample(QueryNodesByTagsRequestSchema, {
    tags: ["btc", "price"],
    matchMode: "all",
    intervalS: 3600,
  }),
  GetStrategyResponse: sample(GetStrategyResponseSchema, { status: STATUS }),
  RetireStrategyResponse: sample(RetireStrategyResponseSchema, {
    status: { ...withoutError(STATUS), state: StrategyState.RETIRED },
  }),
  QueryNodesByTagsResponse: sample(QueryNodesByTagsResponseSchema, {
    nodes: [record],
  }),
  BarRecord: sample(BarRecordSchema, {
    barTs: 1767225600,
    value: { case: "number", value: 42.125 },
  }),
  PublishBarsRequest: sample(PublishBarsRequestSchema, {
    topic: "BTC_Processing_1a2b3c4d_v1",
    bars: [
      { barTs: 1767225600, value: { case: "number", value: -0.5 } },
      { barTs: 1767225660, value: { case: "flag", value: true } },
      { barTs: 1767225720, value: { case: "text", value: "∑ long" } },
      { barTs: 1767225780, value: { case: "json", value: '{"a":[1,null]}' } },
    ],
    leaseToken: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
  }),
  PublishBarsResponse: sample(PublishBarsResponseSchema, {
    accepted: 3,
    dropped: 1,
    lastBarTs: 1767225780,
  }),
  TopicCursor: sample(TopicCursorSchema, {
    topic: "BTC_StreamInput_5e6f7a8b_v1",
    afterBarTs: 1767225600.5,
  }),
  ReadBarsRequest: sample(ReadBarsRequestSchema, {
    cursors: [{ topic: "BTC_StreamInput_5e6f7a8b_v1", afterBarTs: 0 }, {
      topic: "BTC_Processing_1a2b3c4d_v1",
    }],
    limit: 500,
    waitMs: 25000,
    tail: 20,
  }),
  TopicBars: sample(TopicBarsSchema, {
    topic: "BTC_Processing_1a2b3c4d_v1",
    bars: [{ barTs: 60, value: { case: "number", value: 1 } }],
  }),
  ReadBarsResponse: sample(ReadBarsResponseSchema, {
    topics: [{
      topic: "BTC_Processing_1a2b3c4d_v1",
      bars: [{ barTs: 60, value: { case: "json", value: "null" } }],
    }],
  }),
  LeaseRequest: sample(LeaseRequestSchema, {
    topic: "BTC_Processing_1a2b3c4d_v1",
    token: "tok",
  }),
  AcquireLeasesRequest: sample(AcquireLeasesRequestSchema, {
    holder: "host-1:4242:ab12cd34",
    ttlMs: 10000,
    leases: [{ topic: "BTC_Processing_1a2b3c4d_v1" }, {
      topic: "BTC_Signal_9c8d7e6f_v1",
      token: "tok",
    }],
  }),
  LeaseGrant: sample(LeaseGrantSchema, {
    topic: "BTC_Processing_1a2b3c4d_v1",
    granted: true,
    holder: "host-2:77:ffee0011",
    token: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    ttlMs: 10000,
    takeover: true,
    previousHolder: "host-1:4242:ab12cd34",
    lastBarTs: 1767225720,
  }),
  AcquireLeasesResponse: sample(AcquireLeasesResponseSchema, {
    grants: [{
      topic: "BTC_Signal_9c8d7e6f_v1",
      granted: false,
      holder: "host-1:4242:ab12cd34",
      ttlMs: 7300,
    }],
  }),
  ReleaseLeasesRequest: sample(ReleaseLeasesRequestSchema, {
    leases: [{ topic: "BTC_Processing_1a2b3c4d_v1", token: "tok" }],
  }),
  ReleaseLeasesResponse: sample(ReleaseLeasesResponseSchema, { released: 1 }),
};
