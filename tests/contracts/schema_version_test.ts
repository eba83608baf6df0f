import assert from "node:assert/strict";
import { generate } from "../../lib/contracts/gen/generate.ts";
import {
  acceptedVersions,
  canonicalJson,
  checkCompatibility,
  DESCRIPTOR,
  GENERATED_SCHEMA,
  KNOWN_SCHEMAS,
  parseSemver,
  protoRoot,
  SCHEMA_HASH,
  SCHEMA_HASH_HEADER,
  SCHEMA_VERSION,
  SCHEMA_VERSION_HEADER,
  schemaHeaders,
  schemaVersionMessage,
  sha256Hex,
} from "../../lib/contracts/mod.ts";

Deno.test("generated descriptor is up to date with the protos", () => {
  const g = generate();
  const onDisk = Deno.readTextFileSync(
    new URL("../../lib/contracts/gen/descriptor.json", import.meta.url),
  );
  assert.equal(
    g.text,
    onDisk,
    "lib/contracts/gen/descriptor.json is stale: run `deno task proto`",
  );
  assert.deepEqual(DESCRIPTOR, g.descriptor);
  assert.equal(GENERATED_SCHEMA.version, g.version);
  assert.equal(GENERATED_SCHEMA.hash, g.hash);
});

Deno.test("schema version and hash agree with headers, descriptor and KNOWN_SCHEMAS", () => {
  assert.equal(SCHEMA_VERSION, "1.1.0");
  assert.equal(GENERATED_SCHEMA.version, SCHEMA_VERSION);
  assert.equal(SCHEMA_HASH, "sha256:" + sha256Hex(canonicalJson(DESCRIPTOR)));
  assert.equal(
    KNOWN_SCHEMAS[SCHEMA_VERSION],
    SCHEMA_HASH,
    "the protos changed: bump the version in the proto headers and add it to KNOWN_SCHEMAS",
  );
  for (
    const file of Deno.readDirSync(
      new URL("../../proto/qmtl/v1/", import.meta.url),
    )
  ) {
    const text = Deno.readTextFileSync(
      new URL(`../../proto/qmtl/v1/${file.name}`, import.meta.url),
    );
    assert.match(
      text,
      new RegExp(
        `^// Schema version: ${String(SCHEMA_VERSION).replaceAll(".", "\\.")}$`,
        "m",
      ),
    );
    assert.match(text, /^\/\/ {3}1\.\d+\.\d+ {2}\S/m); // a change-log line
  }
  assert.equal(SCHEMA_VERSION_HEADER, "qmtl-schema-version");
  assert.equal(SCHEMA_HASH_HEADER, "qmtl-schema-hash");
  assert.deepEqual(schemaHeaders(), {
    "qmtl-schema-version": "1.1.0",
    "qmtl-schema-hash": SCHEMA_HASH,
  });
  assert.deepEqual(schemaVersionMessage(), {
    version: "1.1.0",
    hash: SCHEMA_HASH,
    accepted: ["1.0.0", "1.1.0", "^1.0.0"],
  });
  assert.ok(
    protoRoot().lookupService("qmtl.v1.GatewayService").methodsArray.length ===
      5,
  );
  assert.equal(protoRoot(), protoRoot());
});

Deno.test("generator rejects inconsistent headers", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const url = new URL(`file://${dir}/`);
    const ok =
      '// Schema version: 1.0.0\n// Change log:\nsyntax = "proto3";\npackage qmtl.v1;\nmessage A { string a = 1; }\n';
    Deno.writeTextFileSync(`${dir}/a.proto`, ok);
    assert.equal(generate(url).version, "1.0.0");
    Deno.writeTextFileSync(
      `${dir}/b.proto`,
      ok.replace("1.0.0", "1.1.0").replace("A", "B"),
    );
    assert.throws(() => generate(url), /schema version 1\.1\.0 != 1\.0\.0/);
    Deno.writeTextFileSync(
      `${dir}/b.proto`,
      ok.replace("// Schema version: 1.0.0\n", "").replace("A", "B"),
    );
    assert.throws(() => generate(url), /missing "\/\/ Schema version/);
    Deno.writeTextFileSync(
      `${dir}/b.proto`,
      ok.replace("// Change log:\n", "").replace("A", "B"),
    );
    assert.throws(() => generate(url), /missing "\/\/ Change log:"/);
    Deno.writeTextFileSync(
      `${dir}/b.proto`,
      ok.replace("qmtl.v1", "other").replace("A", "B"),
    );
    assert.throws(() => generate(url), /package must be qmtl\.v1/);
    Deno.removeSync(`${dir}/a.proto`);
    Deno.removeSync(`${dir}/b.proto`);
    assert.throws(() => generate(url), /no \.proto files/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("checkCompatibility", () => {
  const other = "sha256:" + "a".repeat(64);
  assert.deepEqual(checkCompatibility("1.1.0", SCHEMA_HASH), { ok: true });
  // An older known minor with its own hash: accepted.
  assert.deepEqual(
    checkCompatibility("1.0.0", KNOWN_SCHEMAS["1.0.0"]),
    { ok: true },
  );
  // Unknown newer minor / patch of the same major: accepted.
  assert.deepEqual(checkCompatibility("1.2.0", other), { ok: true });
  assert.deepEqual(checkCompatibility("1.1.7", other), { ok: true });
  const no = (v: unknown, h: unknown, re: RegExp) => {
    const r = checkCompatibility(v as string, h as string);
    assert.equal(r.ok, false, `${v} ${h}`);
    if (!r.ok) {
      assert.match(r.reason, re);
      assert.deepEqual(r.accepted, ["1.0.0", "1.1.0", "^1.0.0"]);
    }
  };
  no("1.0.0", other, /does not match known version 1\.0\.0/);
  no("1.1.0", KNOWN_SCHEMAS["1.0.0"], /does not match known version 1\.1\.0/);
  no("2.0.0", SCHEMA_HASH, /major 2 is not supported/);
  no("0.9.0", SCHEMA_HASH, /major 0/);
  no("1.0", SCHEMA_HASH, /malformed schema version/);
  no("v1.0.0", SCHEMA_HASH, /malformed/);
  no("1.0.0-rc.1", SCHEMA_HASH, /malformed/);
  no("01.0.0", SCHEMA_HASH, /malformed/);
  no(undefined, SCHEMA_HASH, /missing qmtl-schema-version/);
  no("", SCHEMA_HASH, /missing qmtl-schema-version/);
  no("1.0.0", undefined, /missing qmtl-schema-hash/);
  no("1.0.0", null, /missing qmtl-schema-hash/);
  no("1.2.0", "md5:abc", /malformed schema hash/);
  no(42, SCHEMA_HASH, /malformed/);
  assert.deepEqual(parseSemver("10.20.30"), [10, 20, 30]);
  assert.equal(parseSemver("1.2.3.4"), undefined);
  assert.deepEqual(acceptedVersions(), ["1.0.0", "1.1.0", "^1.0.0"]);
});
