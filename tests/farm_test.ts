/**
 * Issue 13, the farm: three jabberd nodes in one process (each its own `Server` with its own
 * `<farm>` section, c2s and session manager), one real nats-server on loopback and one shared
 * XDB (Deno KV on one file, or PostgreSQL), with real xmpp.js clients spread over the nodes
 * (ROUTING.md R40–R46, docs/farm.md).
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import type { Adapters, KvStore } from "../src/adapters/types.ts";
import { startNats, type ThrowawayNats } from "../src/adapters/nats/_testing.ts";
import { NatsClientAdapter } from "../src/adapters/nats/client.ts";
import { startPostgres } from "../src/adapters/postgres/_testing.ts";
import {
  bareKey,
  escapeKey,
  FarmNames,
  fullKey,
  fullOfKey,
  unescapeKey,
} from "../src/modules/farm/keys.ts";
import { parsePlacement } from "../src/modules/farm/directory.ts";
import { FARM, type Farm as FarmContract } from "../src/server/farm.ts";
import type { ModuleDefinition } from "../src/server/module_api.ts";
import type { Packet } from "../src/tree/packet.ts";
import { testC2sSection, type TestServer, testServer, waitFor } from "../src/server/_testing.ts";
import type { InteropServer } from "./interop/harness.ts";
import { connect, type JsClient, register, xml } from "./interop/xmpp_js.ts";
import { NS_CLIENT } from "../src/util/ns.ts";

const NODES = ["n1", "n2", "n3"] as const;
type NodeId = typeof NODES[number];
const TTL_MS = 1_500;

interface Farm {
  nats: ThrowawayNats;
  /** The farm's name: its subjects and buckets on the shared nats-server. */
  name: string;
  nodes: Map<NodeId, TestServer>;
  /** The c2s address of a node, for the clients. */
  at(node: NodeId): InteropServer;
  stop(node: NodeId): Promise<void>;
  logs(): string;
}

/** What a test adds to one node's config: farm settings and services. */
type Extra = (id: NodeId) => { farm?: string; services?: string };

function nodeConfig(id: NodeId, natsUrl: string, farm: string, kv: string, extra: Extra): string {
  const more = extra(id);
  return `<jabberd>
  <service id="farm-${id}">
    <farm><node>${id}</node><nats>${natsUrl}</nats><name>${farm}</name>
      <heartbeat>250ms</heartbeat><ttl>${TTL_MS}ms</ttl>${more.farm ?? ""}</farm>
  </service>
  <service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>
  ${testC2sSection(`c2s-${id}`)}
  ${more.services ?? ""}
  <xdb id="xdb"><host/><kv>${kv}</kv></xdb>
</jabberd>`;
}

/** What `<farm-probe/>` sections received, by section id, and the farm each node offers. */
const probed = new Map<string, Packet[]>();
const farms = new Map<string, FarmContract>();

/** A test module: records every packet for its section's hosts and keeps its node's farm. */
const farmProbe: ModuleDefinition = {
  element: "farm-probe",
  sections: ["service"],
  register(api) {
    const packets: Packet[] = [];
    probed.set(api.id, packets);
    const farm = api.offered<FarmContract>(FARM)[0]?.value;
    if (farm) farms.set(farm.node, farm);
    api.handle("deliver", (packet) => {
      packets.push(packet);
      return "done";
    });
  },
};

/**
 * The Deno adapters, with one Deno KV handle per path shared by the three nodes: three SQLite
 * handles on one file in one process refuse each other's writes ("database is locked"), while
 * nodes on separate machines share PostgreSQL instead. Closed by `closeSharedKv`.
 */
const sharedStores = new Map<string, Promise<KvStore>>();

function nodeAdapters(): Adapters {
  const base = denoAdapters();
  return {
    ...base,
    kv: {
      open(path, options) {
        let store = sharedStores.get(path);
        if (!store) {
          store = base.kv.open(path, options);
          sharedStores.set(path, store);
        }
        return store.then((shared) => ({
          get: (key) => shared.get(key),
          getMany: (keys) => shared.getMany(keys),
          list: (selector, options) => shared.list(selector, options),
          atomic: () => shared.atomic(),
          close: () => {},
        } as KvStore));
      },
    },
  };
}

