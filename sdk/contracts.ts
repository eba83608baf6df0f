/**
 * The parts of `lib/contracts` the SDK uses, imported in one place. Node
 * identity is never re-implemented in the SDK: every ID, code hash, params
 * canonicalisation and checksum comes from here.
 *
 * @module
 */

export {
  canonicalParamsJson,
  codeHash,
  computeNodeId,
  dagChecksum,
  DEFAULT_SCHEMA_COMPAT_ID,
  isNodeId,
  type JsonValue,
  type MatchMode,
  TAG_QUERY_NODE_TYPE,
  tagQueryParams,
  verifyDag,
} from "../lib/contracts/node_id.ts";
export {
  type ConnectCode,
  ContractError,
  ErrorCode,
  isErrorCode,
  QmtlError,
  type QmtlErrorOptions,
} from "../lib/contracts/errors.ts";
export {
  type ErrorDetail,
  type NodeRecord,
  type NodeSpec,
  type StrategyDag,
  StrategyState,
  type StrategyStatus,
  type SubmitStrategyResponse,
} from "../lib/contracts/types.ts";
