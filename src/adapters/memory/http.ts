/**
 * In-process HTTP for unit tests: `serve` registers a handler, `fetch` calls it directly with a
 * `Request` (as Hono's `app.request()` does), and `connectWebSocket` opens a connected pair of
 * WebSockets through the handler's upgrade, delivering messages asynchronously and in order.
 */
import type {
  Address,
  HttpAdapter,
  HttpHandler,
  HttpServeOptions,
  HttpServer,
  ServerWebSocket,
} from "../types.ts";
import { ConnectionRefusedError } from "./net.ts";

/** One end of an in-memory WebSocket. */
export class MemoryWebSocket implements ServerWebSocket {
  readonly protocol: string;
  peer: MemoryWebSocket | undefined;
  #onMessage: (data: string | Uint8Array) => void = () => {};
  #onClose: () => void = () => {};
  #closed = false;
  /** The close code and reason this end received, once closed by the peer. */
  closedWith: { code: number; reason: string } | undefined;

  constructor(protocol: string) {
    this.protocol = protocol;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onMessage(callback: (data: string | Uint8Array) => void): void {
    this.#onMessage = callback;
  }

  onClose(callback: () => void): void {
    this.#onClose = callback;
  }

  send(data: string): void {
    const peer = this.peer;
    if (this.#closed || !peer) return;
    queueMicrotask(() => {
      if (!peer.#closed) peer.#onMessage(data);
    });
  }

  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    const peer = this.peer;
    // After the messages already sent, as a real close frame follows them.
    queueMicrotask(() => {
      this.#onClose();
      if (peer && !peer.#closed) {
        peer.#closed = true;
        peer.closedWith = { code, reason };
        peer.#onClose();
      }
    });
  }
}

export class MemoryHttp implements HttpAdapter {
  readonly #servers = new Map<string, { handler: HttpHandler; secure: boolean }>();
  /** Requests made by `connectWebSocket`, with the server end the upgrade hands out. */
  readonly #upgrades = new WeakMap<Request, MemoryWebSocket>();
  #nextPort = 45000;

  serve(options: HttpServeOptions, handler: HttpHandler): Promise<HttpServer> {
    const port = options.port === 0 ? this.#nextPort++ : options.port;
    const id = `${options.hostname}:${port}`;
    if (this.#servers.has(id)) {
      const error = new Error(`Address already in use: ${id}`);
      error.name = "AddrInUse";
      return Promise.reject(error);
    }
    this.#servers.set(id, { handler, secure: options.tls !== undefined });
    return Promise.resolve({
      address: { hostname: options.hostname, port },
      close: () => {
        this.#servers.delete(id);
        return Promise.resolve();
      },
    });
  }

  /** Sends a request to the server at the URL's host and port, from `from` (default 127.0.0.1). */
  async fetch(input: string | Request, init?: RequestInit, from = "127.0.0.1"): Promise<Response> {
    const request = typeof input === "string" ? new Request(input, init) : input;
    const url = new URL(request.url);
    const server = this.#servers.get(`${url.hostname.replace(/^\[|\]$/g, "")}:${url.port}`);
    if (!server) throw new ConnectionRefusedError(`Connection refused: ${url.host}`);
    const remote: Address = { hostname: from, port: 50000 };
    return await server.handler(request, { remote, secure: server.secure });
  }

  /**
   * Opens a WebSocket to `url` offering `protocols`; resolves with the client end once the server
   * upgraded, rejects with the response's status when it did not.
   */
  async connectWebSocket(
    url: string,
    protocols: string[],
    from = "127.0.0.1",
  ): Promise<MemoryWebSocket> {
    const headers = new Headers({ upgrade: "websocket", connection: "Upgrade" });
    if (protocols.length > 0) headers.set("sec-websocket-protocol", protocols.join(", "));
    const request = new Request(url.replace(/^ws/, "http"), { headers });
    const client = new MemoryWebSocket("");
    this.#upgrades.set(request, client);
    const response = await this.fetch(request, undefined, from);
    const server = client.peer;
    if (!server || response.headers.get("upgrade") !== "websocket") {
      throw new Error(`WebSocket refused with HTTP ${response.status}`);
    }
    return Object.assign(client, { protocol: server.protocol }) as MemoryWebSocket;
  }

  upgradeWebSocket(
    request: Request,
    options: { protocol?: string },
  ): { response: Response; socket: ServerWebSocket } {
    const client = this.#upgrades.get(request);
    if (!client) throw new TypeError("Not a WebSocket upgrade request");
    const server = new MemoryWebSocket(options.protocol ?? "");
    server.peer = client;
    client.peer = server;
    const headers = new Headers({ upgrade: "websocket" });
    if (options.protocol) headers.set("sec-websocket-protocol", options.protocol);
    // A Response cannot have status 101 outside a runtime's upgrade; the headers say it.
    return { response: new Response(null, { status: 200, headers }), socket: server };
  }
}
