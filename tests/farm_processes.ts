/**
 * A farm of real node processes for the failure tests (docs/farm.md "Failures"): each node is
 * `deno run -A main.ts start -c nX.xml` in a temp folder, with its own c2s port on loopback, all
 * joined through one throwaway nats-server (src/adapters/nats/_testing.ts) and sharing XDB on one
 * throwaway PostgreSQL (src/adapters/postgres/_testing.ts). Every process is stopped by its PID.
 * Clients are raw XMPP streams (PLAIN without TLS, XEP-0198) whose whole transcript is kept.
 */
import assert from "node:assert/strict";
import { freePort, JabberdProcess } from "./jabberd_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
export const DOMAIN = "localhost";
export const SM = "urn:xmpp:sm:3";
/** The farm's timing in these tests: a node silent for TTL_MS is lost. */
export const HEARTBEAT_MS = 250;
export const TTL_MS = 1500;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it answers a value (not undefined/false), at most `ms`. */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms: number,
  what: string | (() => string),
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms: ${typeof what === "string" ? what : what()}`);
    }
    await sleep(50);
  }
}

export interface FarmOptions {
  /** The farm's name (its NATS subjects and buckets): one per test keeps tests apart. */
  name: string;
  /** NATS URL each node connects to; `natsFor` overrides it per node (a proxy). */
  nats: string;
  natsFor?: Record<string, string>;
  /** The shared XDB: a `postgres://` URL. */
  db: string;
  /** The farm's ttl, when not TTL_MS. */
  ttlMs?: number;
}

/** The config of node `id`: farm first (docs/farm.md "Config"), its own c2s id and port. */
function nodeXml(id: string, port: number, nats: string, options: FarmOptions): string {
  return `<jabberd>
  <service id="farm-${id}">
    <farm><node>${id}</node><nats>${nats}</nats><name>${options.name}</name>
      <heartbeat>${HEARTBEAT_MS}ms</heartbeat><ttl>${options.ttlMs ?? TTL_MS}ms</ttl></farm>
  </service>
  <service id="c2s-${id}">
    <c2s xmlns="jabberd:config:c2s">
      <domain>${DOMAIN}</domain>
      <listen port="${port}" address="127.0.0.1"/>
      <require-encryption enabled="false"/>
      <plain allow-unencrypted="true"/>
      <scram iterations="4096"/>
      <stream-management max-unacked="100000"/>
    </c2s>
  </service>
  <service id="sessions"><host>${DOMAIN}</host><sm xmlns="jabberd:config:sm"/></service>
  <xdb id="xdb"><host/><kv>${options.db}</kv></xdb>
</jabberd>
`;
}

/** One node process (tests/jabberd_process.ts); its output is collected as it comes. */
export class NodeProcess extends JabberdProcess {
  constructor(readonly id: string, readonly port: number, config: string) {
    super(`node ${id}`, config);
  }

  /** Starts the process and waits (at most 60 s) until its c2s listens. */
  override start(): Promise<void> {
    return super.start(/c2s: listening on/);
  }

  /** Sends `signal` to this process (by its PID) and waits until it exited (at most 20 s). */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    await this.stop(signal);
  }
}

/** Several node processes of one farm, each in a folder of its own in one temp folder. */
export class ProcessFarm {
  readonly nodes = new Map<string, NodeProcess>();
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Writes the configs and starts the nodes `ids`, all at once. */
  static async start(ids: string[], options: FarmOptions): Promise<ProcessFarm> {
    const farm = new ProcessFarm(await Deno.makeTempDir({ prefix: "farm-failures-" }));
    for (const id of ids) {
      // Its own folder: its data folder (pidfile, certificates) is next to its config.
      await Deno.mkdir(`${farm.dir}/${id}`);
      const config = `${farm.dir}/${id}/jabberd.xml`;
      const nats = options.natsFor?.[id] ?? options.nats;
      const port = freePort();
      await Deno.writeTextFile(config, nodeXml(id, port, nats, options));
      farm.nodes.set(id, new NodeProcess(id, port, config));
    }
    try {
      await Promise.all([...farm.nodes.values()].map((node) => node.start()));
      // Every node has heard every other's heartbeat (a few heartbeats).
      await sleep(4 * HEARTBEAT_MS);
    } catch (error) {
      await farm.stop();
      throw error;
    }
    return farm;
  }

