/**
 * A `Connection` over a transport of whole messages (a WebSocket, a BOSH session), so c2s runs
 * its one protocol implementation over it: each `onData` chunk is one complete element (RFC 7395
 * §3.3.3), each `write` one element. `pause()` (c2s's karma) holds the elements that arrive
 * until `resume()`, at most `maxHeld` of them: a client that keeps sending past that is closed.
 */
import type { Address, Connection, TlsInfo } from "../../adapters/types.ts";

const encoder = new TextEncoder();

export interface MessageTransport {
  /** Sends one element to the client. */
  send(text: string): void;
  /** Ends the transport (the WebSocket's close, the BOSH session's terminate). */
  close(): void;
}

export class MessageConnection implements Connection {
  readonly remote: Address;
  readonly local: Address;
  readonly secure: boolean;
  readonly tls: TlsInfo | undefined = undefined;
  readonly #transport: MessageTransport;
  readonly #maxHeld: number;
  #onData: (chunk: Uint8Array) => void = () => {};
  #onClose: ((error?: Error) => void) | undefined;
  #held: Uint8Array[] | undefined;
  #closed = false;

  constructor(
    transport: MessageTransport,
    info: { remote: Address; local: Address; secure: boolean },
    maxHeld = 1000,
  ) {
    this.#transport = transport;
    this.remote = info.remote;
    this.local = info.local;
    this.secure = info.secure;
    this.#maxHeld = maxHeld;
  }

  /** One element from the client. */
  receive(text: string | Uint8Array): void {
    if (this.#closed) return;
    const chunk = typeof text === "string" ? encoder.encode(text) : text;
    if (!this.#held) return this.#onData(chunk);
    if (this.#held.length >= this.#maxHeld) return this.close();
    this.#held.push(chunk);
  }

  onData(callback: (chunk: Uint8Array) => void): void {
    this.#onData = callback;
  }

  onClose(callback: (error?: Error) => void): void {
    this.#onClose = callback;
  }

  write(data: string | Uint8Array): void {
    if (this.#closed) return;
    this.#transport.send(typeof data === "string" ? data : new TextDecoder().decode(data));
  }

  pause(): void {
    this.#held ??= [];
  }

  resume(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (let at = 0; at < held.length; at++) {
      if (this.#closed) return;
      if (this.#held) {
        // Paused again by one of them: keep the rest, in order.
        this.#held = held.slice(at);
        return;
      }
      this.#onData(held[at]);
    }
  }

  startTlsServer(): Promise<void> {
    return Promise.reject(new Error("STARTTLS is not possible over HTTP; use https or wss"));
  }

  startTlsClient(): Promise<void> {
    return Promise.reject(new Error("STARTTLS is not possible over HTTP"));
  }

  close(): void {
    if (this.#closed) return;
    this.#transport.close();
    this.gone();
  }

  /** The transport ended on the client's side (or after `close`): tells c2s once. */
  gone(): void {
    if (this.#closed && !this.#onClose) return;
    this.#closed = true;
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  }
}