async function closeSharedKv(): Promise<void> {
  for (const store of sharedStores.values()) (await store).close();
  sharedStores.clear();
}

/** Starts nats-server and the three nodes, and waits until each routes to the other two. */
async function startFarm(dir: string, kv: string, extra: Extra): Promise<Farm | string> {
  const server = await startNats();
  if (typeof server === "string") return server;
  const name = `t${crypto.randomUUID().slice(0, 8)}`;
  const nodes = new Map<NodeId, TestServer>();
  for (const id of NODES) {
    nodes.set(
      id,
      await testServer(nodeConfig(id, server.url, name, kv, extra), {
        file: `${dir}/${id}/jabberd.xml`,
        adapters: nodeAdapters(),
        modules: [farmProbe],
      }),
    );
  }
  const farm: Farm = {
    nats: server,
    name,
    nodes,
    at(node) {
      const c2s = nodes.get(node)!.address("c2s");
      return { domain: "localhost", hostname: c2s.hostname, port: c2s.port } as InteropServer;
    },
    async stop(node) {
      await nodes.get(node)?.stop();
      nodes.delete(node);
    },
    logs() {
      return [...nodes].map(([id, world]) => world.logLines().map((l) => `${id} ${l}`).join("\n"))
        .join("\n");
    },
  };
  // R44: each farm section routes the other nodes' c2s sections.
  await waitFor(() =>
    [...nodes].every(([id, world]) => {
      const hosts = world.server.sections().find((s) => s.id === `farm-${id}`)?.hosts ?? [];
      return NODES.filter((other) => other !== id).every((other) => hosts.includes(`c2s-${other}`));
    }), "every node to route to the others");
  return farm;
}

