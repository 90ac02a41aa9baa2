/**
 * `jabberd start --nodes 2` as real processes (README "Running a farm"): a supervisor, two node
 * processes sharing the client port with SO_REUSEPORT, and the nats-server the supervisor starts
 * because none answers at the config's loopback URL, all in a temp folder on free ports. Clients
 * land on both nodes (the kernel picks; /proc tells which, bench/farm_placement.ts) and chat
 * across them; a node killed with SIGKILL is started again; SIGTERM stops everything. Every
 * process a test sees started is killed by PID in its `finally` if it is still there.
 */
import assert from "node:assert/strict";
import { Client } from "../bench/compare/client.ts";
import { freePort } from "../bench/compare/servers.ts";
import { nodesOfClients } from "../bench/farm_placement.ts";
import { needs, type Peer } from "./interop/peers.ts";
import { DenoProcess } from "../src/adapters/deno/process.ts";

/** `main.ts ARGS` as the server starts itself: the running Deno, the server's V8 flags. */
const jabberdCommand = (args: string[]) => new DenoProcess().selfCommand(args);
const DOMAIN = "localhost";

async function natsServer(): Promise<Peer> {
  try {
    const { success } = await new Deno.Command("nats-server", { args: ["--version"] }).output();
    if (success) return { name: "nats-server", missing: undefined };
  } catch {
    // Not installed.
  }
  return { name: "nats-server", missing: "nats-server (Debian package nats-server)" };
}
const NATS = await natsServer();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a failure saying what was awaited after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function isAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** A farm config with the c2s port and NATS port of this test. */
function farmXml(c2sPort: number, natsPort: number): string {
  return `<jabberd>
  <pidfile>data/jabberd.pid</pidfile>
  <service id="farm-\${JABBERD_NODE}">
    <farm><node>\${JABBERD_NODE}</node><nats>nats://127.0.0.1:${natsPort}</nats>
      <heartbeat>500ms</heartbeat><ttl>2s</ttl></farm>
  </service>
  <service id="c2s-\${JABBERD_NODE}">
    <c2s xmlns="jabberd:config:c2s">
      <domain>${DOMAIN}</domain>
      <listen port="${c2sPort}" address="127.0.0.1"/>
      <require-encryption enabled="false"/>
      <plain allow-unencrypted="true"/>
      <scram iterations="4096"/>
    </c2s>
  </service>
  <service id="sessions">
    <host>${DOMAIN}</host>
    <!-- No archive writes: two processes on one Deno KV file cannot both write (a farm's
         storage is PostgreSQL, docs/runtime-notes.md); these tests are about the processes. -->
    <sm xmlns="jabberd:config:sm"><mam default="never"/></sm>
  </service>
  <xdb id="xdb"><host/><kv>data/jabberd.kv</kv></xdb>
</jabberd>
`;
}

/** A running `jabberd start --nodes 2`, its output collected as it comes. */
class Farm {
  readonly child: Deno.ChildProcess;
  output = "";
  readonly #done: Promise<void>;
  /** Every pid the output named (nodes, nats-server), for the cleanup. */
  readonly seen = new Set<number>();

  constructor(readonly dir: string, readonly c2sPort: number) {
    const { command, args } = jabberdCommand(["start", "-c", "farm.xml", "--nodes", "2"]);
    this.child = new Deno.Command(command, {
      args,
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const read = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.output += decoder.decode(value, { stream: true });
        for (const match of this.output.matchAll(/\(pid (\d+)\)/g)) this.seen.add(Number(match[1]));
      }
    };
    this.#done = Promise.all([read(this.child.stdout), read(this.child.stderr)]).then(() => {});
  }

  /** Waits (at most 60 s) until the output matches; returns the match. */
  async waitFor(pattern: RegExp, from = 0): Promise<RegExpMatchArray> {
    for (let waited = 0; waited < 60_000; waited += 50) {
      const match = this.output.slice(from).match(pattern);
      if (match) return match;
      await sleep(50);
    }
    throw new Error(`Timed out waiting for ${pattern} in:\n${this.output}`);
  }

