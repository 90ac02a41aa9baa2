/**
 * Issue 13, failure handling of the farm (docs/farm.md "Failures", ROUTING.md R41–R46) with real
 * processes: three `jabberd start` nodes, a real nats-server and a real PostgreSQL, all started by
 * each test on free loopback ports (tests/farm_processes.ts) and stopped by PID in its `finally`.
 * Clients are raw XMPP streams with XEP-0198: "acknowledged" means the sender's node answered
 * `<a h/>` for it.
 */
import assert from "node:assert/strict";
import { startNats, type ThrowawayNats } from "../src/adapters/nats/_testing.ts";
import { startPostgres, type ThrowawayPostgres } from "../src/adapters/postgres/_testing.ts";
import {
  addAccounts,
  authenticate,
  bind,
  DOMAIN,
  login,
  ProcessFarm,
  RawStream,
  sendChat,
  sleep,
  SM,
  TcpRelay,
  TTL_MS,
  until,
} from "./farm_processes.ts";

/** Why these tests cannot run here (nats-server or PostgreSQL missing), else undefined. */
async function missing(): Promise<string | undefined> {
  // Under CI both are installed (.ci/run): a missing one makes startNats/startPostgres throw.
  if (Deno.env.get("CI") === "true") return undefined;
  try {
    await new Deno.Command("nats-server", { args: ["--version"], stdout: "null" }).output();
  } catch {
    return "nats-server is not installed";
  }
  try {
    await Deno.stat("/usr/lib/postgresql");
  } catch {
    return "PostgreSQL is not installed";
  }
  return undefined;
}
const MISSING = await missing();

/** `Deno.test` for these tests: ignored, saying why, when a server program is missing. */
function farmTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: MISSING ? `${name} (skipped: ${MISSING})` : name, ignore: !!MISSING, fn });
}

/** The servers every test starts, or why they cannot run (not installed, outside CI). */
async function servers(): Promise<{ nats: ThrowawayNats; db: ThrowawayPostgres } | string> {
  const nats = await startNats();
  if (typeof nats === "string") return nats;
  const db = await startPostgres().catch(async (error) => {
    await nats.stop();
    throw error;
  });
  if (typeof db === "string") {
    await nats.stop();
    return db;
  }
  return { nats, db };
}

interface World {
  nats: ThrowawayNats;
  db: ThrowawayPostgres;
  farm: ProcessFarm;
  streams: RawStream[];
  /** Logs in and keeps the stream for the cleanup. */
  login(node: string, user: string, resource: string): Promise<RawStream>;
}

/**
 * Runs `body` against a farm of nodes `ids` whose accounts are `groups` (everyone of a group has
 * the others as contacts); stops every stream, node and server afterwards, by PID.
 */
async function withFarm(
  name: string,
  ids: string[],
  groups: string[][],
  body: (world: World) => Promise<void>,
  natsFor?: (nats: ThrowawayNats) => Promise<Record<string, string>>,
  ttlMs?: number,
): Promise<void> {
  const started = await servers();
  if (typeof started === "string") {
    console.log(`skipped: ${started}`);
    return;
  }
  const { nats, db } = started;
  let farm: ProcessFarm | undefined;
  const streams: RawStream[] = [];
  try {
    const options = {
      name,
      nats: nats.url,
      natsFor: await natsFor?.(nats),
      db: db.url(),
      ttlMs,
    };
    farm = await ProcessFarm.start(ids, options);
    await addAccounts(farm.node(ids[0]).config, groups);
    const world: World = {
      nats,
      db,
      farm,
      streams,
      async login(node, user, resource) {
        const stream = await login(farm!.node(node).port, user, resource);
        streams.push(stream);
        return stream;
      },
    };
    await body(world).catch((error) => {
      throw new Error(`${error?.stack ?? error}\n${farm!.output}`);
    });
  } finally {
    for (const stream of streams) stream.close();
    await farm?.stop();
    await nats.stop();
    db.stop();
  }
}

const presence = (from: string, type?: string) =>
  new RegExp(
    `<presence(?=[^>]*from=['"]${from.replace(/[.]/g, "\\.")}['"])` +
      (type ? `(?=[^>]*type=['"]${type}['"])` : `(?![^>]*type=)`),
  );

