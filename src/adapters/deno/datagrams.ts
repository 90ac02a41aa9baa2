/**
 * The datagram adapter on `node:dgram`: UDP sockets (RFC 768) for syslog (RFC 5426).
 * `node:dgram` rather than `Deno.listenDatagram`, which still needs the unstable `net` flag.
 */

import { createSocket, type Socket } from "node:dgram";
import type { Address, DatagramAdapter, DatagramSocket } from "../types.ts";

class NodeDatagramSocket implements DatagramSocket {
  readonly address: Address;
  #socket: Socket;
  #closed: Promise<void> | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    const bound = socket.address();
    this.address = { hostname: bound.address, port: bound.port };
  }

  send(data: string | Uint8Array, to: Address): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("The datagram socket is closed"));
    return new Promise((resolve, reject) => {
      this.#socket.send(data, to.port, to.hostname, (error) => error ? reject(error) : resolve());
    });
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => this.#socket.close(() => resolve()));
    return this.#closed;
  }
}

export class DenoDatagrams implements DatagramAdapter {
  bind(
    address: Address,
    onMessage?: (data: Uint8Array, from: Address) => void,
  ): Promise<DatagramSocket> {
    const socket = createSocket(address.hostname.includes(":") ? "udp6" : "udp4");
    // Failures of single sends reach their promise; this keeps others from ending the process.
    socket.on("error", () => {});
    if (onMessage) {
      socket.on("message", (message, from) => {
        onMessage(new Uint8Array(message), { hostname: from.address, port: from.port });
      });
    }
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(address.port, address.hostname, () => {
        socket.off("error", reject);
        // A socket that only sends (a log sink) must not keep the process running.
        if (!onMessage) socket.unref();
        resolve(new NodeDatagramSocket(socket));
      });
    });
  }
}
