import assert from "node:assert/strict";
import { EventSourceParserStream } from "eventsource-parser/stream";
import {
  QmtlClient,
  QmtlClientError,
  type StrategyEvent,
  toStrategyEvent,
} from "../../sdk/mod.ts";
import {
  connectError,
  onFake,
  sseFrame,
  startFake,
  status,
  statusResponse,
  StrategyState,
} from "./fake_gateway.ts";

const enc = new TextEncoder();

/** An SSE response that sends `frames`, then ends (close) or drops (error). */
function sseResponse(
  frames: string[],
  end: "close" | "drop" | "hold",
  gapMs = 5,
): Response {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let i = 0;
      const step = () => {
        if (i < frames.length) {
          controller.enqueue(enc.encode(frames[i++]));
          timer = setTimeout(step, gapMs);
        } else if (end === "close") controller.close();
        else if (end === "drop") {
          controller.error(new Error("connection dropped"));
        } else {
          controller.enqueue(enc.encode(": keep-alive\n\n"));
        }
      };
      step();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
    },
  });
}

async function collect(
  it: AsyncIterable<StrategyEvent>,
  until: (e: StrategyEvent) => boolean,
  max = 50,
): Promise<StrategyEvent[]> {
  const out: StrategyEvent[] = [];
  for await (const e of it) {
    out.push(e);
    if (until(e) || out.length >= max) break;
  }
  return out;
}

Deno.test("sse: the parser (eventsource-parser) handles CRLF, split chunks, comments, multi-line data, BOM and retry", async () => {
  const text =
    "\uFEFF: hello\r\nid: 1\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\n" +
    "data: z\n\nid: 2\nretry: 300\n\n";
  const bytes = enc.encode(text);
  // deliver one byte at a time to exercise every split point
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const b of bytes) c.enqueue(new Uint8Array([b]));
      c.close();
    },
  });
  const retries: number[] = [];
  const comments: string[] = [];
  const msgs = [];
  for await (
    const m of body.pipeThrough(new TextDecoderStream()).pipeThrough(
      new EventSourceParserStream({
        onRetry: (ms) => retries.push(ms),
        onComment: (c) => comments.push(c),
      }),
    )
  ) msgs.push({ ...m });
  assert.deepEqual(msgs, [
    { event: "a", data: "x\ny", id: "1" },
    { event: undefined, data: "z", id: undefined },
  ]);
  assert.deepEqual(retries, [300]);
  assert.deepEqual(comments, ["hello"]);
});

Deno.test("sse: an oversized line from a hostile server ends the stream", async () => {
  await onFake(async (f) => {
    let n = 0;
    f.on("GET /v1/events", () => {
      n++;
      // 2 MiB without a line break: over the client's 1 MiB SSE buffer.
      return sseResponse(["data: " + "x".repeat(2 * 1024 * 1024)], "hold");
    });
    const c = new QmtlClient({
      url: f.url,
      token: "t",
      retry: { maxAttempts: 1, baseMs: 1, maxMs: 5 },
    });
    const e = await collect(c.events("st_1"), () => false).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(
      e instanceof QmtlClientError && e.code === "E_UNAVAILABLE",
      String(e),
    );
    assert.equal(n, 2); // the first connection + 1 reconnect, both cut off
  });
});

Deno.test("sse: toStrategyEvent reads structured CloudEvents", () => {
  const e = toStrategyEvent({
    id: "e1",
    source: "/qmtl/gateway",
    specversion: "1.0",
    type: "qmtl.strategy.completed",
    subject: "st_1",
    time: "t",
    datacontenttype: "application/json",
    data: { state: "COMPLETED", queueMap: { a: "b" } },
  }, "c1");
  assert.equal(e.state, "COMPLETED");
  assert.equal(e.cursor, "c1");
  assert.deepEqual(e.data.queueMap, { a: "b" });
  const b = toStrategyEvent({
    id: "e2",
    type: "qmtl.strategy.retrying",
    data_base64: btoa(JSON.stringify({ state: "QUEUED" })),
  }, "c2");
  assert.equal(b.state, "QUEUED");
  assert.equal(
    toStrategyEvent({ id: "e3", type: "qmtl.strategy.requeued" }, "c3").state,
    undefined,
  );
});

Deno.test("events: resume after a dropped connection with Last-Event-ID, no duplicates", async () => {
  await onFake(async (f) => {
    let conn = 0;
    f.on("GET /v1/events", (req) => {
      conn++;
      const last = req.headers.get("last-event-id");
      if (conn === 1) {
        assert.equal(last, null);
        return sseResponse([
          sseFrame("1", "st_1", "QUEUED"),
          sseFrame("2", "st_1", "PROCESSING"),
        ], "drop");
      }
      if (conn === 2) {
        assert.equal(last, "2");
        // at-least-once: the server replays event 2
        return sseResponse([sseFrame("2", "st_1", "PROCESSING")], "close");
      }
      assert.equal(last, "2");
      return sseResponse([sseFrame("3", "st_1", "COMPLETED")], "hold");
    });
    const c = new QmtlClient({
      url: f.url,
      token: "t",
      retry: { maxAttempts: 5, baseMs: 5, maxMs: 20 },
    });
    const got = await collect(
      c.events("st_1", { signal: AbortSignal.timeout(5000) }),
      (e) => e.state === "COMPLETED",
    );
    assert.deepEqual(got.map((e) => [e.id, e.state, e.cursor]), [
      ["ev-1", "QUEUED", "1"],
      ["ev-2", "PROCESSING", "2"],
      ["ev-3", "COMPLETED", "3"],
    ]);
    assert.equal(conn, 3);
    const evReq = f.requests.find((r) => r.path === "/v1/events")!;
    assert.equal(evReq.search, "?strategy=st_1");
    assert.equal(evReq.headers.get("accept"), "text/event-stream");
    assert.equal(evReq.headers.get("authorization"), "Bearer t");
  });
});

