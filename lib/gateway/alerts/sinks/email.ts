/**
 * E-mail sink: sends each alert through a configured SMTP relay with
 * nodemailer (npm), never hand-written SMTP. nodemailer is loaded on the
 * first send, so importing the gateway does not load it.
 *
 * @module
 */

import type { Transporter } from "nodemailer";
import type { AlertSink } from "../types.ts";
import { AlertDeliveryError, alertText, alertTitle } from "./format.ts";

/**
 * Transport security of {@link emailSink}: `tls` (implicit TLS, usually
 * port 465), `starttls` (plain connection upgraded with STARTTLS, which is
 * required; usually 587) or `none` (no TLS; only for a relay on a trusted
 * local network).
 *
 * @example
 * ```ts
 * import type { SmtpTlsMode } from "@qmtl/qmtl/gateway";
 * const m: SmtpTlsMode = "starttls";
 * ```
 */
export type SmtpTlsMode = "tls" | "starttls" | "none";

/**
 * Options of {@link emailSink}.
 *
 * @example
 * ```ts
 * import type { EmailSinkOptions } from "@qmtl/qmtl/gateway";
 * const o: EmailSinkOptions = {
 *   host: "smtp.example.com", port: 587, tls: "starttls",
 *   user: "qmtl", password: "…", from: "qmtl@example.com", to: ["oncall@example.com"],
 * };
 * ```
 */
export interface EmailSinkOptions {
  /** SMTP relay host. */
  host: string;
  /** SMTP port; default 587 (465 with `tls`). */
  port?: number;
  /** Transport security; default `starttls`. */
  tls?: SmtpTlsMode;
  /** SMTP user (unset: no authentication). */
  user?: string;
  /** SMTP password (never logged). */
  password?: string;
  /** Sender address. */
  from: string;
  /** Recipients (at least one). */
  to: string[];
  /** Connection, greeting and socket timeouts, ms; default 10000. */
  timeoutMs?: number;
  /** Sink name in logs and metrics; default `email`. */
  name?: string;
  /** Extra TLS options (e.g. `{ rejectUnauthorized: false }` for a test relay). */
  tlsOptions?: Record<string, unknown>;
}

const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

/**
 * A sink that e-mails each alert: subject = the alert's title
 * (`[CRITICAL] redis_failover: …`), plain-text body with its details and
 * runbook link.
 *
 * @throws {TypeError} on a missing host, a bad address or port
 * @example
 * ```ts
 * import { emailSink } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * const sink = emailSink({ host: "smtp.example.com", from: "qmtl@example.com", to: ["oncall@example.com"] });
 * assert.equal(sink.name, "email");
 * await sink.close?.();
 * ```
 */
export function emailSink(options: EmailSinkOptions): AlertSink {
  const name = options.name ?? "email";
  if (!options.host) throw new TypeError(`${name}: host is required`);
  for (const a of [options.from, ...options.to]) {
    if (!ADDRESS.test(a)) {
      throw new TypeError(`${name}: "${a}" is not an e-mail address`);
    }
  }
  if (options.to.length === 0) {
    throw new TypeError(`${name}: at least one recipient is required`);
  }
  const tls = options.tls ?? "starttls";
  const port = options.port ?? (tls === "tls" ? 465 : 587);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`${name}: port must be 1-65535`);
  }
  if (options.password !== undefined && options.user === undefined) {
    throw new TypeError(`${name}: a password needs a user`);
  }
  const timeout = options.timeoutMs ?? 10_000;
  let transport: Promise<Transporter> | undefined;
  const open = () =>
    transport ??= import("nodemailer").then((m) =>
      m.default.createTransport({
        host: options.host,
        port,
        secure: tls === "tls",
        requireTLS: tls === "starttls",
        ignoreTLS: tls === "none",
        auth: options.user === undefined
          ? undefined
          : { user: options.user, pass: options.password ?? "" },
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        tls: options.tlsOptions,
      }) as Transporter
    );
  return {
    name,
    async send(alert, signal) {
      const t = await open();
      if (signal.aborted) throw new AlertDeliveryError(name, "aborted");
      try {
        await t.sendMail({
          from: options.from,
          to: options.to,
          subject: `[qmtl] ${alertTitle(alert)}`,
          text: alertText(alert),
          headers: {
            "X-QMTL-Condition": alert.condition,
            "X-QMTL-Dedup-Key": alert.dedupKey,
          },
        });
      } catch (e) {
        // nodemailer messages name the server's reply, never the password.
        throw new AlertDeliveryError(name, (e as Error).message ?? String(e));
      }
    },
    async close() {
      if (transport === undefined) return;
      const t = await transport.catch(() => undefined);
      t?.close();
    },
  };
}
