import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";

const CERT_DIR = "/etc/jabberd/data/certs";

/** c2s with its domain and `extra` settings, no `<certificate>`; sm-less: c2s only starts. */
function config(c2s: string, more = ""): string {
  return `<jabberd>
    <service id="c2s">
      <c2s xmlns="jabberd:config:c2s"><domain>localhost</domain>${c2s}</c2s>
    </service>${more}
  </jabberd>`;
}

Deno.test('4 c2s with <tcp enabled="false"/> and no HTTPS listener makes no CA and no certificate', async () => {
  await using world = await testServer(config(`<tcp enabled="false"/>`));
  assert.equal(await world.adapters.files.exists(`${CERT_DIR}/server.pem`), false);
  assert.equal(await world.adapters.files.exists(`${CERT_DIR}/ca.pem`), false);
  assert.ok(
    !world.logLines().some((line) => line.includes("made a CA")),
    world.logLines().join("\n"),
  );
});

Deno.test("4 c2s with a TCP listener still makes its CA and certificate when none is configured", async () => {
  await using world = await testServer(config(`<listen port="0" address="127.0.0.1"/>`));
  assert.equal(await world.adapters.files.exists(`${CERT_DIR}/server.pem`), true);
  assert.ok(world.logLines().some((line) => line.includes("made a CA")));
});

Deno.test('4 c2s with <tcp enabled="false"/> makes its certificate when an http <listen tls="true"> takes it', async () => {
  await using world = await testServer(config(
    `<tcp enabled="false"/>`,
    `<service id="http">
      <http xmlns="jabberd:config:http"><listen port="0" ip="127.0.0.1" tls="true"/></http>
    </service>`,
  ));
  assert.equal(await world.adapters.files.exists(`${CERT_DIR}/server.pem`), true);
  assert.ok(
    world.server.addresses().some((address) => address.name === "https"),
    "the HTTPS listener started",
  );
});