  /** The pid of node `id` as the supervisor last reported it. */
  nodePid(id: string): number {
    const all = [...this.output.matchAll(new RegExp(`Started node ${id} \\(pid (\\d+)\\)`, "g"))];
    assert.ok(all.length > 0, `node ${id} was started`);
    return Number(all[all.length - 1][1]);
  }

  natsPid(): number {
    return Number(this.output.match(/started nats-server \(pid (\d+)\)/)![1]);
  }

  async exited(): Promise<number> {
    const status = await within(this.child.status, 90_000, "the supervisor to exit");
    await this.#done;
    return status.code;
  }

  /** Kills whatever of it still runs, by PID (a test's `finally`). */
  async cleanUp(): Promise<void> {
    for (const pid of [this.child.pid, ...this.seen]) {
      if (!isAlive(pid)) continue;
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    await this.child.status;
    await this.#done;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Runs `main.ts COMMAND -c farm.xml` in `dir` to its end (as node n1 reads the config). */
async function jabberd(dir: string, args: string[]) {
  const command = jabberdCommand([...args, "-c", "farm.xml"]);
  const { code, stdout, stderr } = await new Deno.Command(command.command, {
    args: command.args,
    cwd: dir,
    env: { NO_COLOR: "1", JABBERD_NODE: "n1" },
    stdin: "null",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

/** Adds accounts with `jabberd user add` (as node n1 reads the config), then starts the farm. */
async function startFarm(users: string[]): Promise<Farm> {
  const dir = await Deno.makeTempDir({ prefix: "farm-nodes-" });
  const c2sPort = freePort();
  await Deno.writeTextFile(`${dir}/farm.xml`, farmXml(c2sPort, freePort()));
  for (const user of users) {
    const add = jabberdCommand(["user", "add", `${user}@${DOMAIN}`, "--password", `pw-${user}`]);
    const { code, stderr } = await new Deno.Command(add.command, {
      args: add.args,
      cwd: dir,
      env: { NO_COLOR: "1", JABBERD_NODE: "n1", JABBERD_CONFIG: "farm.xml" },
      stdin: "null",
      stdout: "null",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  }
  const farm = new Farm(dir, c2sPort);
  await farm.waitFor(/All 2 node\(s\) are up/);
  return farm;
}

/** Logs `user` in with SASL PLAIN and binds `resource`; sends initial presence. */
async function login(port: number, user: string, resource: string): Promise<Client> {
  const client = await Client.connect(port);
  const bad = ["<failure", "stream:error"];
  const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
    `xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`;
  try {
    client.send(header);
    await within(client.expect("features>", ...bad), 10_000, "stream features");
    client.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${
        btoa(`\0${user}\0pw-${user}`)
      }</auth>`,
    );
    await within(client.expect("<success", ...bad), 10_000, `${user} authenticated`);
    client.send(header);
    await within(client.expect("features>", ...bad), 10_000, "stream features after SASL");
    client.send(
      `<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
        `<resource>${resource}</resource></bind></iq>`,
    );
    await within(client.expect("</jid>", ...bad), 10_000, `${user} bound`);
    client.send("<presence/>");
    await within(client.expect("<presence", ...bad), 10_000, `${user}'s presence echoed`);
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

/** The pid of the node holding `client`'s connection. */
function nodeOf(farm: Farm, client: Client, pids: number[]): number | undefined {
  const port = (client.conn.localAddr as Deno.NetAddr).port;
  return nodesOfClients(farm.c2sPort, [port], pids)[0];
}

/**
 * Logs `user` in until the kernel put the connection on node `wanted` (each try lands on either
 * node; 30 tries all missing it would happen once in 2^30 runs).
 */
async function loginOn(
  farm: Farm,
  user: string,
  resource: string,
  wanted: number,
  pids: number[],
): Promise<Client> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const client = await login(farm.c2sPort, user, resource);
    if (nodeOf(farm, client, pids) === wanted) return client;
    client.send("</stream:stream>");
    client.close();
    await sleep(100); // the session ends before the next login of the same resource
  }
  throw new Error(`${user} never landed on pid ${wanted} in 30 logins`);
}

Deno.test(needs(
  NATS,
  "jabberd start --nodes 2 runs two nodes sharing the client port; clients on both nodes chat across them; SIGTERM stops the nodes and the local nats-server and exits 0",
  async () => {
    const farm = await startFarm(["alice", "bob"]);
    const clients: Client[] = [];
    try {
      const n1 = farm.nodePid("n1"), n2 = farm.nodePid("n2"), nats = farm.natsPid();
      assert.ok(isAlive(n1) && isAlive(n2) && isAlive(nats));
      assert.match(farm.output, /No NATS server answered at nats:\/\/127\.0\.0\.1:\d+: started/);
      const alice = await loginOn(farm, "alice", "phone", n1, [n1, n2]);
      const bob = await loginOn(farm, "bob", "laptop", n2, [n1, n2]);
      clients.push(alice, bob);
      // Alice on n1 writes to Bob's bare JID; Bob on n2 answers to her full JID.
      alice.send(
        `<message to='bob@${DOMAIN}' type='chat' id='m1'><body>hello from n1</body></message>`,
      );
      const toBob = await within(bob.expect("</message>"), 15_000, "bob's message");
      assert.match(toBob, /hello from n1/);
      assert.match(toBob, /from=["']alice@localhost\/phone["']/);
      bob.send(
        `<message to='alice@${DOMAIN}/phone' type='chat' id='m2'><body>hi from n2</body></message>`,
      );
      const toAlice = await within(alice.expect("</message>"), 15_000, "alice's message");
      assert.match(toAlice, /hi from n2/);
      for (const client of clients) client.close();
      farm.child.kill("SIGTERM");
      assert.equal(await farm.exited(), 0, farm.output);
      for (const pid of [n1, n2, nats]) assert.ok(!isAlive(pid), `pid ${pid} stopped`);
      assert.match(farm.output, /Stopping nats-server/);
      assert.ok(!(await Deno.stat(`${farm.dir}/data/jabberd.pid`).catch(() => false)), "pidfile");
    } finally {
      for (const client of clients) client.close();
      await farm.cleanUp();
    }
  },
));

Deno.test(needs(
  NATS,
  "jabberd start --nodes 2 restarts a node killed with SIGKILL, which then takes connections again; jabberd status and stop work through the supervisor's pidfile",
  async () => {
    const farm = await startFarm(["carol"]);
    try {
      const before = farm.nodePid("n2");
      const mark = farm.output.length;
      Deno.kill(before, "SIGKILL");
      await farm.waitFor(/Node n2 \(pid \d+\) exited with code 137; restarting it in 1 s/, mark);
      await farm.waitFor(/Started node n2 \(pid \d+\)/, mark);
      const after = farm.nodePid("n2");
      assert.notEqual(after, before);
      assert.ok(isAlive(farm.nodePid("n1")), "the other node ran on");
      // The new n2 shares the port again: a login lands on it.
      await farm.waitFor(/\[n2\] .*c2s: listening on/, mark);
      const carol = await loginOn(farm, "carol", "desk", after, [farm.nodePid("n1"), after]);
      carol.close();
      // The supervisor holds the pidfile: status names it, stop stops the whole farm.
      const status = await jabberd(farm.dir, ["status"]);
      assert.match(status.stdout, new RegExp(`running as pid ${farm.child.pid}\\b`));
      const stop = await jabberd(farm.dir, ["stop"]);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(await farm.exited(), 0, farm.output);
      assert.ok(!isAlive(after) && !isAlive(farm.natsPid()));
    } finally {
      await farm.cleanUp();
    }
  },
));

Deno.test(needs(
  NATS,
  "jabberd start --nodes 2: nodes whose supervisor was killed with SIGKILL stop by themselves",
  async () => {
    const farm = await startFarm([]);
    try {
      const nodes = [farm.nodePid("n1"), farm.nodePid("n2")];
      farm.child.kill("SIGKILL");
      await farm.child.status;
      // Their standard input (the supervisor's pipe) ended: each stops cleanly, bounded here.
      for (let waited = 0; nodes.some(isAlive) && waited < 30_000; waited += 100) await sleep(100);
      assert.deepEqual(nodes.filter(isAlive), [], "no node lives on without its supervisor");
    } finally {
      // The orphaned nats-server is ours to end.
      await farm.cleanUp();
    }
  },
));
