/**
 * HTTP and WebSocket serving on `Deno.serve` and `Deno.upgradeWebSocket` (RFC 6455), for the
 * http component (XEP-0156, RFC 7395, XEP-0206, the admin API and metrics).
 */
import type {
  HttpAdapter,
  HttpHandler,
  HttpServeOptions,
  HttpServer,
  ServerWebSocket,
} from "../types.ts";
import { REUSE_PORT_LINUX_ONLY } from "./net.ts";

export class DenoHttp implements HttpAdapter {
  serve(options: HttpServeOptions, handler: HttpHandler): Promise<HttpServer> {
    const secure = options.tls !== undefined;
    const abort = new AbortController();
    if (options.reusePort && Deno.build.os !== "linux") {
      return Promise.reject(new Error(REUSE_PORT_LINUX_ONLY + Deno.build.os));
    }
    return new Promise((resolve, reject) => {
      try {
        const server = Deno.serve({
          hostname: options.hostname,
          port: options.port,
          // Needs "unstable": ["net"] in deno.json (docs/runtime-notes.md).
          ...(options.reusePort ? { reusePort: true } : {}),
          signal: abort.signal,
          ...(options.tls ? { cert: options.tls.default.cert, key: options.tls.default.key } : {}),
          onListen: () => {},
          onError: (error) => {
            console.error(`http: a handler failed: ${error}`);
            return new Response("Internal server error", { status: 500 });
          },
        }, (request, info) => {
          const remote = info.remoteAddr as Deno.NetAddr;
          return handler(request, {
            remote: { hostname: remote.hostname, port: remote.port },
            secure,
          });
        });
        const addr = server.addr as Deno.NetAddr;
        resolve({
          address: { hostname: addr.hostname, port: addr.port },
          close: async () => {
            abort.abort();
            await server.finished;
          },
        });
      } catch (error) {
        reject(error);
      }
    });
  }

  fetch(input: string, init?: RequestInit): Promise<Response> {
    return globalThis.fetch(input, init);
  }

  upgradeWebSocket(
    request: Request,
    options: { protocol?: string },
  ): { response: Response; socket: ServerWebSocket } {
    const { socket, response } = Deno.upgradeWebSocket(request, { protocol: options.protocol });
    return { response, socket: new DenoServerWebSocket(socket, options.protocol ?? "") };
  }
}

/** A `WebSocket` as the event-driven `ServerWebSocket`, keeping sends until it is open. */
class DenoServerWebSocket implements ServerWebSocket {
  readonly protocol: string;
  readonly #socket: WebSocket;
  #pending: string[] | undefined = [];
  #closed = false;
  #onClose: () => void = () => {};

  constructor(socket: WebSocket, protocol: string) {
    this.#socket = socket;
    this.protocol = protocol;
    socket.onopen = () => {
      const pending = this.#pending ?? [];
      this.#pending = undefined;
      for (const data of pending) socket.send(data);
    };
    socket.onclose = () => this.#gone();
    socket.onerror = () => this.#gone();
  }

  onMessage(callback: (data: string | Uint8Array) => void): void {
    this.#socket.onmessage = (event) => {
      const data = event.data;
      callback(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
    };
  }

  onClose(callback: () => void): void {
    this.#onClose = callback;
  }

  send(data: string): void {
    if (this.#closed) return;
    if (this.#pending) this.#pending.push(data);
    else this.#socket.send(data);
  }

  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    if (this.#pending) {
      // Not open yet: close once the handshake is done, after what was sent.
      const socket = this.#socket;
      socket.addEventListener("open", () => socket.close(code, reason), { once: true });
      return;
    }
    this.#socket.close(code, reason);
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
  }
}
