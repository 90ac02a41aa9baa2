/**
 * In-process sockets for unit tests: `listen` registers a listener in a registry, `connect` makes
 * a connected pair of Connections delivering bytes asynchronously and in order. TLS is a
 * simulation: no encryption, but both sides must upgrade together, the server picks its
 * certificate by SNI like the real adapter, and TlsInfo carries the chosen certificate's DER bytes.
 */

import type {
  Address,
  ClientTlsOptions,
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAdapter,
  ServerTlsOptions,
  TlsInfo,
} from "../types.ts";
import { pemToDer, selectCertificate } from "../tls_select.ts";

const encoder = new TextEncoder();
const CLOSED = Symbol("closed");

interface Registered {
  options: ListenOptions;
  onConnection: (conn: Connection) => void;
}

/** A connection refused, named like Deno's error so callers can tell it apart. */
export class ConnectionRefusedError extends Error {
  override name = "ConnectionRefused";
}

/** The handshake of one side of a simulated TLS upgrade, waiting for the other side. */
interface PendingHandshake {
  server?: ServerTlsOptions;
  client?: ClientTlsOptions;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One end of an in-process stream. */
export class MemoryConnection implements Connection {
  readonly remote: Address;
  readonly local: Address;
  /** The other end; set once by `pair`. */
  peer: MemoryConnection | undefined;
  #tls: TlsInfo | undefined;
  #inbox: (Uint8Array | typeof CLOSED)[] = [];
  #onData: ((chunk: Uint8Array) => void) | undefined;
  #onClose: ((error?: Error) => void) | undefined;
  #paused = false;
  #draining = false;
  #ending = false;
  #ended = false;
  #closeError: Error | undefined;
  #handshake: PendingHandshake | undefined;

  constructor(local: Address, remote: Address) {
    this.local = local;
    this.remote = remote;
  }

  get secure(): boolean {
    return this.#tls !== undefined;
  }

  get tls(): TlsInfo | undefined {
    return this.#tls;
  }

  onData(callback: (chunk: Uint8Array) => void): void {
    this.#onData = callback;
    this.#schedule();
  }

