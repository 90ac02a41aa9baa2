/**
 * Test support for the http component: a whole server (c2s, sm, XDB, http) from a config text,
 * and raw WebSocket and BOSH clients that speak to it on the memory adapters (or real sockets).
 */
import type { MemoryWebSocket } from "../../adapters/memory/mod.ts";
import type { TestServer } from "../../server/_testing.ts";
import { DOMAIN, scramLogin, type TextClient } from "../c2s/_testing.ts";
import { c2sSection } from "../c2s/_testing.ts";

export const ADMIN_TOKEN = "0123456789abcdef0123456789abcdef";
export const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";

/** c2s, sm, XDB and `<http>` with `http` as its extra settings, loopback on a free port. */
export function httpServerConfig(
  http = "",
  { c2s = "", admin = `<admin token="${ADMIN_TOKEN}"/>`, kv = "data/jabberd.kv" } = {},
): string {
  return `<jabberd>
    ${c2sSection(c2s)}
    <service id="sessions"><host>${DOMAIN}</host><sm xmlns="jabberd:config:sm"/></service>
    <service id="http">
      <http xmlns="jabberd:config:http">
        <listen port="0" ip="127.0.0.1"/>
        <websocket consider-secure="true"/>
        <bosh consider-secure="true"/>
        ${admin}
        ${http}
      </http>
    </service>
    <xdb id="xdb"><host/><kv>${kv}</kv></xdb>
  </jabberd>`;
}

/** The base URL of the http listener. */
export function httpUrl(world: TestServer, scheme = "http"): string {
  const { hostname, port } = world.address("http");
  return `${scheme}://${hostname}:${port}`;
}

/** A WebSocket client over the memory adapter: each message kept in order. */
export class WsClient implements TextClient {
  readonly socket: MemoryWebSocket;
  readonly messages: string[] = [];
  #read = 0;
  #wake: (() => void) | undefined;
  closed = false;

  constructor(socket: MemoryWebSocket) {
    this.socket = socket;
    socket.onMessage((data) => {
      this.messages.push(typeof data === "string" ? data : new TextDecoder().decode(data));
      this.#wake?.();
    });
    socket.onClose(() => {
      this.closed = true;
      this.#wake?.();
    });
  }

  static async connect(world: TestServer, protocols = ["xmpp"], from?: string) {
    const socket = await world.memory.http.connectWebSocket(
      `${httpUrl(world, "ws")}/xmpp-websocket`,
      protocols,
      from,
    );
    return new WsClient(socket);
  }

  send(text: string): void {
    this.socket.send(text);
  }

  open(to = DOMAIN): void {
    this.send(`<open xmlns='${NS_FRAMING}' to='${to}' version='1.0'/>`);
  }

