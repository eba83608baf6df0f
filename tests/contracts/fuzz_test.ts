import assert from "node:assert/strict";
import { toBinary } from "@bufbuild/protobuf";
import { ContractError, decode } from "../../lib/contracts/mod.ts";
import { SAMPLES } from "../golden/samples.ts";
import { prng } from "../support/prng.ts";

const CASES = 2000;

function mutate(rand: () => number, base: Uint8Array, i: number): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  switch (i % 5) {
    case 0: { // random bytes
      const out = new Uint8Array(int(48));
      for (let k = 0; k < out.length; k++) out[k] = int(256);
      return out;
    }
    case 1: // truncation
      return base.slice(0, int(base.length + 1));
    case 2: { // bit flips
      const out = base.slice();
      for (let k = 0, n = 1 + int(4); k < n && out.length; k++) {
        out[int(out.length)] ^= 1 << int(8);
      }
      return out;
    }
    case 3: { // random byte inserted / overwritten with an interesting value
      const out = base.slice();
      const interesting = [0x00, 0x07, 0x0f, 0x7f, 0x80, 0xff, 0x1b, 0x1c];
      if (out.length) {
        out[int(out.length)] = interesting[int(interesting.length)];
      }
      return out;
    }
    default: { // splice two prefixes / random tail
      const cut = int(base.length + 1);
      const tail = new Uint8Array(int(16));
      for (let k = 0; k < tail.length; k++) tail[k] = int(256);
      return new Uint8Array([...base.subarray(0, cut), ...tail]);
    }
  }
}

for (
  const [idx, [name, { schema, message }]] of Object.entries(SAMPLES).entries()
) {
  Deno.test(`fuzz ${name}: ${CASES} malformed inputs never crash`, () => {
    const rand = prng(0x5eed + idx);
    const base = toBinary(schema, message);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < CASES; i++) {
      const input = mutate(rand, base, i);
      let msg;
      try {
        msg = decode(schema, input);
      } catch (e) {
        if (!(e instanceof ContractError) || e.code !== "E_INVALID") {
          throw new Error(`case ${i} (${[...input]}): unexpected ${e}`);
        }
        assert.match(e.message, new RegExp(`^decode ${name}`));
        rejected++;
        continue;
      }
      accepted++;
      // Whatever decodes must re-encode, and decode again to the same value
      // (unknown fields included).
      const again = decode(schema, toBinary(schema, msg));
      assert.deepEqual(again, msg, `case ${i}`);
    }
    assert.equal(accepted + rejected, CASES);
    assert.ok(rejected > 0);
  });
}

Deno.test("decode: group-nesting bombs cannot exhaust the stack", () => {
  // 100,000 nested start-group tags, of an unknown field (1000) and of a
  // known one (15): a typed E_INVALID or a lenient decode — never a stack
  // overflow (protobuf-es bounds its recursion).
  const unknown = new Uint8Array(200_000);
  for (let i = 0; i < unknown.length; i += 2) {
    unknown[i] = 0xc3; // (1000 << 3) | 3, as a varint: c3 3e
    unknown[i + 1] = 0x3e;
  }
  const known = new Uint8Array(100_000).fill(0x7b); // (15 << 3) | 3
  for (const [name, s] of Object.entries(SAMPLES)) {
    for (const bomb of [unknown, known]) {
      try {
        decode(s.schema, bomb);
      } catch (e) {
        assert.ok(e instanceof ContractError, `${name}: ${e}`);
        assert.equal(e.code, "E_INVALID");
      }
    }
    assert.throws(
      () => decode(s.schema, unknown),
      /maximum recursion depth/,
      name,
    );
  }
});
