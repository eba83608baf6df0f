/**
 * The parts of `lib/contracts` the SDK uses, imported in one place. Node
 * identity is never re-implemented in the SDK: every ID, code hash, params
 * canonicalisation and checksum comes from here, as do the protobuf codec,
 * the schema-version constants and the error codes.
 *
 * @module
 */

export {
  canonicalParamsJson,
  codeHash,
  computeNodeId,
  type ConnectCode,
  ContractError,
  dagChecksum,
  decode,
  DEFAULT_SCHEMA_COMPAT_ID,
  ErrorCode,
  type ErrorDetail,
  ErrorDetailSchema,
  GetStrategyRequestSchema,
  GetStrategyResponseSchema,
  isErrorCode,
  isNodeId,
  type JsonValue,
  ListNodesRequestSchema,
  type ListNodesResponse,
  ListNodesResponseSchema,
  type MatchMode,
  type NodeRecord,
  type NodeSpec,
  QmtlError,
  type QmtlErrorOptions,
  QueryNodesByTagsRequestSchema,
  QueryNodesByTagsResponseSchema,
  RetireStrategyRequestSchema,
  RetireStrategyResponseSchema,
  SCHEMA_HASH,
  SCHEMA_HASH_HEADER,
  SCHEMA_VERSION,
  SCHEMA_VERSION_HEADER,
  type StrategyDag,
  StrategyState,
  type StrategyStatus,
  StrategyStatusSchema,
  SubmitStrategyRequestSchema,
  type SubmitStrategyResponse,
  SubmitStrategyResponseSchema,
  TAG_QUERY_NODE_TYPE,
  tagQueryParams,
  verifyDag,
} from "../lib/contracts/mod.ts";