/** The first `count` of `prefix-0`, `prefix-1`, … */
const numbered = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

/** Asks for an ack and waits until the node acknowledged every stanza sent after `<enable/>`. */
async function allAcked(stream: RawStream, stanzas: number): Promise<void> {
  stream.send(`<r xmlns='${SM}'/>`);
  await until(() => stream.acked >= stanzas, 20_000, `${stream.name}: ${stanzas} acknowledged`);
}

farmTest(
  "Item 1: a node killed with SIGKILL mid-traffic: nothing acknowledged is lost, its users' contacts get unavailable presence, messages to them go offline, and its clients log in again on another node",
  async () => {
    await withFarm("item1", ["n1", "n2", "n3"], [["alice", "bob", "carol"]], async (w) => {
      const alice = await w.login("n1", "alice", "a");
      const bob = await w.login("n2", "bob", "b");
      const carol = await w.login("n3", "carol", "c");
      await alice.saw(presence(`bob@${DOMAIN}/b`));
      await alice.saw(presence(`carol@${DOMAIN}/c`));
      await carol.saw(presence(`bob@${DOMAIN}/b`));
      // Traffic both ways across the three nodes; then n2 (bob's node) is killed mid-traffic,
      // and alice and carol keep writing to bob.
      const rounds = 60, killAt = 30;
      let killed = 0;
      for (let i = 0; i < rounds; i++) {
        sendChat(alice, `bob@${DOMAIN}`, `a2b-${i}`);
        sendChat(carol, `bob@${DOMAIN}/b`, `c2b-${i}`);
        sendChat(alice, `carol@${DOMAIN}`, `a2c-${i}`);
        if (i < killAt) sendChat(bob, `alice@${DOMAIN}/a`, `b2a-${i}`);
        if (i === killAt) {
          await w.farm.node("n2").kill("SIGKILL");
          killed = Date.now();
        }
        await sleep(20);
      }
      // Alice and carol each sent initial presence and their messages after <enable/>.
      await allAcked(alice, 1 + 2 * rounds);
      await allAcked(carol, 1 + rounds);
      // Bob's node acknowledged some of his before it died; those must not be lost.
      const bobAcked = Math.max(0, bob.acked - 1);
      await until(() => bob.closed, 5_000, "bob's connection to end with his node");
      await alice.saw(presence(`bob@${DOMAIN}/b`, "unavailable"), 4 * TTL_MS);
      const unavailableAfter = Date.now() - killed;
      await carol.saw(presence(`bob@${DOMAIN}/b`, "unavailable"), 4 * TTL_MS);
      console.log(`contacts got bob's unavailable presence ${unavailableAfter} ms after the kill`);
      // Messages to bob now go offline: one more from alice after the loss.
      sendChat(alice, `bob@${DOMAIN}`, "a2b-late");
      await allAcked(alice, 2 + 2 * rounds);
      // Bob's client reconnects to n3: resuming his n2 session there fails (not built), so it
      // logs in again and gets what was stored offline for him.
      const resume = await authenticate(w.farm.node("n3").port, "bob", "bob resuming");
      w.streams.push(resume);
      resume.send(`<resume xmlns='${SM}' previd='${bob.resumeId}' h='0'/>`);
      await resume.next(/<failed [^>]*>/, 10_000, /<stream:error/);
      const aliceFrom = alice.transcript.length;
      const toBob = [...numbered("a2b", rounds), ...numbered("c2b", rounds), "a2b-late"];
      // A message whose forward failed is stored by its sender's node when that finishes, which
      // may be after bob's next login (storage is not ordered with a login on another node):
      // then it comes at the login after. At most three logins.
      const logins: RawStream[] = [];
      const received = () => new Set([bob, ...logins].flatMap((stream) => stream.bodies()));
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) {
          logins[attempt - 1].send("</stream:stream>");
          await until(() => logins[attempt - 1].closed, 10_000, "bob's stream to close");
        }
        logins.push(await w.login("n3", "bob", "b"));
        const done = await until(() => toBob.every((body) => received().has(body)), 6_000, "")
          .then(() => true, () => false);
        if (done) break;
      }
      const missing = toBob.filter((body) => !received().has(body));
      assert.deepEqual(missing, [], "every acknowledged message to bob was delivered");
      const bobAgain = logins[logins.length - 1];
      const live = toBob.filter((body) => bob.bodies().includes(body)).length;
      const all = [bob, ...logins].flatMap((stream) => stream.bodies());
      console.log(
        `to bob: ${live} delivered live on n2, ${toBob.length - live} from offline storage ` +
          `in ${logins.length} login(s) on n3, ${all.length - new Set(all).size} twice`,
      );
      assert.ok(!bob.bodies().includes("a2b-late"), "the message after the loss went offline");
      await until(
        () => numbered("b2a", bobAcked).every((body) => alice.bodies().includes(body)),
        10_000,
        `bob's ${bobAcked} acknowledged messages reached alice`,
      );
      await until(
        () => numbered("a2c", rounds).every((body) => carol.bodies().includes(body)),
        10_000,
        "alice's messages to carol, on the surviving nodes, all arrived",
      );
      // Bob is back, on n3: his contacts see him, and chat works.
      await alice.saw(presence(`bob@${DOMAIN}/b`), 10_000, aliceFrom);
      sendChat(alice, `bob@${DOMAIN}/b`, "a2b-again");
      await bobAgain.saw(/a2b-again/);
      for (const id of ["n1", "n3"]) assert.ok(w.farm.node(id).running, `${id} still runs`);
    });
  },
);

