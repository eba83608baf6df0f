/**
 * The contract API on connect-es: the `GatewayService` implementation, its
 * context values, error mapping and rendering, and gzip (see `router.ts` for
 * how the gateway serves it).
 *
 * @module
 */

export * from "./errors.ts";
export * from "./gateway_service.ts";
export { gzip } from "./gzip.ts";
