/**
 * Redis-compatible stream entry ids (`<ms>-<seq>`) for the in-memory
 * backends (internal).
 *
 * @module
 */

import { QueueError } from "./errors.ts";

/** A parsed stream id. */
export interface StreamId {
  /** Milliseconds part. */
  ms: number;
  /** Sequence part. */
  seq: number;
}

/** Parses `"<ms>-<seq>"` or `"<ms>"` (seq 0); throws E_INVALID otherwise. */
export function parseStreamId(id: string): StreamId {
  const m = /^(\d+)(?:-(\d+))?$/.exec(id);
  if (!m) throw new QueueError("E_INVALID", `invalid stream id "${id}"`);
  return { ms: Number(m[1]), seq: m[2] === undefined ? 0 : Number(m[2]) };
}

/** Compares two parsed ids. */
export function compareStreamId(a: StreamId, b: StreamId): number {
  return a.ms - b.ms || a.seq - b.seq;
}

/** Formats a parsed id. */
export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** The next id after `last` at time `now`. */
export function nextStreamId(last: StreamId, now: number): StreamId {
  return now > last.ms
    ? { ms: now, seq: 0 }
    : { ms: last.ms, seq: last.seq + 1 };
}
