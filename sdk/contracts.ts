/**
 * The parts of `lib/contracts` the SDK uses, imported in one place. Node
 * identity is never re-implemented in the SDK: every ID, code hash, params
 * canonicalisation and checksum comes from here, as do the generated
 * messages and service, the schema-version constants and the error codes.
 *
 * @module
 */

export {
  canonicalJson,
  canonicalParamsJson,
  checkSubmitFields,
  checkTags,
  codeHash,
  computeNodeId,
  type ConnectCode,
  ContractError,
  dagChecksum,
  DEFAULT_SCHEMA_COMPAT_ID,
  ErrorCode,
  type ErrorDetail,
  ErrorDetailSchema,
  FIELD_LIMITS,
  GatewayService,
  isErrorCode,
  isNodeId,
  type JsonValue,
  type MatchMode,
  type NodeRecord,
  type NodeSpec,
  QmtlError,
  type QmtlErrorOptions,
  SCHEMA_HASH,
  SCHEMA_HASH_HEADER,
  SCHEMA_VERSION,
  SCHEMA_VERSION_HEADER,
  type StrategyDag,
  StrategyState,
  type StrategyStatus,
  type SubmitStrategyResponse,
  TAG_QUERY_NODE_TYPE,
  tagQueryParams,
  verifyDag,
} from "../lib/contracts/mod.ts";
