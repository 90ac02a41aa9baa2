/**
 * A whole server in-process for raw-protocol tests: the real config loader, c2s, the session
 * manager with every feature and XDB, on the memory adapters (memory net with simulated TLS,
 * memory KV that outlives a restart of the server, a manual clock). Clients are the raw ones of
 * `src/modules/c2s/testing.ts`, so a test sees exactly what the server writes.
 */
import { memoryAdapters } from "../src/adapters/memory/mod.ts";
import { testCertificates } from "../src/adapters/net_conformance.ts";
import { createAccount } from "../src/accounts/store.ts";
import { addresses } from "../src/modules/c2s/mod.ts";
import { boundClient, rawClient } from "../src/modules/c2s/testing.ts";
import type { XdbClient } from "../src/server/module_api.ts";
import { Section } from "../src/server/section.ts";
import type { Server } from "../src/server/server.ts";
import { Element } from "../src/xml/element.ts";
import { startServer } from "./start_server.ts";

export const CONFIG_FILE = "/etc/jabberd/jabberd.xml";

/** The config: `sm` holds extra `<sm>` settings. */
export function serverConfig(sm = ""): string {
  return `<jabberd>
    <service id="c2s">
      <c2s xmlns="jabberd:config:c2s">
        <domain>localhost</domain>
        <listen port="0" address="127.0.0.1"/>
        <certificate host="localhost" cert="tls.pem" key="tls.key"/>
        <register from="127.0.0.0/8" rate="3" per="10m"/>
      </c2s>
    </service>
    <service id="sessions">
      <host>localhost</host>
      <sm xmlns="jabberd:config:sm">${sm}</sm>
    </service>
    <xdb id="xdb"><host/><kv>data/jabberd.kv</kv></xdb>
  </jabberd>`;
}

export async function serverWorld(config = serverConfig()) {
  const certs = testCertificates();
  const memory = memoryAdapters({
    files: {
      [CONFIG_FILE]: config,
      "/etc/jabberd/tls.pem": certs.localhost.cert,
      "/etc/jabberd/tls.key": certs.localhost.key,
    },
  });
  const logs: string[] = [];
  let server: Server;
  let xdb: XdbClient;
  const world = {
    memory,
    certs,
    logs,
    get port() {
      return addresses.get("c2s")![0].port;
    },
    get server() {
      return server;
    },
    /** Starts (again, after `stop`) on the same memory storage. */
    async start() {
      server = await startServer(config, CONFIG_FILE, {
        adapters: memory.adapters,
        fallbackLog: (packet) => logs.push(packet.element.text()),
      });
      // A requester of our own on the tree, to create accounts through XDB as the CLI does.
      const requester = new Section({
        id: "test-accounts",
        kind: "service",
        router: server.router,
        adapters: memory.adapters,
        configDir: "/etc/jabberd",
      });
      await requester.load({
        element: "accounts",
        sections: ["service"],
        register: (api) => void (xdb = api.xdb),
      }, new Element("accounts"));
    },
    async stop() {
      await server.stop();
    },
    async addUser(user: string, password = "secret") {
      await createAccount(xdb, `${user}@localhost`, password, { iterations: 4096 });
    },
    /** A raw client over the memory net, not logged in. */
    client: () => rawClient(world as never),
    /** A raw client that did STARTTLS, SCRAM-SHA-256 and bound `resource`. */
    login: (user: string, resource = "r", password = "secret") =>
      boundClient(world as never, user, password, resource),
  };
  await world.start();
  return world;
}