  onClose(callback: (error?: Error) => void): void {
    this.#onClose = callback;
    if (this.#ended) queueMicrotask(() => callback(this.#closeError));
  }

  write(data: string | Uint8Array): void {
    if (this.#ending || !this.peer) return;
    // Copy bytes: the caller may reuse its buffer, and a socket would have sent them already.
    this.peer.#receive(typeof data === "string" ? encoder.encode(data) : data.slice());
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  startTlsServer(options: ServerTlsOptions): Promise<void> {
    return this.#upgrade({ server: options });
  }

  startTlsClient(options: ClientTlsOptions): Promise<void> {
    return this.#upgrade({ client: options });
  }

  /** Ends the stream: the peer receives what was written, then its close event. */
  close(): void {
    if (this.#ending) return;
    this.#ending = true;
    if (this.peer) this.peer.#receive(CLOSED);
    this.#finish();
  }

  /** Ends both sides at once with `error`, as a connection reset would (for tests). */
  destroy(error = new Error("Connection reset by peer")): void {
    const peer = this.peer;
    this.#ending = true;
    this.#finish(error);
    if (peer && !peer.#ending) {
      peer.#ending = true;
      peer.#finish(error);
    }
  }

  #receive(item: Uint8Array | typeof CLOSED): void {
    if (this.#ended) return;
    this.#inbox.push(item);
    // TLS reads the socket even while the application is paused: the end fails a handshake.
    if (item === CLOSED && this.#handshake) return this.#finish();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#draining) return;
    this.#draining = true;
    queueMicrotask(() => {
      this.#draining = false;
      this.#drain();
    });
  }

  #drain(): void {
    while (!this.#paused && !this.#ended && this.#inbox.length > 0) {
      const item = this.#inbox[0];
      if (item !== CLOSED && !this.#onData) return;
      this.#inbox.shift();
      if (item === CLOSED) {
        this.#ending = true;
        this.#finish();
      } else {
        this.#onData!(item);
      }
    }
  }

  #finish(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#closeError = error;
    this.#inbox = [];
    this.#handshake?.reject(new Error("The connection closed during the TLS handshake"));
    this.#handshake = undefined;
    const callback = this.#onClose;
    if (callback) queueMicrotask(() => callback(error));
  }

  #upgrade(side: Omit<PendingHandshake, "resolve" | "reject">): Promise<void> {
    if (this.secure) return Promise.reject(new Error("The connection already uses TLS"));
    if (this.#ended || !this.peer) return Promise.reject(new Error("The connection is closed"));
    return new Promise((resolve, reject) => {
      this.#handshake = { ...side, resolve, reject };
      if (this.#inbox.includes(CLOSED)) return this.#finish();
      const other = this.peer!.#handshake;
      if (!other) return;
      const server = side.server ? this.#handshake : other;
      const client = side.client ? this.#handshake : other;
      if (!server.server || !client.client) {
        const error = new Error("Both sides of the TLS handshake act as the same role");
        this.#handshake.reject(error);
        other.reject(error);
      } else {
        const [serverInfo, clientInfo] = simulateHandshake(server.server, client.client);
        const serverConn = side.server ? this : this.peer!;
        serverConn.#secure(serverInfo);
        serverConn.peer!.#secure(clientInfo);
        server.resolve();
        client.resolve();
      }
      this.#handshake = undefined;
      this.peer!.#handshake = undefined;
    });
  }

  /** Marks the connection secure (also used by the direct TLS listener). */
  #secure(info: TlsInfo): void {
    this.#tls = info;
  }

  /** Connects two new ends; with TLS on both, they start secure (direct TLS). */
  static pair(
    client: Address,
    server: Address,
    tls?: [ServerTlsOptions, ClientTlsOptions],
  ): [MemoryConnection, MemoryConnection] {
    const a = new MemoryConnection(client, server);
    const b = new MemoryConnection(server, client);
    a.peer = b;
    b.peer = a;
    if (tls) {
      const [serverInfo, clientInfo] = simulateHandshake(tls[0], tls[1]);
      b.#secure(serverInfo);
      a.#secure(clientInfo);
    }
    return [a, b];
  }
}

/** What each side learns from a simulated handshake: SNI, certificates, ALPN. */
function simulateHandshake(server: ServerTlsOptions, client: ClientTlsOptions): [TlsInfo, TlsInfo] {
  const certificate = pemToDer(selectCertificate(server, client.serverName).cert);
  // The server picks the first protocol of its own list that the client offers.
  const alpnProtocol = server.alpnProtocols?.find((p) => client.alpnProtocols?.includes(p));
  // A client certificate reaches the server only when it asked for one, as in TLS.
  const clientCertificate = server.requestCertificate && client.certificate
    ? pemToDer(client.certificate.cert)
    : undefined;
  return [
    {
      serverName: client.serverName,
      localCertificate: certificate,
      alpnProtocol,
      ...(clientCertificate ? { peerCertificate: clientCertificate } : {}),
    },
    { peerCertificate: certificate, alpnProtocol },
  ];
}

/** Listeners on one address: one, or several that all set `reusePort`, taking turns. */
interface Port {
  members: Registered[];
  /** The member the next connection goes to (round robin, as a stand-in for the kernel's hash). */
  turn: number;
}

/** The registry of listeners: one per adapter, so tests do not see each other's listeners. */
export class MemoryNet implements NetAdapter {
  #listeners = new Map<string, Port>();
  #nextPort = 40000;

  listen(options: ListenOptions, onConnection: (conn: Connection) => void): Promise<Listener> {
    const port = options.port === 0 ? this.#freePort(options.hostname) : options.port;
    const id = `${options.hostname}:${port}`;
    const taken = this.#listeners.get(id);
    // Like SO_REUSEPORT: a port is shared only when every listener on it asked to share it.
    if (taken && !(options.reusePort && taken.members.every((m) => m.options.reusePort))) {
      const error = new Error(`Address already in use: ${id}`);
      error.name = "AddrInUse";
      return Promise.reject(error);
    }
    const registered = { options, onConnection };
    const group = taken ?? { members: [], turn: 0 };
    group.members.push(registered);
    this.#listeners.set(id, group);
    const address = { hostname: options.hostname, port };
    return Promise.resolve({
      address,
      close: () => {
        group.members = group.members.filter((m) => m !== registered);
        if (group.members.length === 0 && this.#listeners.get(id) === group) {
          this.#listeners.delete(id);
        }
        return Promise.resolve();
      },
    });
  }

  /** `from` (memory only) is the client's address the server sees; the target's by default. */
  connect(options: ConnectOptions & { from?: string }): Promise<Connection> {
    const group = this.#listeners.get(`${options.hostname}:${options.port}`) ??
      this.#listeners.get(`::${options.port}`) ??
      this.#listeners.get(`0.0.0.0:${options.port}`);
    if (!group) {
      return Promise.reject(
        new ConnectionRefusedError(`Connection refused: ${options.hostname}:${options.port}`),
      );
    }
    const target = group.members[group.turn++ % group.members.length];
    if (!target.options.tls !== !options.tls) {
      return Promise.reject(
        new Error("One side of this simulated connection wants direct TLS and the other not"),
      );
    }
    const clientAddress = { hostname: options.from ?? options.hostname, port: this.#nextPort++ };
    const serverAddress = { hostname: options.hostname, port: options.port };
    const tls = target.options.tls && options.tls
      ? [target.options.tls, options.tls] as [ServerTlsOptions, ClientTlsOptions]
      : undefined;
    const [client, server] = MemoryConnection.pair(clientAddress, serverAddress, tls);
    return new Promise((resolve) => {
      queueMicrotask(() => {
        target.onConnection(server);
        resolve(client);
      });
    });
  }

  #freePort(hostname: string): number {
    while (this.#listeners.has(`${hostname}:${this.#nextPort}`)) this.#nextPort++;
    return this.#nextPort++;
  }
}