async function withFarm(
  kv: (dir: string) => string | Promise<string>,
  body: (farm: Farm) => Promise<void>,
  extra: Extra = () => ({}),
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-farm-" });
  const farm = await startFarm(dir, await kv(dir), extra);
  if (typeof farm === "string") {
    await Deno.remove(dir, { recursive: true });
    return console.log(`skipped: ${farm}`);
  }
  try {
    await body(farm);
  } catch (error) {
    console.error(farm.logs());
    throw error;
  } finally {
    for (const id of [...farm.nodes.keys()]) await farm.stop(id);
    await closeSharedKv();
    await farm.nats.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const sharedKv = (dir: string) => `${dir}/shared.kv`;

function chat(to: string, body: string) {
  return xml("message", { to, type: "chat" }, xml("body", {}, body));
}

/** Makes `a` and `b` subscribed to each other (RFC 6121 §3), each seeing the other online. */
async function befriend(a: JsClient, b: JsClient): Promise<void> {
  for (const [asker, answerer] of [[a, b], [b, a]]) {
    await asker.send(xml("presence", { to: answerer.bare, type: "subscribe" }));
    await answerer.waitFor(
      `${asker.bare}'s subscription request`,
      (s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === asker.bare,
    );
    await answerer.send(xml("presence", { to: asker.bare, type: "subscribed" }));
    await asker.waitFor(
      `${answerer.jid}'s presence`,
      (s) => s.is("presence") && s.attrs.from === answerer.jid && s.attrs.type === undefined,
    );
  }
}

async function users(farm: Farm, names: [string, NodeId][]): Promise<JsClient[]> {
  const clients: JsClient[] = [];
  for (const [name, node] of names) {
    await register(farm.at(node), name, `pass-${name}`);
    clients.push(await connect(farm.at(node), { username: name, password: `pass-${name}` }));
  }
  return clients;
}

async function stopAll(clients: JsClient[]): Promise<void> {
  for (const client of clients) await client.stop();
}

Deno.test("Issue 13 R41 R42 R43 R44 three nodes are one server: users on different nodes chat to bare and full JIDs and see each other's presence", async () => {
  await withFarm(sharedKv, async (farm) => {
    const clients = await users(farm, [["alice", "n1"], ["bob", "n2"], ["carol", "n3"]]);
    const [alice, bob, carol] = clients;
    try {
      await alice.send(chat(bob.bare, "to bob's bare JID"));
      const got = await bob.waitFor("alice's message", (s) => s.is("message"));
      assert.equal(got.getChildText("body", NS_CLIENT), "to bob's bare JID");
      assert.equal(got.attrs.from, alice.jid);
      await bob.send(chat(alice.jid, "to alice's full JID"));
      assert.equal(
        (await alice.waitFor("bob's message", (s) => s.is("message"))).getChildText(
          "body",
          NS_CLIENT,
        ),
        "to alice's full JID",
      );
      await carol.send(chat(alice.bare, "from n3"));
      assert.equal(
        (await alice.waitFor("carol's message", (s) => s.is("message"))).attrs.from,
        carol.jid,
      );
      // An iq to a full JID on another node is answered by that client (xmpp.js answers ping).
      const pong = await carol.exchange(
        xml("iq", { type: "get", to: bob.jid }, xml("ping", { xmlns: "urn:xmpp:ping" })),
      );
      assert.equal(pong.attrs.type, "result");
      // Subscriptions and presence across nodes (RFC 6121 §3, §4).
      await befriend(alice, bob);
      await befriend(bob, carol);
      await carol.send(xml("presence", {}, xml("status", {}, "busy")));
      const status = await bob.waitFor(
        "carol's new status",
        (s) =>
          s.is("presence") && s.attrs.from === carol.jid && s.getChildText("status") === "busy",
      );
      assert.equal(
        status.attrs.to,
        bob.bare,
        "a presence broadcast goes to the contact's bare JID",
      );
      // The directory (R41): each home on the node its user logged in to.
      const directory = await readDirectory(farm);
      assert.equal(directory.homes.get("alice@localhost"), "n1");
      assert.equal(directory.homes.get("bob@localhost"), "n2");
      assert.equal(directory.sessions.get(carol.jid), "n3");
    } finally {
      await stopAll(clients);
    }
  });
});

Deno.test("Issue 13 R41 one home per bare JID: a second resource on another node joins the home, and the same full JID on two nodes gets conflict for the older", async () => {
  await withFarm(sharedKv, async (farm) => {
    await register(farm.at("n1"), "alice", "pass-alice");
    const first = await connect(farm.at("n1"), {
      username: "alice",
      password: "pass-alice",
      resource: "desk",
    });
    const errors: string[] = [];
    first.xmpp.on("error", (error: { condition?: string }) => errors.push(error.condition ?? ""));
    const phone = await connect(farm.at("n3"), {
      username: "alice",
      password: "pass-alice",
      resource: "phone",
    });
    try {
      // Both resources live in n1's session manager: each sees the other's presence.
      await first.waitFor(
        "the phone's presence",
        (s) => s.is("presence") && s.attrs.from === phone.jid,
      );
      const n1 = (await readDirectory(farm)).homes.get("alice@localhost");
      assert.equal(n1, "n1");
      assert.equal((await readDirectory(farm)).sessions.get(phone.jid), "n1");
      // The same full JID again, on n2: the older session ends with conflict (RFC 6120 §7.7.2.2).
      const second = await connect(farm.at("n2"), {
        username: "alice",
        password: "pass-alice",
        resource: "desk",
      });
      try {
        assert.equal(second.jid, first.jid);
        await waitFor(() => errors.includes("conflict"), "the conflict stream error");
        await phone.send(chat(second.jid, "still one desk"));
        const got = await second.waitFor("the message to the desk", (s) => s.is("message"));
        assert.equal(got.getChildText("body", NS_CLIENT), "still one desk");
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await phone.stop();
    }
  });
});

Deno.test("Issue 13 R46 a node stopped: its users' contacts get unavailable presence, and messages to them go offline and arrive at the next login", async () => {
  await withFarm(sharedKv, async (farm) => {
    const clients = await users(farm, [["alice", "n1"], ["bob", "n2"]]);
    const [alice, bob] = clients;
    try {
      await befriend(alice, bob);
      const bobJid = bob.jid;
      await farm.stop("n2");
      await alice.waitFor(
        "bob's unavailable presence",
        (s) => s.is("presence") && s.attrs.from === bobJid && s.attrs.type === "unavailable",
      );
      await waitFor(
        () =>
          farm.nodes.get("n1")!.server.sections()
            .find((s) => s.id === "farm-n1")!.hosts.includes("c2s-n2") === false,
        "n1 to stop routing to n2",
      );
      await alice.send(chat(bob.bare, "while you were away"));
      await farm.nodes.get("n1")!.settle();
      const again = await connect(farm.at("n3"), { username: "bob", password: "pass-bob" });
      clients.push(again);
      const stored = await again.waitFor("the offline message", (s) => s.is("message"));
      assert.equal(stored.getChildText("body", NS_CLIENT), "while you were away");
    } finally {
      await stopAll(clients);
    }
  });
});

Deno.test("Issue 13 R43 R45 a node that dies: packets for it are handled here, and one survivor sends unavailable presence for its sessions", async () => {
  await withFarm(sharedKv, async (farm) => {
    const clients = await users(farm, [["alice", "n1"], ["bob", "n2"]]);
    const [alice, bob] = clients;
    try {
      await befriend(alice, bob);
      await bob.stop();
      await alice.waitFor(
        "bob's logout",
        (s) => s.is("presence") && s.attrs.from === bob.jid && s.attrs.type === "unavailable",
      );
      // A node "ghost" holds bob's session, then dies without a word (as with SIGKILL): it
      // heartbeats and writes its directory entries, but never subscribes to its subject.
      const names = new FarmNames(farm.name);
      const link = await new NatsClientAdapter().connect({ servers: [farm.nats.url] });
      try {
        const nodes = await link.bucket(names.nodes, { maxAgeMs: TTL_MS });
        const info = { id: "ghost", sections: ["c2s-ghost"], shared: [], started: Date.now() };
        await nodes.put(escapeKey("ghost"), JSON.stringify(info));
        const homes = await link.bucket(names.homes);
        const sessions = await link.bucket(names.sessions);
        const home = await homes.get(bareKey("bob@localhost"));
        if (home) await homes.delete(bareKey("bob@localhost"), home.revision);
        assert.ok(await homes.create(bareKey("bob@localhost"), "ghost"));
        await sessions.put(fullKey("bob@localhost/lost"), "ghost");
        await waitFor(() =>
          farm.nodes.get("n1")!.server.sections()
            .find((s) => s.id === "farm-n1")!.hosts.includes("c2s-ghost"), "n1 to see the ghost");
        // Its home answers nobody: the message is kept here, in offline storage (R43).
        await alice.send(chat(bob.bare, "to a dead home"));
        // No more heartbeats: after the ttl one survivor takes the loss (R45).
        const unavailable = await alice.waitFor(
          "unavailable presence of the lost session",
          (s) =>
            s.is("presence") && s.attrs.from === "bob@localhost/lost" &&
            s.attrs.type === "unavailable",
        );
        assert.equal(unavailable.attrs.to, alice.bare);
        // Exactly one survivor took it (the loss record is created once).
        await waitFor(() => farm.logs().includes("took the loss of node ghost"), "the loss");
        assert.equal(farm.logs().split("took the loss of node ghost").length, 2);
        // Then its directory entries are deleted.
        for (
          let round = 0;
          (await readDirectory(farm)).sessions.has("bob@localhost/lost");
          round++
        ) {
          if (round === 100) throw new Error("The lost node's session entry stayed");
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const again = await connect(farm.at("n3"), { username: "bob", password: "pass-bob" });
        clients.push(again);
        const stored = await again.waitFor("the offline message", (s) => s.is("message"));
        assert.equal(stored.getChildText("body", NS_CLIENT), "to a dead home");
        const directory = await readDirectory(farm);
        assert.equal(directory.homes.get("bob@localhost"), "n3");
        assert.equal(directory.sessions.get("bob@localhost/lost"), undefined);
      } finally {
        await link.close();
      }
    } finally {
      await stopAll(clients);
    }
  });
});

Deno.test("Issue 13 R41 R42 the farm on a PostgreSQL XDB: users on two nodes chat, subscribe and get offline messages", async () => {
  const postgres = await startPostgres();
  if (typeof postgres === "string") return console.log(`skipped: ${postgres}`);
  using _ = postgres;
  await withFarm(() => postgres.url(), async (farm) => {
    const clients = await users(farm, [["alice", "n1"], ["bob", "n3"]]);
    const [alice, bob] = clients;
    try {
      await befriend(alice, bob);
      await alice.send(chat(bob.bare, "over postgres"));
      assert.equal(
        (await bob.waitFor("alice's message", (s) => s.is("message"))).getChildText(
          "body",
          NS_CLIENT,
        ),
        "over postgres",
      );
      await bob.stop();
      await alice.waitFor(
        "bob's logout",
        (s) => s.is("presence") && s.attrs.from === bob.jid && s.attrs.type === "unavailable",
      );
      await alice.send(chat(bob.bare, "stored in postgres"));
      await farm.nodes.get("n1")!.settle();
      const again = await connect(farm.at("n2"), { username: "bob", password: "pass-bob" });
      clients.push(again);
      const stored = await again.waitFor("the offline message", (s) => s.is("message"));
      assert.equal(stored.getChildText("body", NS_CLIENT), "stored in postgres");
    } finally {
      await stopAll(clients);
    }
  });
});

Deno.test("Issue 13 R44 a host some nodes share is taken by one of them per packet, and a broadcast reaches every node", async () => {
  probed.clear();
  farms.clear();
  await withFarm(sharedKv, async (farm) => {
    // n3 serves no svc.localhost: the host is routed to the farm, one of n1 and n2 per packet.
    await waitFor(
      () =>
        farm.nodes.get("n3")!.server.sections().find((s) => s.id === "farm-n3")!.hosts
          .includes("svc.localhost"),
      "n3 to route the shared host",
    );
    const n3 = farm.nodes.get("n3")!;
    for (let i = 0; i < 20; i++) {
      n3.router.deliver(
        xml("message", { to: "svc.localhost", from: "alice@localhost/r", id: `m${i}` }),
      );
    }
    const ids = () =>
      ["svc-n1", "svc-n2"].flatMap((id) => probed.get(id) ?? []).map((p) => p.element.attrs.id);
    await waitFor(() => ids().length >= 20, "the 20 packets on n1 and n2");
    await n3.settle();
    assert.deepEqual(ids().sort(), Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    // A broadcast from n1 reaches the tree of every node, n1's own included.
    farms.get("n1")!.broadcast(xml("message", { to: "all.localhost", from: "localhost", id: "b" }));
    await waitFor(
      () => NODES.every((id) => (probed.get(`all-${id}`) ?? []).length === 1),
      "the broadcast on every node",
    );
  }, (id) => ({
    farm: id === "n3" ? "" : "<share>svc.localhost</share>",
    services: `${
      id === "n3" ? "" : `<service id="svc-${id}"><host>svc.localhost</host><farm-probe/></service>`
    }
      <service id="all-${id}"><host>all.localhost</host><farm-probe/></service>`,
  }));
});

/**
 * The homes and sessions buckets as they are now (node ids, without the run), read with a client
 * of the test's own.
 */
async function readDirectory(
  farm: Farm,
): Promise<{ homes: Map<string, string>; sessions: Map<string, string> }> {
  const names = new FarmNames(farm.name);
  const link = await new NatsClientAdapter().connect({ servers: [farm.nats.url] });
  try {
    const read = async (bucket: string, decode: (key: string) => string) => {
      const values = new Map<string, string>();
      const watch = await (await link.bucket(bucket)).watch((change) => {
        if (change.value === undefined) values.delete(decode(change.key));
        else values.set(decode(change.key), parsePlacement(change.value, change.revision).node);
      });
      await watch.ready;
      watch.stop();
      return values;
    };
    return {
      homes: await read(names.homes, unescapeKey),
      sessions: await read(names.sessions, fullOfKey),
    };
  } finally {
    await link.close();
  }
}
