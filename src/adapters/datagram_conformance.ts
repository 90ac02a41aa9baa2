/**
 * The shared conformance suite for DatagramAdapter implementations: UDP (RFC 768) as syslog
 * (RFC 5426) uses it, so the in-memory adapter behaves like the real one.
 */

import assert from "node:assert/strict";
import type { Address, DatagramAdapter } from "./types.ts";

/** Collects datagrams and waits for a number of them. */
class Inbox {
  readonly items: { text: string; from: Address }[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];

  readonly receive = (data: Uint8Array, from: Address): void => {
    this.items.push({ text: new TextDecoder().decode(data), from });
    this.#waiters = this.#waiters.filter((waiter) => {
      if (this.items.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  };

  /** Resolves once `count` datagrams arrived; rejects after `ms` (a bound, not a timing). */
  wait(count: number, ms = 10_000): Promise<void> {
    if (this.items.length >= count) return Promise.resolve();
    const waiter = Promise.withResolvers<void>();
    this.#waiters.push({ count, resolve: waiter.resolve });
    const timer = setTimeout(() => waiter.reject(new Error(`${count} datagrams never came`)), ms);
    return waiter.promise.finally(() => clearTimeout(timer));
  }
}

/** Lets pending deliveries happen (a loopback datagram arrives within a few event-loop turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Registers the suite's tests under `name`; `make` gives the adapter to test. */
export function datagramConformance(name: string, make: () => DatagramAdapter): void {
  const test = (title: string, body: (datagrams: DatagramAdapter) => Promise<void>) =>
    Deno.test(`DatagramAdapter (${name}) ${title}`, () => body(make()));

  test("carries datagrams of text and bytes between two bound sockets", async (datagrams) => {
    const inbox = new Inbox();
    const server = await datagrams.bind({ hostname: "127.0.0.1", port: 0 }, inbox.receive);
    const client = await datagrams.bind({ hostname: "127.0.0.1", port: 0 });
    try {
      assert.ok(server.address.port > 0);
      assert.notEqual(client.address.port, server.address.port);
      await client.send("<14>1 - - - - - - first", server.address);
      await client.send(new TextEncoder().encode("second"), server.address);
      await inbox.wait(2);
      assert.deepEqual(inbox.items.map((item) => item.text).sort(), [
        "<14>1 - - - - - - first",
        "second",
      ]);
      assert.deepEqual(inbox.items[0].from, client.address);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test("sends from a wildcard socket to a name that resolves, over IPv4", async (datagrams) => {
    const inbox = new Inbox();
    const server = await datagrams.bind({ hostname: "127.0.0.1", port: 0 }, inbox.receive);
    const client = await datagrams.bind({ hostname: "0.0.0.0", port: 0 });
    try {
      await client.send("hello", { hostname: "localhost", port: server.address.port });
      await inbox.wait(1);
      assert.equal(inbox.items[0].text, "hello");
      assert.equal(inbox.items[0].from.hostname, "127.0.0.1");
    } finally {
      await client.close();
      await server.close();
    }
  });

  test("loses a datagram to a port nobody bound without an error", async (datagrams) => {
    const gone = await datagrams.bind({ hostname: "127.0.0.1", port: 0 });
    const port = gone.address.port;
    await gone.close();
    const client = await datagrams.bind({ hostname: "127.0.0.1", port: 0 });
    try {
      await client.send("into the void", { hostname: "127.0.0.1", port });
    } finally {
      await client.close();
    }
  });

  test("rejects a send to a name that does not resolve, or too large for UDP", async (datagrams) => {
    const client = await datagrams.bind({ hostname: "0.0.0.0", port: 0 });
    try {
      await assert.rejects(client.send("x", { hostname: "syslog.nowhere.invalid", port: 514 }));
      await assert.rejects(client.send(new Uint8Array(70_000), { hostname: "127.0.0.1", port: 9 }));
    } finally {
      await client.close();
    }
  });

  test("receives nothing after close(), and refuses to send", async (datagrams) => {
    const inbox = new Inbox();
    const server = await datagrams.bind({ hostname: "127.0.0.1", port: 0 }, inbox.receive);
    const client = await datagrams.bind({ hostname: "127.0.0.1", port: 0 });
    await server.close();
    await client.send("late", server.address);
    await settle();
    assert.deepEqual(inbox.items, []);
    await client.close();
    await assert.rejects(client.send("closed", server.address));
  });

  test("refuses to bind an address already bound", async (datagrams) => {
    const first = await datagrams.bind({ hostname: "127.0.0.1", port: 0 }, () => {});
    try {
      await assert.rejects(datagrams.bind(first.address, () => {}));
    } finally {
      await first.close();
    }
  });

  test("works over IPv6 loopback", async (datagrams) => {
    const inbox = new Inbox();
    const server = await datagrams.bind({ hostname: "::1", port: 0 }, inbox.receive);
    const client = await datagrams.bind({ hostname: "::", port: 0 });
    try {
      await client.send("six", server.address);
      await inbox.wait(1);
      assert.equal(inbox.items[0].text, "six");
      assert.equal(inbox.items[0].from.hostname, "::1");
    } finally {
      await client.close();
      await server.close();
    }
  });
}
