/**
 * Writes examples/data/prices.csv: SYNTHETIC 1-minute closes of two assets
 * (geometric Brownian motion with a seeded generator, so the file is the
 * same on every run). It is sample data for the examples, not market data.
 *
 *   deno run --allow-write examples/data/generate_prices.ts
 *
 * @module
 */

/** A small seeded PRNG (mulberry32): the same seed gives the same numbers. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
function normal(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const MINUTES = 3 * 24 * 60; // three days of 1-minute bars
const START = Date.parse("2024-01-01T00:00:00Z");
const rand = mulberry32(20240101);
const assets = [
  { name: "btc_close", price: 42_000, drift: 0.00001, vol: 0.0012 },
  { name: "eth_close", price: 2_300, drift: -0.000005, vol: 0.0016 },
];

const lines = [["ts", ...assets.map((a) => a.name)].join(",")];
for (let i = 0; i < MINUTES; i++) {
  const ts = new Date(START + i * 60_000).toISOString();
  const row = assets.map((a) => {
    // A slow regime cycle makes trends for the crossover example to find.
    const regime = 0.00006 * Math.sin((2 * Math.PI * i) / 720);
    a.price *= Math.exp(a.drift + regime + a.vol * normal(rand));
    return a.price.toFixed(2);
  });
  lines.push([ts, ...row].join(","));
}
const out = new URL("./prices.csv", import.meta.url);
await Deno.writeTextFile(out, lines.join("\n") + "\n");
console.log(`wrote ${MINUTES} rows to ${out.pathname}`);
