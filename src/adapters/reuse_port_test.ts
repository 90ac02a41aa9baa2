/**
 * `ListenOptions.reusePort` (docs/adapters.md): listeners that all ask for it share one port and
 * the connections are spread over them (Linux SO_REUSEPORT; round robin in memory), a listener
 * that does not ask is refused the port, and closing one leaves the others accepting. The nodes
 * of `jabberd start --nodes N` rely on it (src/cli/supervised.ts).
 */
import assert from "node:assert/strict";
import { DenoHttp } from "./deno/http.ts";
import { DenoNet } from "./deno/net.ts";
import { MemoryNet } from "./memory/net.ts";
import type { Connection, NetAdapter } from "./types.ts";

/** Connects `count` times; each listener answers with its name, which is what is returned. */
async function whoAnswers(net: NetAdapter, port: number, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const conn = await net.connect({ hostname: "127.0.0.1", port });
    names.push(
      await new Promise<string>((resolve, reject) => {
        conn.onData((chunk) => resolve(new TextDecoder().decode(chunk)));
        conn.onClose((error) => reject(error ?? new Error("closed without an answer")));
      }),
    );
    conn.close();
  }
  return names;
}

const answer = (name: string) => (conn: Connection) => {
  conn.write(name);
  conn.close();
};

for (
  const [name, make] of [["memory", () => new MemoryNet()], ["Deno", () => new DenoNet()]] as const
) {
  Deno.test(`${name} net: two listeners with reusePort share one port and both get connections`, async () => {
    const net = make();
    const one = await net.listen(
      { hostname: "127.0.0.1", port: 0, reusePort: true },
      answer("one"),
    );
    const port = one.address.port;
    const two = await net.listen({ hostname: "127.0.0.1", port, reusePort: true }, answer("two"));
    try {
      // The kernel hashes each connection's addresses: 40 connections all landing on one of two
      // listeners would happen once in 2^39 runs.
      const names = await whoAnswers(net, port, 40);
      assert.ok(names.includes("one") && names.includes("two"), names.join(","));
    } finally {
      await two.close();
    }
    try {
      const after = await whoAnswers(net, port, 5);
      assert.deepEqual(after, ["one", "one", "one", "one", "one"], "the other still accepts");
    } finally {
      await one.close();
    }
  });

  Deno.test(`${name} net: a listener without reusePort is refused a port already shared`, async () => {
    const net = make();
    const one = await net.listen(
      { hostname: "127.0.0.1", port: 0, reusePort: true },
      answer("one"),
    );
    try {
      await assert.rejects(
        net.listen({ hostname: "127.0.0.1", port: one.address.port }, answer("two")),
        /in use|EADDRINUSE/i,
      );
    } finally {
      await one.close();
    }
  });

  Deno.test(`${name} net: a listener with reusePort is refused a port taken without it`, async () => {
    const net = make();
    const one = await net.listen({ hostname: "127.0.0.1", port: 0 }, answer("one"));
    try {
      await assert.rejects(
        net.listen({ hostname: "127.0.0.1", port: one.address.port, reusePort: true }, answer("x")),
        /in use|EADDRINUSE/i,
      );
    } finally {
      await one.close();
    }
  });
}

Deno.test("Deno http: two servers with reusePort share one port and both answer requests", async () => {
  const http = new DenoHttp();
  const one = await http.serve(
    { hostname: "127.0.0.1", port: 0, reusePort: true },
    () => new Response("one"),
  );
  const port = one.address.port;
  const two = await http.serve(
    { hostname: "127.0.0.1", port, reusePort: true },
    () => new Response("two"),
  );
  try {
    const names = new Set<string>();
    // A new connection per request (no keep-alive), so the kernel picks a server each time.
    for (let i = 0; i < 40 && names.size < 2; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { connection: "close" },
      });
      names.add(await response.text());
    }
    assert.deepEqual([...names].sort(), ["one", "two"]);
  } finally {
    await two.close();
    await one.close();
  }
});