  /** The next messages up to the one matching `pattern`, joined (bounded wait). */
  async next(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 5000;
    let taken = "";
    for (;;) {
      while (this.#read < this.messages.length) {
        const message = this.messages[this.#read++];
        taken += message;
        if (pattern.test(message)) return taken;
      }
      if (this.closed) throw new Error(`Closed before ${pattern}; got: ${taken}`);
      if (Date.now() > deadline) throw new Error(`No ${pattern} in: ${taken}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits until the server closed the socket. */
  async waitClosed(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (!this.closed) throw new Error("The server did not close the WebSocket");
  }
}

/** Opens the stream, logs in with SCRAM-SHA-1 and binds `resource` over a WebSocket. */
export async function wsLogin(
  world: TestServer,
  user: string,
  resource = "web",
  password = "secret",
): Promise<WsClient> {
  const client = await WsClient.connect(world);
  client.open();
  await client.next(/<\/stream:features>/);
  const answer = await scramLogin(client, "SCRAM-SHA-1", user, password);
  if (!answer.includes("<success")) throw new Error(`Login failed: ${answer}`);
  client.open();
  await client.next(/<\/stream:features>/);
  client.send(
    `<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
      `<resource>${resource}</resource></bind></iq>`,
  );
  const bind = await client.next(/<\/iq>/);
  if (!bind.includes("<jid>")) throw new Error(`Bind failed: ${bind}`);
  return client;
}

/** A raw BOSH client (XEP-0124/0206) over the memory adapter: it numbers its requests itself. */
export class BoshClient implements TextClient {
  readonly #world: TestServer;
  rid = 1000;
  sid = "";
  /** Every response body, in the order they arrived. */
  readonly bodies: string[] = [];
  #read = 0;
  readonly #inFlight = new Set<Promise<string>>();

  constructor(world: TestServer) {
    this.#world = world;
  }

  /** Posts a `<body>` (its attributes and children as text); resolves with the response. */
  async post(attrs: string, children = "", from?: string): Promise<string> {
    const response = await this.#world.memory.http.fetch(
      `${httpUrl(this.#world)}/http-bind`,
      {
        method: "POST",
        headers: { "content-type": "text/xml; charset=utf-8" },
        body: `<body xmlns='http://jabber.org/protocol/httpbind' ${attrs}>${children}</body>`,
      },
      from,
    );
    const text = await response.text();
    this.bodies.push(text);
    return text;
  }

  /** Sends the next request of the session with `children` (not awaited: it may be held). */
  request(children = "", attrs = ""): Promise<string> {
    const sent = this.post(`sid='${this.sid}' rid='${++this.rid}' ${attrs}`, children);
    this.#inFlight.add(sent);
    sent.finally(() => this.#inFlight.delete(sent));
    return sent;
  }

  /** Creates the session; resolves with the creation response. */
  async create(to = DOMAIN, attrs = "wait='30' hold='1'"): Promise<string> {
    const answer = await this.post(
      `rid='${this.rid}' to='${to}' ver='1.11' xml:lang='en' ${attrs} ` +
        `xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'`,
    );
    this.sid = /sid='([^']+)'/.exec(answer)?.[1] ?? "";
    return answer;
  }

  send(text: string): void {
    void this.request(text);
  }

  /**
   * Keeps one request waiting until a response whose payload matches `pattern` arrived (bounded
   * wait); returns the payloads read, without their `<body>`s.
   */
  async next(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 5000;
    let taken = "";
    for (;;) {
      while (this.#read < this.bodies.length) {
        const payload = payloadOf(this.bodies[this.#read++]);
        taken += payload;
        if (pattern.test(payload)) return taken;
      }
      if (Date.now() > deadline) throw new Error(`No ${pattern} in: ${taken}`);
      if (this.#inFlight.size === 0) void this.request();
      await Promise.race([...this.#inFlight, new Promise((r) => setTimeout(r, 50))]);
    }
  }

  /** Restarts the stream after SASL (XEP-0206 §5). */
  restart(): Promise<string> {
    return this.request("", "xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'");
  }
}

/** Creates a BOSH session, logs in with SCRAM-SHA-1 and binds `resource`. */
export async function boshLogin(
  world: TestServer,
  user: string,
  resource = "bosh",
  password = "secret",
): Promise<BoshClient> {
  const client = new BoshClient(world);
  const created = await client.create();
  if (!created.includes("SCRAM-SHA-1")) throw new Error(`No SCRAM-SHA-1 offered: ${created}`);
  const answer = await scramLogin(client, "SCRAM-SHA-1", user, password);
  if (!answer.includes("<success")) throw new Error(`Login failed: ${answer}`);
  const restarted = await client.restart();
  if (!restarted.includes("<bind")) throw new Error(`No bind after restart: ${restarted}`);
  client.send(
    `<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
      `<resource>${resource}</resource></bind></iq>`,
  );
  const bind = await client.next(/<jid>/);
  if (!bind.includes("<jid>")) throw new Error(`Bind failed: ${bind}`);
  return client;
}

/** What a `<body>` carries, without the body itself. */
export function payloadOf(body: string): string {
  const open = /^<body[^>]*?(\/?)>/.exec(body);
  if (!open) return body;
  return open[1] ? "" : body.slice(open[0].length).replace(/<\/body>$/, "");
}
