/**
 * UDP (RFC 768) for tests, in-process: sockets bound in one adapter reach each other by address,
 * a datagram to a port nobody bound is lost without an error (as UDP does), and host names
 * resolve through the test's DNS table (`localhost` as 127.0.0.1).
 */

import type { Address, DatagramAdapter, DatagramSocket } from "../types.ts";
import type { DnsTable } from "./dns.ts";

/** The largest UDP payload over IPv4 (65535 - 8 bytes of UDP - 20 of IP). */
const MAX_PAYLOAD = 65_507;
const encoder = new TextEncoder();

type OnMessage = (data: Uint8Array, from: Address) => void;

const isIpv6 = (hostname: string) => hostname.includes(":");

class MemoryDatagramSocket implements DatagramSocket {
  readonly address: Address;
  readonly onMessage: OnMessage | undefined;
  #adapter: MemoryDatagrams;
  #closed = false;

  constructor(adapter: MemoryDatagrams, address: Address, onMessage: OnMessage | undefined) {
    this.#adapter = adapter;
    this.address = address;
    this.onMessage = onMessage;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async send(data: string | Uint8Array, to: Address): Promise<void> {
    if (this.#closed) throw new Error("The datagram socket is closed");
    const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
    if (bytes.length > MAX_PAYLOAD) {
      throw new Error(`A datagram of ${bytes.length} bytes is larger than UDP allows`);
    }
    const target = await this.#adapter.resolve(to.hostname);
    if (isIpv6(target) !== isIpv6(this.address.hostname)) {
      throw new Error(`Cannot send to ${target} from a socket bound to ${this.address.hostname}`);
    }
    this.#adapter.deliver(bytes, { hostname: target, port: to.port }, this.#source(target));
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#adapter.unbind(this);
    return Promise.resolve();
  }

  /** The address the receiver sees: a wildcard-bound socket speaks from loopback. */
  #source(target: string): Address {
    const { hostname, port } = this.address;
    if (hostname === "0.0.0.0") return { hostname: "127.0.0.1", port };
    if (hostname === "::") return { hostname: isIpv6(target) ? "::1" : "127.0.0.1", port };
    return this.address;
  }
}

export class MemoryDatagrams implements DatagramAdapter {
  #dns: DnsTable;
  #bound = new Map<string, MemoryDatagramSocket>();
  #nextPort = 50_000;

  constructor(dns: DnsTable) {
    this.#dns = dns;
  }

  bind(address: Address, onMessage?: OnMessage): Promise<DatagramSocket> {
    const port = address.port === 0 ? this.#freePort(address.hostname) : address.port;
    const id = `${address.hostname}:${port}`;
    if (this.#bound.has(id)) {
      const error = new Error(`Address already in use: ${id}`);
      error.name = "AddrInUse";
      return Promise.reject(error);
    }
    const socket = new MemoryDatagramSocket(
      this,
      { hostname: address.hostname, port },
      onMessage,
    );
    this.#bound.set(id, socket);
    return Promise.resolve(socket);
  }

  /** An address for a host name; rejects for a name the DNS table does not know. */
  async resolve(hostname: string): Promise<string> {
    if (hostname.toLowerCase() === "localhost") return "127.0.0.1";
    const [address] = await this.#dns.resolveAddresses(hostname);
    if (address === undefined) {
      const error = new Error(`Cannot resolve ${hostname}`);
      error.name = "NotFound";
      throw error;
    }
    return address;
  }

  /** Hands a datagram to the socket bound to `to` (or to its port on any address), if any. */
  deliver(data: Uint8Array, to: Address, from: Address): void {
    const wildcard = isIpv6(to.hostname) ? "::" : "0.0.0.0";
    const socket = this.#bound.get(`${to.hostname}:${to.port}`) ??
      this.#bound.get(`${wildcard}:${to.port}`);
    if (!socket?.onMessage) return;
    queueMicrotask(() => {
      if (!socket.closed) socket.onMessage!(data, from);
    });
  }

  unbind(socket: MemoryDatagramSocket): void {
    const id = `${socket.address.hostname}:${socket.address.port}`;
    if (this.#bound.get(id) === socket) this.#bound.delete(id);
  }

  #freePort(hostname: string): number {
    while (this.#bound.has(`${hostname}:${this.#nextPort}`)) this.#nextPort++;
    return this.#nextPort++;
  }
}
