/**
 * Test support for `<load>`, `<exec>` and `<fork>`: a server (`testServer`) with the services a
 * test writes, XDB on `<kv>:memory:</kv>`, and a client side that records what reaches
 * `client.example` and sends messages from there.
 */
import { testServer, type TestServerOptions } from "../../server/_testing.ts";
import { xml } from "../../xml/element.ts";

/** The base modules' folder: `testdata/…` paths in a config resolve from here. */
export const BASE_DIR = new URL(".", import.meta.url).pathname.slice(0, -1);

/** `services`: `<service>` sections as config text; paths resolve from `BASE_DIR` by default. */
export async function botWorld(services: string, options: TestServerOptions = {}) {
  const world = await testServer(
    `<jabberd>${services}<xdb id="xdb"><host/><kv>:memory:</kv></xdb></jabberd>`,
    { file: `${BASE_DIR}/jabberd.xml`, ...options },
  );
  const received = world.collect("client", ["client.example"]);
  return {
    world,
    /** What reached `client.example`, oldest first. */
    received,
    /** Sends a message from the client to `to`. */
    send(to: string, body: string, from = "alice@client.example/r") {
      world.router.deliver(xml("message", { to, from }, xml("body", {}, body)));
    },
    /** The bodies of what was received (`<name>` for a packet without one). */
    bodies(): string[] {
      return received.map((p) => p.element.getChildText("body") ?? `<${p.element.name}>`);
    },
    /** The log lines so far (no log section: every one falls back). */
    get logs(): string[] {
      return world.logLines();
    },
  };
}
