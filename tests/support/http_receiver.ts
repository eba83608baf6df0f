/**
 * A real local HTTP server that records the JSON bodies POSTed to it: the
 * far end of the alert sinks (webhook, Slack) in the tests.
 *
 * @module
 */

/** One request an {@link httpReceiver} took. */
export interface Received<B> {
  path: string;
  contentType: string | null;
  body: B;
}

/** A running {@link httpReceiver}. */
export interface HttpReceiver<B> {
  /** Every request so far, in arrival order. */
  got: Received<B>[];
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/**
 * Listens on a free 127.0.0.1 port, records each request's path, content
 * type and JSON body, and answers `status` ("ok" for 200, "no" otherwise).
 */
export async function httpReceiver<B = Record<string, unknown>>(
  status = 200,
): Promise<HttpReceiver<B>> {
  const got: Received<B>[] = [];
  const { promise: listening, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => resolve(port),
  }, async (req) => {
    got.push({
      path: new URL(req.url).pathname,
      contentType: req.headers.get("content-type"),
      body: await req.json(),
    });
    return new Response(status === 200 ? "ok" : "no", { status });
  });
  const port = await listening;
  return {
    got,
    base: `http://127.0.0.1:${port}`,
    close: () => server.shutdown(),
  };
}
