// SSRF guard of webhook callbacks (lib/gateway/webhooks/address_policy.ts,
// post.ts): every refused address class, at submit (E_INVALID naming
// callback_url, nothing written) and at delivery after DNS (a name that
// resolves to a private address), the connection pinned to the checked
// address, and the allow-list.
import { create } from "@bufbuild/protobuf";
import assert from "node:assert/strict";
import {
  EventSchema,
  QmtlError,
  type StrategyStatus,
  SubmitStrategyRequestSchema,
} from "../../lib/contracts/mod.ts";
import {
  checkCallbackUrl,
  type Resolver,
  systemResolver,
  WebhookDispatcher,
} from "../../lib/gateway/mod.ts";
import { MemoryQueue } from "../../lib/queue/mod.ts";
import { ConfigError, loadConfig } from "../../lib/gateway/server/config.ts";
import {
  dag,
  node,
  rpcRaw,
  submitBytes,
  token,
  withGateway,
} from "./helpers.ts";
import {
  type AddressClass,
  classifyAddress,
  parseAllowHosts,
  parseIp,
  resolveCallback,
} from "../../lib/gateway/webhooks/address_policy.ts";

const CLASSES: [AddressClass, string[]][] = [
  ["loopback", [
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    "::ffff:127.0.0.1",
    "2002:7f00:1::1",
  ]],
  ["private", [
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "::ffff:10.1.2.3",
    "::ffff:a01:203",
    "64:ff9b::10.0.0.1",
  ]],
  ["link-local", [
    "169.254.169.254",
    "169.254.0.1",
    "fe80::1",
    "fe80::1%eth0",
    "::ffff:169.254.169.254",
  ]],
  ["unspecified", ["0.0.0.0", "0.1.2.3", "::", "::ffff:0.0.0.0"]],
  ["multicast", ["224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1"]],
  ["cgnat", ["100.64.0.1", "100.127.255.254", "::ffff:100.64.0.1"]],
  ["reserved", [
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",
    "::127.0.0.1",
    "2001:db8::1",
    "2001::1",
    "100::1",
  ]],
  ["public", [
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.1",
    "172.15.255.255",
    "172.32.0.1",
    "192.169.0.1",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
  ]],
];

