import assert from "node:assert/strict";
import { csvSource, SourceError, type SourceRecord } from "../../../sdk/mod.ts";

function text(s: string): ReadableStream<Uint8Array> {
  return new Blob([s]).stream();
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const cols = { btc: ["btc", "close"], eth: ["eth", "close"] };

Deno.test("csv: one record per listed column and row; empty cells skipped; quoting and BOM", async () => {
  const recs = await all(csvSource(
    text(
      '\ufeffts,btc,eth,note\r\n60,1.5,2,\r\n120,,2.5,"a, b"\r\n180,3,3.5,x\r\n',
    ),
    { time: "ts", columns: cols },
  ));
  assert.deepEqual(recs.map((r) => [r.tags.join("/"), r.ts, r.value]), [
    ["btc/close", 60, 1.5],
    ["eth/close", 60, 2],
    ["eth/close", 120, 2.5],
    ["btc/close", 180, 3],
    ["eth/close", 180, 3.5],
  ]);
});

Deno.test("csv: times in seconds, milliseconds or ISO 8601", async () => {
  const iso = await all(csvSource(
    text("t,btc\n1970-01-01T00:01:00Z,1\n"),
    { time: "t", columns: { btc: ["btc"] } },
  ));
  assert.equal(iso[0].ts, 60);
  const ms = await all(csvSource(
    text("t,btc\n61500,1\n"),
    { time: "t", timeUnit: "ms", columns: { btc: ["btc"] } },
  ));
  assert.equal(ms[0].ts, 61.5);
});

Deno.test("csv: errors name the line and column", async () => {
  const bad = async (s: string, re: RegExp) => {
    await assert.rejects(
      () => all(csvSource(text(s), { time: "ts", columns: { btc: ["btc"] } })),
      (e) => e instanceof SourceError && re.test(e.message),
    );
  };
  await bad("ts,btc\n60,1\n120,abc\n", /line 3: btc: not a number: "abc"/);
  await bad("ts,btc\nyesterday,1\n", /line 2: ts: not a time/);
  await bad("time,btc\n60,1\n", /no column "ts"/);
  await bad('ts,btc\n60,"1\n', /csv line/);
  await assert.rejects(
    () => all(csvSource(text("ts\n"), { time: "ts", columns: {} })),
    /at least one column/,
  );
});

Deno.test("csv: reads a file by path, streamed", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    const lines = ["ts,btc"];
    for (let i = 0; i < 5000; i++) lines.push(`${i * 60},${i}`);
    await Deno.writeTextFile(path, lines.join("\n"));
    let n = 0;
    let last: SourceRecord | undefined;
    for await (
      const r of csvSource(path, { time: "ts", columns: { btc: ["btc"] } })
    ) {
      n++;
      last = r;
    }
    assert.equal(n, 5000);
    assert.equal(last?.value, 4999);
  } finally {
    await Deno.remove(path);
  }
});
