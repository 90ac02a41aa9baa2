/**
 * The network adapter on `node:net` and `node:tls`: TCP (RFC 6120 §3), direct TLS (XEP-0368)
 * with SNI and ALPN, and STARTTLS (RFC 6120 §5) on both sides. `node:*` rather than `Deno.listen`
 * because Deno has no server-side TLS upgrade and `node:net` costs the least memory per idle
 * connection with event-driven reads (see docs/runtime-notes.md).
 */

import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { setImmediate } from "node:timers";
import type {
  Address,
  CertificatePair,
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

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How long `close()` waits for the peer to finish closing before dropping the socket. */
const CLOSE_GRACE_MS = 10_000;

const contexts = new WeakMap<CertificatePair, tls.SecureContext>();

/** One secure context per certificate pair, made once: contexts are costly to build. */
function contextFor(pair: CertificatePair): tls.SecureContext {
  let context = contexts.get(pair);
  if (!context) {
    context = tls.createSecureContext({ cert: pair.cert, key: pair.key });
    contexts.set(pair, context);
  }
  return context;
}

type SniCallback = (
  name: string,
  done: (error: Error | null, ctx?: tls.SecureContext) => void,
) => void;

function sniCallback(options: ServerTlsOptions): SniCallback {
  return (name, done) => {
    try {
      done(null, contextFor(selectCertificate(options, name)));
    } catch (error) {
      done(error as Error);
    }
  };
}

/** What a server-side TLS socket knows once its handshake is done. */
function serverTlsInfo(socket: tls.TLSSocket, options: ServerTlsOptions): TlsInfo {
  const serverName = (socket as { servername?: string | false }).servername || undefined;
  return {
    serverName,
    // The SNI callback's own choice: Deno's getCertificate() reports the default certificate
    // even when SNI chose another.
    localCertificate: pemToDer(selectCertificate(options, serverName).cert),
    peerCertificate: rawCertificate(socket.getPeerCertificate()),
    alpnProtocol: socket.alpnProtocol || undefined,
  };
}

/** The client certificate and the verification switch of `ClientTlsOptions`, for `node:tls`. */
function clientExtras(options: ClientTlsOptions): tls.ConnectionOptions {
  return {
    ...(options.certificate
      ? { cert: options.certificate.cert, key: options.certificate.key }
      : {}),
    rejectUnauthorized: options.verify !== false,
  };
}

function clientTlsInfo(socket: tls.TLSSocket): TlsInfo {
  return {
    peerCertificate: rawCertificate(socket.getPeerCertificate()),
    alpnProtocol: socket.alpnProtocol || undefined,
  };
}

function rawCertificate(
  certificate: tls.PeerCertificate | object | null | undefined,
): Uint8Array | undefined {
  const raw = (certificate as { raw?: Uint8Array } | null | undefined)?.raw;
  return raw && raw.length > 0 ? new Uint8Array(raw) : undefined;
}

function addressOf(host: string | undefined, port: number | undefined): Address {
  return { hostname: host ?? "", port: port ?? 0 };
}

/** A `node:net` or `node:tls` socket seen as a Connection. */
class NodeConnection implements Connection {
  readonly remote: Address;
  readonly local: Address;
  #socket: net.Socket;
  #tls: TlsInfo | undefined;
  #onData: ((chunk: Uint8Array) => void) | undefined;
  #onClose: ((error?: Error) => void) | undefined;
  /** Text written this turn and not yet flushed (the common case: c2s writes only text). */
  #pendingText = "";
  /** Everything not yet flushed, in order, once some write of this turn was binary. */
  #pendingChunks: (string | Uint8Array)[] | undefined;
  /** On the list of connections the next flush writes out. */
  #flushScheduled = false;
  #paused = false;
  #upgrading = false;
  #ending = false;
  #closed = false;
  #error: Error | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: net.Socket, tlsInfo?: TlsInfo) {
    this.#socket = socket;
    this.#tls = tlsInfo;
    this.remote = addressOf(socket.remoteAddress, socket.remotePort);
    this.local = addressOf(socket.localAddress, socket.localPort);
    socket.setNoDelay(true);
    this.#attach(socket);
  }

  get secure(): boolean {
    return this.#tls !== undefined;
  }

  get tls(): TlsInfo | undefined {
    return this.#tls;
  }

  onData(callback: (chunk: Uint8Array) => void): void {
    const first = this.#onData === undefined;
    this.#onData = callback;
    // The socket stays in paused mode (nothing lost) until the first data listener.
    if (first && !this.#upgrading) this.#socket.on("data", this.#dataListener);
  }

  onClose(callback: (error?: Error) => void): void {
    this.#onClose = callback;
    if (this.#closed) queueMicrotask(() => callback(this.#error));
  }

  write(data: string | Uint8Array): void {
    if (this.#ending || this.#closed) return;
    if (typeof data === "string" && this.#pendingChunks === undefined) {
      this.#pendingText += data;
    } else {
      const chunks = this.#pendingChunks ??= this.#pendingText === "" ? [] : [this.#pendingText];
      this.#pendingText = "";
      chunks.push(data);
    }
    // Everything written to a connection during one turn of the event loop goes out in one
    // socket write, and one immediate flushes every connection written to in that turn (not an
    // immediate per connection: routing writes to a different connection for nearly every
    // stanza).
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      NodeConnection.#toFlush.push(this);
      if (NodeConnection.#toFlush.length === 1) setImmediate(NodeConnection.#flushAll);
    }
  }

  /** Connections written to since the last flush, in the order of their first write. */
  static #toFlush: NodeConnection[] = [];
  /** The list being flushed, swapped with `#toFlush` so that neither is made anew per turn. */
  static #flushing: NodeConnection[] = [];

  static #flushAll = (): void => {
    const list = NodeConnection.#toFlush;
    NodeConnection.#toFlush = NodeConnection.#flushing;
    NodeConnection.#flushing = list;
    for (let i = 0; i < list.length; i++) {
      const connection = list[i];
      // A connection flushed early (close, STARTTLS) was taken off with its flag cleared.
      if (!connection.#flushScheduled) continue;
      try {
        connection.#flush();
      } catch (error) {
        // One socket that refuses a write must not keep the others' output back: it is
        // dropped, and its close event reports the error.
        connection.#error ??= error as Error;
        connection.#socket.destroy();
      }
    }
    list.length = 0;
  };

  pause(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  resume(): void {
    this.#paused = false;
    if (!this.#upgrading && this.#onData) this.#socket.resume();
  }

  startTlsServer(options: ServerTlsOptions): Promise<void> {
    return this.#upgrade(
      (raw) =>
        new tls.TLSSocket(raw, {
          isServer: true,
          secureContext: contextFor(options.default),
          SNICallback: sniCallback(options),
          ALPNProtocols: options.alpnProtocols,
          requestCert: options.requestCertificate === true,
          rejectUnauthorized: false,
        }),
      "secure",
      (socket) => serverTlsInfo(socket, options),
    );
  }

  startTlsClient(options: ClientTlsOptions): Promise<void> {
    return this.#upgrade(
      (raw) =>
        tls.connect({
          socket: raw,
          servername: options.serverName,
          ca: options.caCerts,
          ALPNProtocols: options.alpnProtocols,
          ...clientExtras(options),
        }),
      "secureConnect",
      clientTlsInfo,
    );
  }

  close(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (this.#upgrading) {
      this.#socket.destroy();
      return;
    }
    this.#flush();
    this.#socket.end();
    // A peer that never finishes its side must not hold the socket forever.
    this.#graceTimer = setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS);
    (this.#graceTimer as { unref?: () => void }).unref?.();
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#upgrading || this.#socket.destroyed) return;
    const chunks = this.#pendingChunks;
    if (chunks !== undefined) {
      this.#pendingChunks = undefined;
      this.#socket.write(
        chunks.length === 1 ? chunks[0] : Buffer.concat(
          chunks.map((item) => typeof item === "string" ? Buffer.from(item) : item),
        ),
      );
    } else if (this.#pendingText !== "") {
      const text = this.#pendingText;
      this.#pendingText = "";
      this.#socket.write(text);
    }
  }

  #dataListener = (chunk: Uint8Array): void => {
    this.#onData?.(chunk);
  };

  #errorListener = (error: Error): void => {
    this.#error ??= error;
  };

  #closeListener = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#pendingText = "";
    this.#pendingChunks = undefined;
    clearTimeout(this.#graceTimer);
    this.#onClose?.(this.#error);
  };

  #attach(socket: net.Socket): void {
    socket.on("error", this.#errorListener);
    socket.on("close", this.#closeListener);
    if (this.#onData) socket.on("data", this.#dataListener);
  }

  #detach(socket: net.Socket): void {
    socket.off("error", this.#errorListener);
    socket.off("close", this.#closeListener);
    socket.off("data", this.#dataListener);
  }

  async #upgrade(
    wrap: (raw: net.Socket) => tls.TLSSocket,
    readyEvent: "secure" | "secureConnect",
    info: (socket: tls.TLSSocket) => TlsInfo,
  ): Promise<void> {
    if (this.#tls) throw new Error("The connection already uses TLS");
    if (this.#ending || this.#closed) throw new Error("The connection is closed");
    // What was written before (`<proceed/>`, `<starttls/>`) goes out in the clear first.
    this.#flush();
    const raw = this.#socket;
    // Without pause() the peer's ClientHello can be read (and lost) by the plain socket.
    raw.pause();
    this.#detach(raw);
    this.#upgrading = true;
    const secure = wrap(raw);
    this.#socket = secure;
    secure.on("error", this.#errorListener);
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (error?: Error) => {
          secure.off(readyEvent, ready);
          reject(
            error ?? this.#error ?? new Error("The connection closed during the TLS handshake"),
          );
        };
        const ready = () => {
          secure.off("close", fail);
          secure.off("error", fail);
          resolve();
        };
        secure.once(readyEvent, ready);
        secure.once("error", fail);
        // "close" passes a hadError boolean, not the error: that one came through "error".
        secure.once("close", () => fail());
      });
    } catch (error) {
      this.#upgrading = false;
      secure.on("close", this.#closeListener);
      secure.destroy();
      if (secure.destroyed && !this.#closed) this.#closeListener();
      throw error;
    }
    this.#upgrading = false;
    this.#tls = info(secure);
    secure.on("close", this.#closeListener);
    if (this.#onData) secure.on("data", this.#dataListener);
    if (this.#paused) secure.pause();
    if (this.#ending) {
      // close() during the handshake destroyed the socket already.
      return;
    }
    this.#flush();
  }
}

/** A listening `node:net` or `node:tls` server. */
class NodeListener implements Listener {
  readonly address: Address;
  #server: net.Server;

  constructor(server: net.Server) {
    this.#server = server;
    const bound = server.address() as net.AddressInfo;
    this.address = { hostname: bound.address, port: bound.port };
  }

  close(): Promise<void> {
    // Stops accepting; connections already accepted live on until they close.
    return new Promise((resolve) => {
      this.#server.close();
      resolve();
    });
  }
}

/** Why a listen with `reusePort` fails off Linux (the OS's name follows). */
export const REUSE_PORT_LINUX_ONLY =
  "Sharing a listening port between processes (reusePort, SO_REUSEPORT) works on Linux only; " +
  "this system is ";

export class DenoNet implements NetAdapter {
  listen(options: ListenOptions, onConnection: (conn: Connection) => void): Promise<Listener> {
    let server: net.Server;
    if (options.tls) {
      const tlsOptions = options.tls;
      server = tls.createServer({
        cert: tlsOptions.default.cert,
        key: tlsOptions.default.key,
        SNICallback: sniCallback(tlsOptions),
        ALPNProtocols: tlsOptions.alpnProtocols,
        requestCert: tlsOptions.requestCertificate === true,
        rejectUnauthorized: false,
      });
      server.on("secureConnection", (socket: tls.TLSSocket) => {
        onConnection(new NodeConnection(socket, serverTlsInfo(socket, tlsOptions)));
      });
      // A failed handshake concerns that client only.
      server.on("tlsClientError", (_error: Error, socket: tls.TLSSocket) => socket.destroy());
    } else {
      server = net.createServer((socket) => onConnection(new NodeConnection(socket)));
    }
    if (options.reusePort && Deno.build.os !== "linux") {
      return Promise.reject(new Error(REUSE_PORT_LINUX_ONLY + Deno.build.os));
    }
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      // node:net passes reusePort to the socket (SO_REUSEPORT) without --unstable-net, unlike
      // Deno.listen (docs/runtime-notes.md).
      const reusePort = options.reusePort === true;
      server.listen({ host: options.hostname, port: options.port, reusePort }, () => {
        server.off("error", reject);
        resolve(new NodeListener(server));
      });
    });
  }

  connect(options: ConnectOptions): Promise<Connection> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const clientTls = options.tls;
      const socket: net.Socket = clientTls
        ? tls.connect({
          host: options.hostname,
          port: options.port,
          servername: clientTls.serverName,
          ca: clientTls.caCerts,
          ALPNProtocols: clientTls.alpnProtocols,
          ...clientExtras(clientTls),
        })
        : net.connect({ host: options.hostname, port: options.port });
      const timer = setTimeout(() => {
        fail(new Error(`Connecting to ${options.hostname}:${options.port} timed out`));
      }, timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.off(readyEvent, ready);
        socket.destroy();
        reject(error);
      };
      const readyEvent = clientTls ? "secureConnect" : "connect";
      const ready = () => {
        clearTimeout(timer);
        socket.off("error", fail);
        const info = clientTls ? clientTlsInfo(socket as tls.TLSSocket) : undefined;
        resolve(new NodeConnection(socket, info));
      };
      socket.once(readyEvent, ready);
      socket.once("error", fail);
    });
  }
}