farmTest(
  "Item 1: a node killed and started again within the ttl: its earlier run is lost (contacts get unavailable presence, its entries go) and its new run's sessions stay",
  async () => {
    // A ttl longer than a node's start, so the new run heartbeats before the old one expires.
    const ttlMs = 8000;
    await withFarm(
      "item1restart",
      ["n1", "n2"],
      [["alice", "bob"]],
      async (w) => {
        const alice = await w.login("n1", "alice", "a");
        await w.login("n2", "bob", "b");
        await alice.saw(presence(`bob@${DOMAIN}/b`));
        const from = alice.transcript.length;
        const killed = Date.now();
        await w.farm.node("n2").kill("SIGKILL");
        await w.farm.node("n2").start();
        // The new run's heartbeat ends the old run at once, not a ttl after the kill.
        await alice.saw(presence(`bob@${DOMAIN}/b`, "unavailable"), 4 * ttlMs, from);
        console.log(`bob's old session ended for alice ${Date.now() - killed} ms after the kill`);
        assert.match(w.farm.node("n1").output, /took the loss of node n2 \(1 sessions\)/);
        // Bob logs in on the new run: alice sees him, and they chat.
        const before = alice.transcript.length;
        const bobAgain = await w.login("n2", "bob", "b");
        await alice.saw(presence(`bob@${DOMAIN}/b`), 10_000, before);
        sendChat(alice, `bob@${DOMAIN}`, "to-new-run");
        await bobAgain.saw(/to-new-run/);
        sendChat(bobAgain, `alice@${DOMAIN}/a`, "from-new-run");
        await alice.saw(/from-new-run/);
        // Once the old run would have expired too, nothing of the new run is taken away.
        await sleep(ttlMs + 1000);
        const late = alice.transcript.length;
        sendChat(alice, `bob@${DOMAIN}/b`, "still-there");
        await bobAgain.saw(/still-there/);
        assert.doesNotMatch(
          alice.transcript.slice(late),
          presence(`bob@${DOMAIN}/b`, "unavailable"),
        );
        assert.equal((w.farm.node("n1").output.match(/took the loss of node n2/g) ?? []).length, 1);
      },
      undefined,
      ttlMs,
    );
  },
);