Deno.test("webhooks: every address class is recognised, IPv4 and IPv6 (mapped, NAT64, 6to4 included)", () => {
  for (const [cls, addrs] of CLASSES) {
    for (const a of addrs) {
      const ip = parseIp(a);
      assert.ok(ip, `${a} parses`);
      assert.equal(classifyAddress(ip), cls, a);
    }
  }
  for (
    const bad of [
      "1.2.3",
      "256.1.1.1",
      "1.2.3.4.5",
      "1::2::3",
      ":::",
      "12345::",
      "example.com",
      "",
    ]
  ) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

const REFUSED_AT_SUBMIT: [string, RegExp][] = [
  ["http://127.0.0.1:9000/hook", /loopback address/],
  ["http://[::1]/hook", /loopback address/],
  ["http://[::ffff:127.0.0.1]/hook", /loopback address/],
  ["http://2130706433/hook", /127\.0\.0\.1 is a loopback address/], // decimal form
  ["http://0x7f.1/hook", /127\.0\.0\.1 is a loopback address/], // hex form
  ["http://169.254.169.254/latest/meta-data/", /link-local address/],
  ["http://[fe80::1]/hook", /link-local address/],
  ["http://10.0.0.1/hook", /private address/],
  ["http://192.168.0.10:8080/hook", /private address/],
  ["http://[fd00::1]/hook", /private address/],
  ["http://100.64.0.1/hook", /CGNAT/],
  ["http://0.0.0.0:8080/hook", /unspecified address/],
  ["http://[::]/hook", /unspecified address/],
  ["http://224.0.0.1/hook", /multicast address/],
  ["http://[ff02::1]/hook", /multicast address/],
  ["http://255.255.255.255/hook", /reserved/],
  ["http://localhost:8080/hook", /loopback name/],
  ["http://api.LOCALHOST./hook", /loopback name/],
  ["ftp://example.com/hook", /must be http or https/],
  ["not a url", /not a URL/],
];

Deno.test("webhooks: refused callback URLs at submit → E_INVALID naming callback_url, nothing written", async () => {
  await withGateway({}, async (gw) => {
    const principal = { subject: "alice", roles: ["submitter" as const] };
    for (const [url, why] of REFUSED_AT_SUBMIT) {
      const n = node(`n-${url}`);
      await assert.rejects(
        gw.service.submit(
          principal,
          create(SubmitStrategyRequestSchema, {
            dag: dag("s", [n]),
            version: "1",
            callbackUrl: url,
          }),
        ),
        (e: unknown) => {
          assert.ok(e instanceof QmtlError, String(e));
          assert.equal(e.code, "E_INVALID");
          assert.equal(e.field, "callback_url");
          assert.match(e.message, why, url);
          return true;
        },
      );
    }
    assert.equal((await gw.service.store.list()).strategies.length, 0);
    const q = await gw.queue.stats();
    assert.equal(q.ready + q.delayed + q.leased + q.done + q.dead, 0);
    assert.equal((await gw.registry.listNodes()).nodes.length, 0);

    // Over the API: the client sees the error and the field.
    const res = await rpcRaw(
      gw,
      "SubmitStrategy",
      submitBytes({
        dag: dag("api", [node("api")]),
        version: "1",
        callbackUrl: "http://169.254.169.254/latest/meta-data/",
      }),
      await token("alice", ["submitter"]),
    );
    const body = await res.json();
    assert.equal(res.status, 400);
    assert.match(
      body.message,
      /^\[E_INVALID\] callback_url host 169\.254\.169\.254 is a link-local address/,
    );
    assert.equal(body.details[0].debug.field, "callback_url");
    assert.equal((await gw.service.store.list()).strategies.length, 0);

    // A public address and a name are accepted at submit.
    for (
      const url of ["https://hooks.example.com/q", "http://93.184.215.14/h"]
    ) {
      const ack = await gw.service.submit(
        principal,
        create(SubmitStrategyRequestSchema, {
          dag: dag(url, [node(`ok-${url}`)]),
          version: "1",
          callbackUrl: url,
        }),
      );
      assert.ok(ack.strategyId);
    }
  });
});

Deno.test("webhooks: the allow-list admits exactly its hosts, ports and blocks", () => {
  const allow = parseAllowHosts(
    "127.0.0.1:9000, localhost, 10.0.0.0/8, [::1]:8443, fd00::/16",
  );
  checkCallbackUrl("http://127.0.0.1:9000/h", allow);
  assert.throws(
    () => checkCallbackUrl("http://127.0.0.1:9001/h", allow),
    /loopback/,
  );
  checkCallbackUrl("http://localhost:1234/h", allow);
  checkCallbackUrl("http://10.20.30.40/h", allow);
  assert.throws(
    () => checkCallbackUrl("http://192.168.0.1/h", allow),
    /private/,
  );
  checkCallbackUrl("https://[::1]:8443/h", allow);
  assert.throws(() => checkCallbackUrl("https://[::1]/h", allow), /loopback/);
  checkCallbackUrl("http://[fd00:1::5]/h", allow);
  assert.throws(() => checkCallbackUrl("http://[fd01::5]/h", allow), /private/);
  assert.throws(
    () => checkCallbackUrl("http://api.localhost/h", allow),
    /loopback name/,
  );
  for (
    const bad of [
      "10.0.0.0/33",
      "host:0",
      "host:99999",
      "bad host",
      "1.2.3.4/x",
      "[zz]:1",
      "::1:",
    ]
  ) {
    assert.throws(() => parseAllowHosts(bad), /allow-list entry/, bad);
  }
});

Deno.test("webhooks: QMTL_WEBHOOK_ALLOW_HOSTS is validated and passed on", () => {
  assert.deepEqual(
    loadConfig({ QMTL_WEBHOOK_ALLOW_HOSTS: "127.0.0.1:9000, 10.0.0.0/8" })
      .webhookAllowHosts,
    ["127.0.0.1:9000", "10.0.0.0/8"],
  );
  assert.equal(loadConfig({}).webhookAllowHosts, undefined);
  assert.throws(
    () => loadConfig({ QMTL_WEBHOOK_ALLOW_HOSTS: "10.0.0.0/40" }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(
        e.message,
        /QMTL_WEBHOOK_ALLOW_HOSTS="10\.0\.0\.0\/40": allow-list entry "10\.0\.0\.0\/40": prefix length must be 0-32/,
      );
      return true;
    },
  );
});

Deno.test("webhooks: delivery resolves names first; private answers are refused (incl. a mixed answer)", async () => {
  const answers: Record<string, string[]> = {
    "private.example.test": ["10.0.0.5"],
    "metadata.example.test": ["169.254.169.254"],
    "rebind.example.test": ["93.184.215.14", "127.0.0.1"],
    "v6.example.test": ["2606:4700:4700::1111", "::1"],
    "public.example.test": ["93.184.215.14"],
  };
  const resolve: Resolver = (h) =>
    answers[h]
      ? Promise.resolve(answers[h])
      : Promise.reject(new Error(`NXDOMAIN ${h}`));
  await assert.rejects(
    resolveCallback("http://private.example.test/h", [], resolve),
    /resolves to 10\.0\.0\.5, a private address/,
  );
  await assert.rejects(
    resolveCallback("http://metadata.example.test/h", [], resolve),
    /169\.254\.169\.254, a link-local address/,
  );
  await assert.rejects(
    resolveCallback("http://rebind.example.test/h", [], resolve),
    /resolves to 127\.0\.0\.1, a loopback address/,
  );
  await assert.rejects(
    resolveCallback("https://v6.example.test/h", [], resolve),
    /resolves to ::1, a loopback address/,
  );
  await assert.rejects(
    resolveCallback("http://nothing.example.test/h", [], resolve),
    /does not resolve: NXDOMAIN/,
  );
  const ok = await resolveCallback(
    "https://public.example.test/h",
    [],
    resolve,
  );
  assert.deepEqual(ok.addresses, [{ address: "93.184.215.14", family: 4 }]);
  // The real system resolver (getaddrinfo, /etc/hosts): `localhost` is a
  // loopback address. Used as the DNS answer of a public-looking name, it is
  // refused after resolution, not by the name rule.
  const local = await systemResolver("localhost");
  assert.ok(
    local.length > 0 && local.every((a) => a === "127.0.0.1" || a === "::1"),
    String(local),
  );
  await assert.rejects(
    resolveCallback(
      "http://hooks.example.test/h",
      [],
      () => systemResolver("localhost"),
    ),
    /hooks\.example\.test resolves to (127\.0\.0\.1|::1), a loopback address/,
  );
});

/** A receiver on 127.0.0.1 recording the Host header of each delivery. */
function receiver() {
  const hosts: string[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    await req.arrayBuffer();
    hosts.push(req.headers.get("host") ?? "");
    return new Response(null, { status: 204 });
  });
  return { port: server.addr.port, hosts, close: () => server.shutdown() };
}

function event(id: string) {
  return create(EventSchema, {
    id,
    source: "/qmtl/test",
    specVersion: "1.0",
    type: "qmtl.strategy.queued",
    subject: "st_x",
    time: new Date().toISOString(),
    dataContentType: "application/json",
    data: new TextEncoder().encode("{}"),
  });
}

async function deliverOnce(
  callbackUrl: string,
  options: { allowHosts?: string[]; resolve?: Resolver },
): Promise<{ delivered: boolean; lastError?: string }> {
  const queue = new MemoryQueue({ backoff: { baseMs: 10, maxMs: 10 } });
  const hooks = new WebhookDispatcher({
    queue,
    maxAttempts: 1,
    timeoutMs: 2_000,
    ...options,
  });
  try {
    await hooks.onEvent(
      event(crypto.randomUUID()),
      { callbackUrl } as StrategyStatus,
    );
    hooks.start();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const s = await queue.stats();
      if (s.done === 1) return { delivered: true };
      if (s.dead === 1) {
        return {
          delivered: false,
          lastError: (await queue.listDead())[0].lastError,
        };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("delivery neither done nor dead in 5 s");
  } finally {
    await hooks.stop();
    await queue.close();
  }
}

Deno.test("webhooks: delivery to a name resolving to loopback (`localhost`) is refused; nothing is sent", async () => {
  const r = receiver();
  try {
    const out = await deliverOnce(`http://localhost:${r.port}/h`, {});
    assert.equal(out.delivered, false);
    assert.match(
      out.lastError!,
      /callback_url host localhost is a loopback name/,
    );
    // A public-looking name whose DNS answer is 127.0.0.1 (rebinding).
    const out2 = await deliverOnce(`http://hooks.example.test:${r.port}/h`, {
      resolve: () => Promise.resolve(["127.0.0.1"]),
    });
    assert.equal(out2.delivered, false);
    assert.match(
      out2.lastError!,
      /hooks\.example\.test resolves to 127\.0\.0\.1, a loopback address/,
    );
    assert.deepEqual(r.hosts, []);
  } finally {
    await r.close();
  }
});

Deno.test("webhooks: the connection goes to the address that was checked (Host header keeps the name)", async () => {
  const r = receiver();
  try {
    // The stand-in DNS says 127.0.0.1; the allow-list admits that address.
    // Were the POST to resolve the name again it would fail (no such name).
    let lookups = 0;
    const out = await deliverOnce(`http://hooks.example.test:${r.port}/h`, {
      allowHosts: [`127.0.0.1:${r.port}`],
      resolve: () => {
        lookups++;
        return Promise.resolve(["127.0.0.1"]);
      },
    });
    assert.deepEqual(out, { delivered: true });
    assert.equal(lookups, 1);
    assert.deepEqual(r.hosts, [`hooks.example.test:${r.port}`]);
  } finally {
    await r.close();
  }
});

Deno.test("webhooks: the allow-list admits local receivers by address and by name", async () => {
  const r = receiver();
  try {
    assert.deepEqual(
      await deliverOnce(`http://127.0.0.1:${r.port}/h`, {
        allowHosts: ["127.0.0.1"],
      }),
      { delivered: true },
    );
    // A name entry trusts the name whatever it resolves to.
    assert.deepEqual(
      await deliverOnce(`http://dev-box.example.test:${r.port}/h`, {
        allowHosts: [`dev-box.example.test:${r.port}`],
        resolve: () => Promise.resolve(["127.0.0.1"]),
      }),
      { delivered: true },
    );
    const other = await deliverOnce(`http://127.0.0.1:${r.port}/h`, {
      allowHosts: ["127.0.0.1:1"],
    });
    assert.equal(other.delivered, false);
    assert.match(other.lastError!, /127\.0\.0\.1 is a loopback address/);
    assert.equal(r.hosts.length, 2);
  } finally {
    await r.close();
  }
});