Deno.test("events: lastEventId option is sent on the first connection", async () => {
  await onFake(async (f) => {
    f.on("GET /v1/events", (req) => {
      assert.equal(req.headers.get("last-event-id"), "41");
      return sseResponse([sseFrame("42", "st_1", "COMPLETED")], "hold");
    });
    const c = new QmtlClient({ url: f.url, token: "t" });
    const got = await collect(
      c.events("st_1", {
        lastEventId: "41",
        signal: AbortSignal.timeout(5000),
      }),
      () => true,
    );
    assert.equal(got[0].cursor, "42");
  });
});

Deno.test("events: auth errors end the iteration, aborting ends it quietly", async () => {
  await onFake(async (f) => {
    f.on("GET /v1/events", () =>
      new Response(
        JSON.stringify({
          code: "E_UNAUTHENTICATED",
          title: "E_UNAUTHENTICATED",
          detail: "bad token",
        }),
        {
          status: 401,
          headers: { "content-type": "application/problem+json" },
        },
      ));
    const c = new QmtlClient({ url: f.url, token: "t" });
    await assert.rejects(
      () => collect(c.events("st_1"), () => false),
      (e) => e instanceof QmtlClientError && e.code === "E_UNAUTHENTICATED",
    );

    f.on(
      "GET /v1/events",
      () => sseResponse([sseFrame("1", "st_1", "QUEUED")], "hold"),
    );
    const ac = new AbortController();
    const seen: string[] = [];
    setTimeout(() => ac.abort(), 100);
    for await (const e of c.events("st_1", { signal: ac.signal })) {
      seen.push(e.id);
    }
    assert.deepEqual(seen, ["ev-1"]);
  });
});

Deno.test("events: gives up after maxReconnects empty connections", async () => {
  await onFake(async (f) => {
    let n = 0;
    f.on("GET /v1/events", () => {
      n++;
      return sseResponse([], "close");
    });
    const c = new QmtlClient({
      url: f.url,
      token: "t",
      retry: { maxAttempts: 3, baseMs: 1, maxMs: 5 },
    });
    await assert.rejects(
      () => collect(c.events("st_1"), () => false),
      (e) => e instanceof QmtlClientError && e.code === "E_UNAVAILABLE",
    );
    assert.equal(n, 4); // the first connection + 3 reconnects
  });
});

Deno.test("waitFor: an SSE event ends the wait before the next poll", async () => {
  await onFake(async (f) => {
    let state = StrategyState.PROCESSING;
    f.on(
      "GetStrategy",
      () => statusResponse(status("st_1", state)),
    );
    f.on("GET /v1/events", () => {
      setTimeout(() => (state = StrategyState.COMPLETED), 100);
      return sseResponse(
        [
          sseFrame("1", "st_1", "PROCESSING"),
          sseFrame("2", "st_1", "COMPLETED"),
        ],
        "hold",
        150,
      );
    });
    const c = new QmtlClient({ url: f.url, token: "t" });
    const t0 = performance.now();
    const st = await c.waitFor("st_1", "COMPLETED", {
      timeoutMs: 4000,
      pollMs: 3000,
    });
    assert.equal(st.state, "COMPLETED");
    assert.ok(
      performance.now() - t0 < 2000,
      "SSE, not the 3 s poll, ended the wait",
    );
  });
});

Deno.test("waitFor: falls back to polling when the server has no SSE", async () => {
  await onFake(async (f) => {
    let polls = 0;
    f.on("GetStrategy", () =>
      statusResponse(status(
        "st_1",
        ++polls < 3 ? StrategyState.QUEUED : StrategyState.COMPLETED,
      )));
    // no /v1/events route: 404
    const c = new QmtlClient({ url: f.url, token: "t" });
    const st = await c.waitFor("st_1", "COMPLETED", {
      timeoutMs: 4000,
      pollMs: 20,
    });
    assert.equal(st.state, "COMPLETED");
    assert.equal(polls, 3);
  });
});

Deno.test("waitFor: survives the server going away and coming back on the same port", async () => {
  const first = startFake();
  const port = Number(new URL(first.url).port);
  first.on(
    "GetStrategy",
    () => statusResponse(status("st_1", StrategyState.PROCESSING)),
  );
  const c = new QmtlClient({
    url: first.url,
    token: "t",
    retry: { maxAttempts: 2, baseMs: 10, maxMs: 50 },
  });
  const waiting = c.waitFor("st_1", "COMPLETED", {
    timeoutMs: 8000,
    pollMs: 50,
  });
  await new Promise((r) => setTimeout(r, 150));
  await first.close(); // "restart": down for a while
  await new Promise((r) => setTimeout(r, 400));
  const ac = new AbortController();
  const second = Deno.serve(
    { hostname: "127.0.0.1", port, signal: ac.signal, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname.endsWith("/GetStrategy")
        ? statusResponse(status("st_1", StrategyState.COMPLETED))
        : connectError(503, "unavailable", "E_UNAVAILABLE", "warming up"),
  );
  try {
    const st = await waiting;
    assert.equal(st.state, "COMPLETED");
  } finally {
    ac.abort();
    await second.finished;
  }
});