farmTest(
  "Item 2: NATS restarted: nodes reconnect, the directory is rebuilt, chat works again across nodes, and what was sent during the outage is stored offline, none lost",
  async () => {
    await withFarm("item2", ["n1", "n2", "n3"], [["alice", "bob", "dave"]], async (w) => {
      const alice = await w.login("n1", "alice", "a");
      const bob = await w.login("n2", "bob", "b");
      await alice.saw(presence(`bob@${DOMAIN}/b`));
      sendChat(alice, `bob@${DOMAIN}`, "before");
      await bob.saw(/before/);
      const pids = ["n1", "n2", "n3"].map((id) => w.farm.node(id).pid);
      // NATS down for two ttls: longer than any node may be silent before it counts as lost.
      await w.nats.kill();
      const down = Date.now();
      const during = numbered("during", 5);
      for (const body of during) {
        sendChat(alice, `bob@${DOMAIN}`, body);
        await sleep(200);
      }
      await sleep(Math.max(0, 2 * TTL_MS - (Date.now() - down)));
      await w.nats.restart();
      await until(
        () =>
          ["n1", "n2", "n3"].every((id) => /connected to NATS again/.test(w.farm.node(id).output)),
        15_000,
        "every node reconnected to NATS",
      );
      // Chat across nodes works again, both ways. The nodes come back one after another: a
      // message sent before bob's node subscribed again is stored offline like those above, so
      // alice writes until one arrives live (at most 20).
      const after: string[] = [];
      for (let i = 0; i < 20 && !after.some((body) => bob.bodies().includes(body)); i++) {
        after.push(`after-${i}`);
        sendChat(alice, `bob@${DOMAIN}`, after[i]);
        await bob.saw(new RegExp(`>${after[i]}<`), 1_000).catch(() => {});
      }
      assert.ok(after.some((body) => bob.bodies().includes(body)), "chat works again");
      sendChat(bob, `alice@${DOMAIN}/a`, "after-back");
      await alice.saw(/after-back/, 15_000);
      // The directory was rebuilt: a login made after the outage, on the third node, finds
      // bob's home (made before it) and bob finds it.
      const dave = await w.login("n3", "dave", "d");
      await dave.saw(presence(`bob@${DOMAIN}/b`));
      sendChat(dave, `bob@${DOMAIN}`, "d2b");
      await bob.saw(/d2b/);
      sendChat(bob, `dave@${DOMAIN}/d`, "b2d");
      await dave.saw(/b2d/);
      // Everything alice sent was acknowledged by n1: presence, before, during, after.
      await allAcked(alice, 2 + during.length + after.length);
      const afterStored = after.filter((body) => !bob.bodies().includes(body));
      // During the outage n1 could not reach bob's node: it kept each message for the ttl (the
      // client buffers it), then stored it offline. Bob gets them at his next login.
      assert.deepEqual(during.filter((body) => bob.bodies().includes(body)), []);
      bob.send("</stream:stream>");
      await until(() => bob.closed, 10_000, "bob's stream to close");
      const bobAgain = await w.login("n2", "bob", "b");
      await until(
        () => [...during, ...afterStored].every((body) => bobAgain.bodies().includes(body)),
        15_000,
        () => `bob's offline messages from the outage; got ${bobAgain.bodies()}`,
      );
      // Nobody was taken for lost: no node saw NATS while the others were silent.
      assert.doesNotMatch(w.farm.output, /took the loss|took this node for lost/);
      assert.deepEqual(["n1", "n2", "n3"].map((id) => w.farm.node(id).pid), pids);
      for (const id of ["n1", "n2", "n3"]) assert.ok(w.farm.node(id).running, `${id} runs`);
    });
  },
);

farmTest(
  "Item 2: a node cut off from NATS longer than the ttl is taken for lost; when it is back it ends its sessions and joins again, and its users log in again and chat",
  async () => {
    let relay: TcpRelay | undefined;
    try {
      await withFarm(
        "item2cut",
        ["n1", "n2", "n3"],
        [["alice", "carol"]],
        async (w) => {
          const alice = await w.login("n1", "alice", "a");
          const carol = await w.login("n3", "carol", "c");
          await alice.saw(presence(`carol@${DOMAIN}/c`));
          sendChat(alice, `carol@${DOMAIN}`, "before");
          await carol.saw(/before/);
          // Only n3 loses NATS; n1 and n2 see it silent and take its loss.
          relay!.cut();
          await alice.saw(presence(`carol@${DOMAIN}/c`, "unavailable"), 4 * TTL_MS);
          relay!.restore();
          // Back on NATS, n3 learns it was taken for lost and ends carol's session.
          const error = await carol.saw(/<stream:error>[^]*?<\/stream:error>/, 15_000);
          assert.match(error, /system-shutdown/);
          assert.match(w.farm.node("n3").output, /took this node for lost/);
          // Carol logs in again on n3 (a new run of it): alice sees her, and they chat.
          const from = alice.transcript.length;
          const carolAgain = await w.login("n3", "carol", "c");
          await alice.saw(presence(`carol@${DOMAIN}/c`), 10_000, from);
          sendChat(alice, `carol@${DOMAIN}`, "after");
          await carolAgain.saw(/after/);
          sendChat(carolAgain, `alice@${DOMAIN}/a`, "after-back");
          await alice.saw(/after-back/);
          for (const id of ["n1", "n2", "n3"]) assert.ok(w.farm.node(id).running, `${id} runs`);
        },
        (nats) => {
          relay = new TcpRelay(nats.port);
          return Promise.resolve({ n3: `nats://127.0.0.1:${relay.port}` });
        },
      );
    } finally {
      relay?.cut();
    }
  },
);

