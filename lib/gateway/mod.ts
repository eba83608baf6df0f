/**
 * The QMTL Gateway: the single entry point of the system, as a Hono app.
 *
 * `createGateway({registry, queue, events, auth, …})` returns `{app, worker,
 * service, metrics, topics, gc, recordSentinelEvent, close}` (`gc` only with
 * the `gc` option): the app serves the Connect API (`POST
 * /qmtl.v1.GatewayService/<Method>`, protobuf or JSON), the read-only REST API
 * under `/v1/` (with SSE at `/v1/events`), and `/healthz`, `/readyz`,
 * `/metrics`, `/openapi.json`. Each request passes, in order: request id →
 * JSON log → error mapper → body limit → JWT auth → ACL → policy →
 * schema-version check → handler. The worker leases diff jobs, runs
 * `diffAndCommit` and moves each strategy through its lifecycle
 * (`QUEUED → PROCESSING → COMPLETED | FAILED`, `COMPLETED → RETIRED`),
 * appending a CloudEvent per transition and delivering webhooks.
 *
 * The steps (one folder each under `lib/gateway/`) are compiled into one
 * handler per route by `createGateway` (`pipeline.ts`); what a user
 * configures of them (`createAuthenticator`, `createPolicy`, `createLogger`,
 * the route table `ROUTES`, …) is exported here.
 *
 * @example
 * ```ts
 * import { createGateway, serveGateway } from "@qmtl/qmtl/gateway";
 * import { MemoryRegistry } from "@qmtl/qmtl/dag";
 * import { MemoryEventLog, MemoryQueue } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 *
 * const gateway = createGateway({
 *   registry: new MemoryRegistry(),
 *   queue: new MemoryQueue(),
 *   events: new MemoryEventLog(),
 *   auth: { secret: "a-secret-of-at-least-32-bytes!!!!", issuer: "qmtl", audience: "qmtl-gateway" },
 *   logSuccess: false,
 * });
 * // serveGateway: Deno.serve's HTTP engine plus read timeouts, a connection
 * // cap and no exit on EMFILE (Deno.serve(gateway.app.fetch) works too).
 * const server = serveGateway(gateway.app.fetch, { hostname: "127.0.0.1", port: 0 });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/healthz`);
 * assert.deepEqual(await res.json(), { status: "ok" });
 * await server.shutdown();
 * await gateway.close();
 * ```
 *
 * @module
 */

export type {
  ApiKind,
  GatewayApp,
  GatewayEnv,
  GatewayVariables,
  Principal,
  Role,
} from "./types.ts";
export { ROLES } from "./types.ts";
export * from "./gateway.ts";
export * from "./topics/mod.ts";
export * from "./gc/mod.ts";
export { forbidden, isAllowed, seesAllStrategies } from "./acl/mod.ts";
export * from "./acl/routes.ts";
export {
  type Alert,
  ALERT_CONDITIONS,
  ALERT_DELIVERIES_TOTAL,
  type AlertCondition,
  alertCondition,
  AlertDeliveryError,
  type AlertDetails,
  Alerter,
  type AlerterOptions,
  type AlertInput,
  type AlertPayload,
  alertPayload,
  type AlertRaiser,
  ALERTS_SUPPRESSED_TOTAL,
  ALERTS_TOTAL,
  type AlertSeverity,
  type AlertSink,
  type AlertStatus,
  alertText,
  alertTitle,
  DEAD_LETTERS_TOTAL,
  type DeadLetterAlertOptions,
  deadLetterAlerts,
  DELIVERY_OUTCOMES,
  type DeliveryOutcome,
  type DependencyAlertOptions,
  dependencyAlerts,
  type DependencyCheckSource,
  type DurabilityAlertOptions,
  durabilityAlerts,
  emailSink,
  type EmailSinkOptions,
  type FailedStrategyAlertOptions,
  failedStrategyAlerts,
  type LeaseTakeover,
  LeaseTakeoverRecorder,
  type MissingSchemaObject,
  type RaiseOutcome,
  RUNNER_LEASE_TAKEOVERS_TOTAL,
  schemaAlerts,
  sentinelAlert,
  sentinelAlerts,
  type SentinelEventSource,
  slackMessage,
  slackSink,
  type SlackSinkOptions,
  type SmtpTlsMode,
  webhookSink,
  type WebhookSinkOptions,
} from "./alerts/mod.ts";
export {
  type Authenticator,
  type AuthOptions,
  createAuthenticator,
  type DevTokenOptions,
  signDevToken,
  unauthenticated,
} from "./auth/mod.ts";
export { DEFAULT_MAX_BODY_BYTES } from "./body_limit/mod.ts";
export {
  createEventEmitter,
  type EventEmitter,
  type EventEmitterOptions,
  type EventListener,
  GLOBAL_STREAM,
  type LifecycleEventData,
  strategyStream,
} from "./events/emitter.ts";
export {
  type DependencyListener,
  type DependencyReadiness,
  type DependencyState,
  DependencyWatch,
  type DependencyWatchOptions,
  type Probe,
  type ProbeResult,
  type ReadyzBody,
  redisProbe,
  type RedisProbeOptions,
  registryProbe,
  runReadiness,
} from "./health/mod.ts";
export * from "./lifecycle/mod.ts";
export {
  type BufferedSink,
  bufferedSink,
  type BufferedSinkOptions,
  createLogger,
  droppedLogLines,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogRecord,
  redact,
  type SinkTarget,
} from "./logger/mod.ts";
export {
  type GaugeCollector,
  type Labels,
  LATENCY_BUCKETS,
  Metrics,
} from "./metrics/mod.ts";
export * from "./openapi/mod.ts";
export {
  createPolicy,
  dagDepth,
  DEFAULT_POLICY_LIMITS,
  type Policy,
  type PolicyLimits,
  type PolicyOptions,
} from "./policy/mod.ts";
export { REQUEST_ID_HEADER } from "./request_id/mod.ts";
export type { SseOptions } from "./events/sse.ts";
export * from "./service.ts";
export * from "./serve/mod.ts";
export * from "./store/types.ts";
export * from "./store/memory.ts";
export * from "./store/redis.ts";
export {
  DEFAULT_NAMESPACE,
  type NamespaceMarker,
  NamespaceMismatchError,
} from "./store/namespace.ts";
export {
  type AllowEntry,
  CallbackRefusedError,
  checkCallbackUrl,
  type IpAddress,
  type Resolver,
  SIGNATURE_HEADER,
  signBody,
  systemResolver,
  verifySignature,
  WEBHOOK_JOB,
  WebhookDispatcher,
  type WebhookOptions,
} from "./webhooks/mod.ts";

// Types of other modules that appear in this module's public API.
export type * from "../contracts/messages.ts";
export type {
  ConnectCode,
  ErrorCode,
  ErrorMapping,
  QmtlError,
  QmtlErrorOptions,
} from "../contracts/mod.ts";
export type * from "../queue/types.ts";
export type { RedisClient } from "../queue/connection.ts";
export type * from "../dag/registry.ts";
