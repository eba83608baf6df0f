import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import {
  acceptedVersions,
  checkCompatibility,
  KNOWN_SCHEMAS,
  parseSemver,
  SCHEMA_FILES,
  SCHEMA_HASH,
  SCHEMA_HASH_HEADER,
  SCHEMA_VERSION,
  SCHEMA_VERSION_HEADER,
  schemaHashOf,
  schemaHeaders,
  schemaVersionMessage,
  SchemaVersionSchema,
  sha256Hex,
} from "../../lib/contracts/mod.ts";
import { buf } from "./buf.ts";

Deno.test("schema version and hash agree with the proto headers, the generated code and KNOWN_SCHEMAS", () => {
  assert.equal(SCHEMA_VERSION, "2.0.0");
  assert.equal(SCHEMA_HASH, schemaHashOf(SCHEMA_FILES));
  assert.equal(
    KNOWN_SCHEMAS[SCHEMA_VERSION],
    SCHEMA_HASH,
    "the protos changed: bump the version in the proto headers and add it to KNOWN_SCHEMAS",
  );
  const version = new RegExp(
    `^// Schema version: ${SCHEMA_VERSION.replaceAll(".", "\\.")}$`,
    "m",
  );
  const protoDir = new URL("../../proto/qmtl/v1/", import.meta.url);
  const genDir = new URL("../../lib/contracts/gen/qmtl/v1/", import.meta.url);
  const protos = [...Deno.readDirSync(protoDir)].map((e) => e.name).sort();
  assert.equal(protos.length, SCHEMA_FILES.length);
  for (const name of protos) {
    const text = Deno.readTextFileSync(new URL(name, protoDir));
    assert.match(text, version, name);
    if (name === "topic.proto") {
      assert.match(text, /^\/\/ {3}2\.0\.0 {2}Added /m, name); // new in 2.0.0
    } else {
      assert.match(text, /^\/\/ {3}2\.0\.0 {2}buf lint STANDARD/m, name);
      assert.match(text, /^\/\/ {3}1\.0\.0 {2}Initial release\.$/m, name);
    }
    // The generated code keeps the header comments.
    const gen = Deno.readTextFileSync(
      new URL(name.replace(/\.proto$/, "_pb.ts"), genDir),
    );
    assert.match(gen, version, name);
  }
  assert.equal(SCHEMA_VERSION_HEADER, "qmtl-schema-version");
  assert.equal(SCHEMA_HASH_HEADER, "qmtl-schema-hash");
  assert.deepEqual(schemaHeaders(), {
    "qmtl-schema-version": "2.0.0",
    "qmtl-schema-hash": SCHEMA_HASH,
  });
  assert.deepEqual(
    schemaVersionMessage(),
    create(SchemaVersionSchema, {
      version: "2.0.0",
      hash: SCHEMA_HASH,
      accepted: ["2.0.0", "^2.0.0"],
    }),
  );
});

Deno.test("schema hash: comments do not count, any field change does", () => {
  const files = [...SCHEMA_FILES];
  assert.equal(schemaHashOf(files.reverse()), SCHEMA_HASH); // order-free
  for (const f of SCHEMA_FILES) {
    assert.equal(f.proto.sourceCodeInfo, undefined, f.name);
  }
  const set = create(FileDescriptorSetSchema, {
    file: SCHEMA_FILES.map((f) => f.proto),
  });
  const copy = fromBinary(
    FileDescriptorSetSchema,
    toBinary(FileDescriptorSetSchema, set),
  );
  copy.file[0].messageType[0].field[0].number += 100;
  const changed = "sha256:" +
    sha256Hex(toBinary(FileDescriptorSetSchema, copy));
  assert.notEqual(changed, SCHEMA_HASH);
});

Deno.test({
  name:
    "schema hash = sha256 of `buf build --exclude-source-info --as-file-descriptor-set`, files sorted by name",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await buf([
        "build",
        "--exclude-source-info",
        "--as-file-descriptor-set",
        "-o",
        `${dir}/set.binpb`,
      ]);
      const built = fromBinary(
        FileDescriptorSetSchema,
        await Deno.readFile(`${dir}/set.binpb`),
      );
      built.file.sort((a, b) => a.name < b.name ? -1 : 1);
      assert.equal(
        "sha256:" + sha256Hex(toBinary(FileDescriptorSetSchema, built)),
        SCHEMA_HASH,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("checkCompatibility", () => {
  const other = "sha256:" + "a".repeat(64);
  assert.deepEqual(checkCompatibility("2.0.0", SCHEMA_HASH), { ok: true });
  // Unknown newer minor / patch of the same major: accepted.
  assert.deepEqual(checkCompatibility("2.1.0", other), { ok: true });
  assert.deepEqual(checkCompatibility("2.0.7", other), { ok: true });
  const no = (v: unknown, h: unknown, re: RegExp) => {
    const r = checkCompatibility(v as string, h as string);
    assert.equal(r.ok, false, `${v} ${h}`);
    if (!r.ok) {
      assert.match(r.reason, re);
      assert.deepEqual(r.accepted, ["2.0.0", "^2.0.0"]);
    }
  };
  no("2.0.0", other, /does not match known version 2\.0\.0/);
  no("1.0.0", KNOWN_SCHEMAS["1.0.0"], /major 1 is not supported/);
  no("3.0.0", SCHEMA_HASH, /major 3 is not supported/);
  no("0.9.0", SCHEMA_HASH, /major 0/);
  no("2.0", SCHEMA_HASH, /malformed schema version/);
  no("v2.0.0", SCHEMA_HASH, /malformed/);
  no("2.0.0-rc.1", SCHEMA_HASH, /malformed/);
  no("02.0.0", SCHEMA_HASH, /malformed/);
  no(undefined, SCHEMA_HASH, /missing qmtl-schema-version/);
  no("", SCHEMA_HASH, /missing qmtl-schema-version/);
  no("2.0.0", undefined, /missing qmtl-schema-hash/);
  no("2.0.0", null, /missing qmtl-schema-hash/);
  no("2.2.0", "md5:abc", /malformed schema hash/);
  no(42, SCHEMA_HASH, /malformed/);
  assert.deepEqual(parseSemver("10.20.30"), [10, 20, 30]);
  assert.equal(parseSemver("1.2.3.4"), undefined);
  assert.deepEqual(acceptedVersions(), ["2.0.0", "^2.0.0"]);
});
