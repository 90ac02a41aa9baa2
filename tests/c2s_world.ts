/**
 * A whole server for the c2s hardening tests (`testServer` with c2s, the real session manager
 * and XDB on memory adapters), with the raw clients of `src/modules/c2s/testing.ts` attached.
 */
import { createAccount } from "../src/accounts/store.ts";
import { boundClient, rawClient } from "../src/modules/c2s/testing.ts";
import type { TestServer } from "../src/server/_testing.ts";

/** The config; `c2s` adds settings to the c2s element, `certificate` false leaves it out. */
export function c2sServerConfig(c2s = "", certificate = true): string {
  return `<jabberd>
    <service id="c2s">
      <c2s xmlns="jabberd:config:c2s">
        <domain>localhost</domain>
        <listen port="0" address="127.0.0.1"/>
        ${certificate ? '<certificate host="localhost" cert="tls.pem" key="tls.key"/>' : ""}
        <scram iterations="4096"/>
        ${c2s}
      </c2s>
    </service>
    <service id="sessions">
      <host>localhost</host>
      <sm xmlns="jabberd:config:sm"/>
    </service>
    <xdb id="xdb"><host/><kv>data/jabberd.kv</kv></xdb>
  </jabberd>`;
}

/** What the raw clients read of a world: its memory net, test CA and c2s port. */
function clientWorld(world: TestServer) {
  return { memory: world.memory, certs: world.certs, port: world.address("c2s").port } as never;
}

export const client = (world: TestServer, hostname?: string) =>
  rawClient(clientWorld(world), hostname);

export async function login(world: TestServer, user: string, resource = "r", password = "secret") {
  return await boundClient(clientWorld(world), user, password, resource);
}

export async function addUser(world: TestServer, user: string, password = "secret") {
  await createAccount(world.xdb, `${user}@localhost`, password, { iterations: 4096 });
}