  node(id: string): NodeProcess {
    const node = this.nodes.get(id);
    assert.ok(node, `node ${id}`);
    return node;
  }

  /** Everything the nodes wrote, for failure messages. */
  get output(): string {
    return [...this.nodes.values()].map((node) => `--- ${node.id}\n${node.output}`).join("\n");
  }

  /** Stops every node still running (SIGTERM, then SIGKILL) and removes the folder. */
  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.kill("SIGTERM")));
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Writes accounts (password `pw-NAME`) whose rosters hold each other with subscription `both`,
 * through `jabberd import` (XEP-0227) with `config`, one process for all of them.
 */
export async function addAccounts(
  config: string,
  groups: string[][],
): Promise<void> {
  const users = groups.flatMap((group) =>
    group.map((name) => {
      const items = group.filter((other) => other !== name).map((other) =>
        `<item jid='${other}@${DOMAIN}' subscription='both'/>`
      ).join("");
      return `<user name='${name}' password='pw-${name}'>` +
        `<query xmlns='jabber:iq:roster'>${items}</query></user>`;
    })
  ).join("\n");
  const file = `${config}.accounts.xml`;
  await Deno.writeTextFile(
    file,
    `<server-data xmlns='urn:xmpp:pie:0'><host jid='${DOMAIN}'>\n${users}\n</host></server-data>`,
  );
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "import", file, "-c", config],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stdout) + decoder.decode(stderr));
}

const encoder = new TextEncoder();

/** One raw client stream; `transcript` keeps everything received. */
export class RawStream {
  readonly name: string;
  transcript = "";
  /** Where `next` looks from: what it matched before is consumed. */
  cursor = 0;
  closed = false;
  /** The XEP-0198 resumption id, once enabled. */
  resumeId: string | undefined;
  readonly #conn: Deno.TcpConn;
  #writing: Promise<void> = Promise.resolve();

  private constructor(name: string, conn: Deno.TcpConn) {
    this.name = name;
    this.#conn = conn;
    this.#read();
  }

  static async connect(name: string, port: number): Promise<RawStream> {
    return new RawStream(name, await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(16384);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        this.transcript += decoder.decode(buffer.subarray(0, n), { stream: true });
      }
    } catch {
      // Reset, or closed by us.
    }
    this.closed = true;
  }

  send(text: string): void {
    const bytes = encoder.encode(text);
    this.#writing = this.#writing.then(async () => {
      let offset = 0;
      while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
    }).catch(() => {
      this.closed = true;
    });
  }

  /** Waits (at most `ms`) until `pattern` matches after the cursor; consumes up to its end. */
  async next(pattern: RegExp, ms = 10_000, bad = /<stream:error|<failure /): Promise<string> {
    return await until(
      () => {
        const rest = this.transcript.slice(this.cursor);
        const match = pattern.exec(rest);
        const wrong = bad.exec(rest);
        if (wrong && (!match || wrong.index < match.index)) {
          throw new Error(`${this.name} got ${rest.slice(wrong.index, wrong.index + 300)}`);
        }
        if (match) {
          this.cursor += match.index + match[0].length;
          return match[0];
        }
        if (this.closed) throw new Error(`${this.name}: stream closed waiting for ${pattern}`);
        return undefined;
      },
      ms,
      () => `${this.name} waiting for ${pattern}; got ${this.transcript.slice(this.cursor)}`,
    );
  }

  /** Waits (at most `ms`) until `pattern` matches anywhere in the transcript from `from`. */
  async saw(pattern: RegExp, ms = 10_000, from = 0): Promise<string> {
    return await until(
      () => pattern.exec(this.transcript.slice(from))?.[0],
      ms,
      () => `${this.name} waiting for ${pattern}; got ${this.transcript.slice(from).slice(-1500)}`,
    );
  }

  /** The highest `h` the server acknowledged (XEP-0198 `<a h/>`), 0 before any. */
  get acked(): number {
    let h = 0;
    for (const match of this.transcript.matchAll(/<a xmlns=['"]urn:xmpp:sm:3['"] h=['"](\d+)/g)) {
      h = Math.max(h, Number(match[1]));
    }
    return h;
  }

  /** The bodies of every `<message>` received so far. */
  bodies(): string[] {
    return [...this.transcript.matchAll(/<body>([^<]*)<\/body>/g)].map((match) => match[1]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
  }
}