/** Starts a login of `user` up to SASL's answer: the `<success/>`, `<failure>` or stream error. */
async function saslAnswer(port: number, user: string): Promise<string> {
  const stream = await RawStream.connect(`${user} (outage)`, port);
  try {
    stream.send(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
        `xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`,
    );
    await stream.next(/<\/stream:features>/);
    stream.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${
        btoa(`\0${user}\0pw-${user}`)
      }</auth>`,
    );
    return await stream.next(
      /<success\b[^>]*(\/>|>[^]*?<\/success>)|<failure\b[^]*?<\/failure>|<stream:error>[^]*?<\/stream:error>/,
      30_000,
      /(?!)/,
    );
  } finally {
    stream.close();
  }
}

farmTest(
  "Item 3: the database restarted: logins during the outage fail cleanly with temporary-auth-failure, nodes recover without restart, and nothing acknowledged before the outage is lost (stored, or bounced to its sender)",
  async () => {
    await withFarm("item3", ["n1", "n2", "n3"], [["alice", "bob", "erin", "frank"]], async (w) => {
      const alice = await w.login("n1", "alice", "a");
      const bob = await w.login("n2", "bob", "b");
      await alice.saw(presence(`bob@${DOMAIN}/b`));
      // Acknowledged before the outage: messages stored offline for erin (never logged in), then
      // a ping answered after them (the server's answer follows the stored messages).
      const stored = numbered("stored", 5);
      for (const body of stored) sendChat(alice, `erin@${DOMAIN}`, body);
      alice.send(`<iq type='get' id='barrier' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await alice.next(/<iq [^>]*id='barrier'/);
      // Only acknowledged by XEP-0198 (`<a h/>` counts what the node took, not what it stored)
      // when the database stops: each is stored, or bounced to alice with an error.
      const raced = numbered("raced", 5);
      for (const body of raced) sendChat(alice, `erin@${DOMAIN}`, body);
      await allAcked(alice, 2 + stored.length + raced.length);
      const pids = ["n1", "n2", "n3"].map((id) => w.farm.node(id).pid);
      await w.db.halt();
      try {
        // A login needs the account's credentials from XDB: it fails, and says why.
        const answer = await saslAnswer(w.farm.node("n2").port, "frank");
        assert.match(answer, /<failure[^]*<temporary-auth-failure\/>/);
        // Sessions already open go on: a message between two online users needs no storage.
        sendChat(alice, `bob@${DOMAIN}`, "during");
        await bob.saw(/during/);
      } finally {
        await w.db.resume();
      }
      for (const id of ["n1", "n2", "n3"]) {
        // The PostgreSQL driver throws from a timer when the database stops with a write pending;
        // the adapter keeps that error in and replaces its pool (docs/runtime-notes.md
        // "PostgreSQL"), so a node that died here points at that guard.
        assert.ok(w.farm.node(id).running, `node ${id} survived the database outage`);
      }
      // Recovered without a restart: frank logs in (the pool connects again).
      const frank = await until(
        () => w.login("n2", "frank", "f").catch(() => undefined),
        20_000,
        "frank to log in after the database is back",
      );
      await frank.saw(presence(`alice@${DOMAIN}/a`));
      // Erin gets what was stored for her before the outage.
      const erin = await w.login("n3", "erin", "e");
      await until(
        () => stored.every((body) => erin.bodies().includes(body)),
        15_000,
        () => `erin's offline messages; got ${erin.bodies()}`,
      );
      const bounced = (body: string) =>
        new RegExp(`<message id='${body}'[^>]*type='error'`).test(alice.transcript);
      await until(
        () => raced.every((body) => erin.bodies().includes(body) || bounced(body)),
        15_000,
        () => `each raced message stored or bounced; erin got ${erin.bodies()}`,
      );
      console.log(
        `raced with the outage: ${raced.filter((body) => erin.bodies().includes(body)).length}` +
          ` stored, ${raced.filter(bounced).length} bounced to the sender`,
      );
      for (const id of ["n1", "n2", "n3"]) assert.ok(w.farm.node(id).running, `${id} runs`);
      assert.deepEqual(["n1", "n2", "n3"].map((id) => w.farm.node(id).pid), pids);
    });
  },
);

