/**
 * The dev key survives restarts: kept in the state folder with mode 0600,
 * reused by the next start, so a dev token keeps working; a token signed
 * with another key gets a 401 that says so.
 */
import assert from "node:assert/strict";
import {
  DEV_KEY_FILE,
  DevKeyError,
  loadDevKey,
  readDevKey,
} from "../../../lib/gateway/server/dev_key.ts";
import { startServe } from "../../support/server_process.ts";

const ROOT = new URL("../../../", import.meta.url);
const posix = Deno.build.os !== "windows";

Deno.test("dev key: created once with mode 0600 in a 0700 folder, then reused", async () => {
  const base = await Deno.makeTempDir();
  const dir = `${base}/state/qmtl`;
  try {
    const first = await loadDevKey(dir);
    assert.equal(first.created, true);
    assert.equal(first.path, `${dir}/${DEV_KEY_FILE}`);
    assert.equal(first.warning, undefined);
    assert.match(first.secret, /^[0-9a-f]{64}$/);
    if (posix) {
      assert.equal((await Deno.stat(first.path!)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    }
    const again = await loadDevKey(dir);
    assert.deepEqual(again, { ...first, created: false });
    assert.deepEqual(await readDevKey(dir), {
      secret: first.secret,
      path: first.path,
    });
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("dev key: a malformed or world-readable file is refused, naming it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/${DEV_KEY_FILE}`;
  try {
    await Deno.writeTextFile(path, "not a key\n", { mode: 0o600 });
    await assert.rejects(
      loadDevKey(dir),
      (e: Error) =>
        e instanceof DevKeyError && e.message.includes(path) &&
        /not 64 hex digits/.test(e.message),
    );
    if (posix) {
      await Deno.writeTextFile(path, "ab".repeat(32) + "\n");
      await Deno.chmod(path, 0o644);
      await assert.rejects(loadDevKey(dir), /readable by others \(mode 644/);
    }
    await Deno.remove(path);
    await assert.rejects(readDevKey(dir), /no such file.*deno task serve/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dev key: nowhere to keep it, or no --allow-write: a key of this process, with a warning and no prompt", async () => {
  const none = await loadDevKey(undefined);
  assert.equal(none.path, undefined);
  assert.match(none.warning!, /QMTL_STATE_DIR.*stop working when it restarts/);
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-read",
        "tests/gateway/server/fixtures/dev_key_child.ts",
        `${dir}/qmtl`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const got = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(got.path, null);
    assert.match(got.warning, /no write permission/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function strategies(url: string, token: string): Promise<Response> {
  return await fetch(`${url}/v1/strategies`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

Deno.test("dev token still works after the server restarts; another key's token gets a 401 that says why", async () => {
  const dir = await Deno.makeTempDir();
  const other = await Deno.makeTempDir();
  try {
    const first = await startServe({ env: { QMTL_STATE_DIR: dir } });
    const token = first.token!;
    assert.ok(first.lines.some((l) => l.includes(`${dir}/${DEV_KEY_FILE}`)));
    let res = await strategies(first.url, token);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await first.stop();

    const second = await startServe({ env: { QMTL_STATE_DIR: dir } });
    try {
      res = await strategies(second.url, token);
      assert.equal(res.status, 200, "the old token survives the restart");
      await res.body?.cancel();
    } finally {
      await second.stop();
    }

    const elsewhere = await startServe({ env: { QMTL_STATE_DIR: other } });
    try {
      res = await strategies(elsewhere.url, token);
      assert.equal(res.status, 401);
      const body = await res.json();
      assert.match(
        body.detail,
        /signature verification failed \(dev mode signs with .*: this token was signed with another key/,
      );
    } finally {
      await elsewhere.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(other, { recursive: true });
  }
});