function header(): string {
  return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
    `xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`;
}

/** Opens a stream and authenticates `user` with PLAIN: the stream, before resource binding. */
export async function authenticate(port: number, user: string, tag = user): Promise<RawStream> {
  const stream = await RawStream.connect(tag, port);
  try {
    stream.send(header());
    await stream.next(/<\/stream:features>/);
    stream.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${
        btoa(`\0${user}\0pw-${user}`)
      }</auth>`,
    );
    await stream.next(/<success\b[^>]*(\/>|>[^]*?<\/success>)/);
    stream.send(header());
    await stream.next(/<\/stream:features>/);
    return stream;
  } catch (error) {
    stream.close();
    throw error;
  }
}

/** Binds `resource` on an authenticated stream (waits for the bound JID). */
export async function bind(stream: RawStream, resource: string): Promise<void> {
  stream.send(
    `<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
      `<resource>${resource}</resource></bind></iq>`,
  );
  await stream.next(/<\/jid>/);
}

/**
 * Logs `user` in on the node listening on `port`: PLAIN, bind `resource`, XEP-0198 with
 * resumption, initial presence (which brings offline messages and contacts' presence).
 */
export async function login(
  port: number,
  user: string,
  resource: string,
): Promise<RawStream> {
  const stream = await authenticate(port, user, `${user}/${resource}`);
  try {
    await bind(stream, resource);
    stream.send(`<enable xmlns='${SM}' resume='true'/>`);
    const enabled = await stream.next(/<enabled [^>]*>/);
    stream.resumeId = /id=['"]([^'"]+)['"]/.exec(enabled)?.[1];
    stream.send("<presence/>");
    return stream;
  } catch (error) {
    stream.close();
    throw error;
  }
}

/** A chat message with `body` (also its id), then an ack request (XEP-0198 `<r/>`). */
export function sendChat(stream: RawStream, to: string, body: string): void {
  stream.send(
    `<message to='${to}' type='chat' id='${body}'><body>${body}</body></message><r xmlns='${SM}'/>`,
  );
}

/**
 * A TCP relay on loopback to `target`, which the test can cut (every connection closed, the port
 * refused) and restore on the same port: one node cut off from NATS while the others are not.
 */
export class TcpRelay {
  readonly port: number;
  readonly #target: number;
  readonly #open = new Set<Deno.Conn>();
  #listener: Deno.Listener | undefined;

  constructor(target: number) {
    this.#target = target;
    this.port = freePort();
    this.restore();
  }

  /** Listens again on the same port (after `cut`). */
  restore(): void {
    if (this.#listener) return;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = listener;
    (async () => {
      for await (const client of listener) this.#relay(client);
    })().catch(() => {});
  }

  async #relay(client: Deno.Conn): Promise<void> {
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
    } catch {
      client.close();
      return;
    }
    this.#open.add(client);
    this.#open.add(server);
    const end = () => {
      for (const conn of [client, server]) {
        if (!this.#open.delete(conn)) continue;
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
    };
    await Promise.race([
      client.readable.pipeTo(server.writable, { preventClose: true }),
      server.readable.pipeTo(client.writable, { preventClose: true }),
    ]).catch(() => {});
    end();
  }

  /** Closes every relayed connection and stops listening. */
  cut(): void {
    this.#listener?.close();
    this.#listener = undefined;
    for (const conn of [...this.#open]) {
      this.#open.delete(conn);
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  }
}
