/**
 * WebSocket (RFC 7395) next to TCP on the same server and real sockets: logins per second
 * (SCRAM, resource binding; TCP with STARTTLS as clients use it, WebSocket on plain ws:// as
 * behind a TLS proxy) and messages routed per second from one client to another (sent as fast
 * as the socket takes them, counted when the last one arrives).
 */
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import type { Connection } from "../src/adapters/types.ts";
import { addUser, login, scramLogin, type TextClient } from "../src/modules/c2s/_testing.ts";
import { httpServerConfig, httpUrl } from "../src/modules/http/_testing.ts";
import { type TestServer, testServer } from "../src/server/_testing.ts";

export interface WebSocketBenchRow {
  transport: string;
  loginsPerSecond: number;
  messagesPerSecond: number;
}

const LOGINS = 40;
const MESSAGES = 5000;

/** A client over a real WebSocket, one element per message. */
class RealWsClient implements TextClient {
  readonly socket: WebSocket;
  #buffer = "";
  #wake: (() => void) | undefined;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.onmessage = (event) => {
      this.#buffer += event.data;
      this.#wake?.();
    };
  }

  static async open(url: string): Promise<RealWsClient> {
    const socket = new WebSocket(url, ["xmpp"]);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    return new RealWsClient(socket);
  }

  send(text: string): void {
    this.socket.send(text);
  }

  async next(pattern: RegExp): Promise<string> {
    for (;;) {
      const match = pattern.exec(this.#buffer);
      if (match) {
        const part = this.#buffer.slice(0, match.index + match[0].length);
        this.#buffer = this.#buffer.slice(part.length);
        return part;
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** Counts occurrences of `text` until `count` have arrived. */
  async count(text: string, count: number): Promise<void> {
    let seen = 0;
    for (;;) {
      let at = this.#buffer.indexOf(text);
      while (at >= 0) {
        seen++;
        this.#buffer = this.#buffer.slice(at + text.length);
        at = this.#buffer.indexOf(text);
      }
      if (seen >= count) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }
}

async function wsLogin(world: TestServer, user: string, resource: string) {
  const client = await RealWsClient.open(`${httpUrl(world, "ws")}/xmpp-websocket`);
  const open = `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`;
  client.send(open);
  await client.next(/<\/stream:features>/);
  const answer = await scramLogin(client, "SCRAM-SHA-1", user, "secret");
  if (!answer.includes("<success")) throw new Error(`Login failed: ${answer}`);
  client.send(open);
  await client.next(/<\/stream:features>/);
  client.send(
    `<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
      `<resource>${resource}</resource></bind></iq>`,
  );
  await client.next(/<\/iq>/);
  return client;
}

/** Resolves once `count` copies of `text` arrived on a TCP connection (its data callback). */
function countArrivals(conn: Connection, text: string, count: number): Promise<void> {
  const decoder = new TextDecoder();
  let seen = 0;
  let tail = "";
  return new Promise((resolve) => {
    conn.onData((chunk) => {
      const data = tail + decoder.decode(chunk, { stream: true });
      for (let at = data.indexOf(text); at >= 0; at = data.indexOf(text, at + text.length)) seen++;
      tail = data.slice(-(text.length - 1));
      if (seen >= count) resolve();
    });
  });
}

async function rate(count: number, run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return Math.round(count / ((performance.now() - start) / 1000));
}

export async function benchWebSocket(): Promise<WebSocketBenchRow[]> {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-bench-ws-" });
  const world = await testServer(
    httpServerConfig("", {
      kv: `${dir}/jabberd.kv`,
      c2s: `<limits rate="100MiB" burst="100MiB"/>`,
    }),
    { adapters: denoAdapters(), file: `${dir}/jabberd.xml` },
  );
  try {
    await addUser(world, "alice");
    await addUser(world, "bob");
    const message = (to: string, i: number) =>
      `<message xmlns='jabber:client' to='${to}' type='chat'><body>m${i}</body></message>`;

    const wsLogins = await rate(LOGINS, async () => {
      for (let i = 0; i < LOGINS; i++) (await wsLogin(world, "alice", `l${i}`)).socket.close();
    });
    const tcpLogins = await rate(LOGINS, async () => {
      for (let i = 0; i < LOGINS; i++) (await login(world, "alice", `l${i}`)).conn.close();
    });

    const wsFrom = await wsLogin(world, "alice", "ws-from");
    const wsTo = await wsLogin(world, "bob", "ws-to");
    const wsMessages = await rate(MESSAGES, async () => {
      const arrived = wsTo.count("</message>", MESSAGES);
      for (let i = 0; i < MESSAGES; i++) wsFrom.send(message("bob@localhost/ws-to", i));
      await arrived;
    });
    wsFrom.socket.close();
    wsTo.socket.close();

    const tcpFrom = await login(world, "alice", "tcp-from");
    const tcpTo = await login(world, "bob", "tcp-to");
    const tcpMessages = await rate(MESSAGES, async () => {
      let text = "";
      for (let i = 0; i < MESSAGES; i++) text += message("bob@localhost/tcp-to", i);
      const arrived = countArrivals(tcpTo.conn, "</message>", MESSAGES);
      tcpFrom.send(text);
      await arrived;
    });
    tcpFrom.conn.close();
    tcpTo.conn.close();
    return [
      { transport: "tcp (STARTTLS)", loginsPerSecond: tcpLogins, messagesPerSecond: tcpMessages },
      { transport: "websocket (ws://)", loginsPerSecond: wsLogins, messagesPerSecond: wsMessages },
    ];
  } finally {
    await world.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) console.table(await benchWebSocket());