/**
 * Binds `resource` on every stream at once; when all answered (bound, refused or ended) and
 * things settled, answers the streams still holding a session (bound, open, no stream error).
 */
async function bindAtOnce(
  streams: RawStream[],
  resource: string,
  meanwhile: () => Promise<void> = () => Promise.resolve(),
): Promise<RawStream[]> {
  const binds = streams.map((stream) => bind(stream, resource).then(() => true, () => false));
  await meanwhile();
  await Promise.all(binds);
  // Long enough for a loss to be taken and a conflict to travel.
  await sleep(3 * TTL_MS);
  return streams.filter((stream) =>
    !stream.closed && /<\/jid>/.test(stream.transcript) && !/<stream:error/.test(stream.transcript)
  );
}

farmTest(
  "Item 4: no split-brain: the same full JID logging in on two nodes at the same moment ends with one session, the older gets conflict, also when the home's node is killed during the logins",
  async () => {
    await withFarm("item4", ["n1", "n2", "n3"], [["alice", "xavier", "yves"]], async (w) => {
      const alice = await w.login("n1", "alice", "a");
      const port = (id: string) => w.farm.node(id).port;
      const tracked = async (id: string, user: string) => {
        const stream = await authenticate(port(id), user, `${user} on ${id}`);
        w.streams.push(stream);
        return stream;
      };
      // Xavier has no home yet: both nodes race to claim it.
      const xavier = [await tracked("n1", "xavier"), await tracked("n2", "xavier")];
      const left = await bindAtOnce(xavier, "r");
      assert.equal(left.length, 1, `one session of xavier/r: ${xavier.map((s) => s.transcript)}`);
      const loser = xavier.find((stream) => stream !== left[0])!;
      await loser.saw(/<stream:error>[^]*?<conflict/);
      sendChat(alice, `xavier@${DOMAIN}/r`, "to-xavier");
      await left[0].saw(/to-xavier/);
      assert.doesNotMatch(loser.transcript, /to-xavier/);

      // Yves's home is n3, which is killed while yves/r logs in on n1 and n2.
      const home = await w.login("n3", "yves", "home");
      await alice.saw(presence(`yves@${DOMAIN}/home`));
      const yves = [await tracked("n1", "yves"), await tracked("n2", "yves")];
      const survivors = await bindAtOnce(yves, "r", () => w.farm.node("n3").kill("SIGKILL"));
      await until(() => home.closed, 5_000, "yves/home to end with n3");
      const outcome = yves.map((stream) =>
        /<conflict/.test(stream.transcript)
          ? "conflict"
          : /<\/jid>/.test(stream.transcript)
          ? (stream.closed ? "bound, then closed" : "bound")
          : stream.closed
          ? "closed before binding"
          : "not bound"
      );
      console.log(`yves/r on n1 and n2 while n3 died: ${outcome.join(", ")}`);
      assert.equal(survivors.length, 1, `one session of yves/r: ${outcome}`);
      sendChat(alice, `yves@${DOMAIN}/r`, "to-yves");
      await survivors[0].saw(/to-yves/);
      // Available now (initial presence): a message to the bare JID reaches it too.
      survivors[0].send("<presence/>");
      await alice.saw(presence(`yves@${DOMAIN}/r`));
      sendChat(alice, `yves@${DOMAIN}`, "to-yves-bare");
      await survivors[0].saw(/to-yves-bare/);
      const other = yves.find((stream) => stream !== survivors[0])!;
      assert.doesNotMatch(other.transcript, /to-yves/);
    });
  },
);
