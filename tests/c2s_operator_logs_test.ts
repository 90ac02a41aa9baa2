// The lines an operator needs from c2s at info level or above: certificates made, accounts
// registered, failed logins (never the password), and which limit refused a client.
import assert from "node:assert/strict";
import { testServer } from "../src/server/_testing.ts";
import { addUser, c2sServerConfig, rawClient, scramLogin } from "../src/modules/c2s/_testing.ts";

/** The world's log lines at info or above, `[level] (from) text`. */
function operatorLines(world: { logLines(): string[] }): string[] {
  return world.logLines().filter((line) => !line.startsWith("[debug]"));
}

function assertLine(world: { logLines(): string[] }, pattern: RegExp): void {
  const lines = operatorLines(world);
  assert.ok(lines.some((line) => pattern.test(line)), `${pattern} not in:\n${lines.join("\n")}`);
}

Deno.test("c2s logs the certificate it made and where", async () => {
  await using world = await testServer(c2sServerConfig("", { certificate: false }));
  assertLine(
    world,
    /^\[(info|notice)\] \(c2s\) c2s: made a CA and a certificate for localhost in \/etc\/jabberd\/data\/certs \(server\.pem, key server\.key, CA ca\.pem\)$/,
  );
});

Deno.test("c2s logs the account name of a registration and of a failed login, never the password", async () => {
  await using world = await testServer(c2sServerConfig('<register from="127.0.0.0/8"/>'));
  const carol = await rawClient(world);
  await carol.starttls();
  carol.open();
  await carol.next(/<\/stream:features>/);
  carol.send(
    "<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>carol</username>" +
      "<password>hunter2</password></query></iq>",
  );
  await carol.next(/id='r1'/);
  assertLine(
    world,
    /^\[(info|notice)\] \(c2s\) c2s: registered carol@localhost from 127\.0\.0\.1$/,
  );

  await addUser(world, "alice");
  const mallory = await rawClient(world);
  await mallory.starttls();
  mallory.open();
  await mallory.next(/<\/stream:features>/);
  assert.match(await scramLogin(mallory, "SCRAM-SHA-256", "alice", "guess1"), /not-authorized/);
  mallory.send(
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${
      new TextEncoder().encode("\0alice\0guess2").toBase64()
    }</auth>`,
  );
  await mallory.next(/<\/failure>/);
  assertLine(
    world,
    /^\[(info|notice)\] \(c2s\) c2s: failed login as alice@localhost from 127\.0\.0\.1 with SCRAM-SHA-256: not-authorized$/,
  );
  assertLine(
    world,
    /^\[(info|notice)\] \(c2s\) c2s: failed login as alice@localhost from 127\.0\.0\.1 with PLAIN: not-authorized$/,
  );
  const all = world.logLines().join("\n");
  for (const secret of ["hunter2", "guess1", "guess2"]) {
    assert.doesNotMatch(all, new RegExp(secret));
  }
});

Deno.test("c2s logs which limit refused a connection and a registration, naming the setting", async () => {
  await using world = await testServer(
    c2sServerConfig(
      '<limits connections-per-ip="1"/><register from="127.0.0.0/8" rate="1" per="10m"/>',
    ),
  );
  const first = await rawClient(world);
  await first.starttls();
  first.open();
  await first.next(/<\/stream:features>/);
  const second = await rawClient(world);
  await second.closed();
  assertLine(
    world,
    /^\[(info|notice)\] \(c2s\) c2s: refused a connection from 127\.0\.0\.1: 1 connections from one address \(limit <limits connections-per-ip>\)$/,
  );
  const register = (id: string, user: string) =>
    first.send(
      `<iq type='set' id='${id}'><query xmlns='jabber:iq:register'><username>${user}</username>` +
        "<password>pw</password></query></iq>",
    );
  register("r1", "dave");
  await first.next(/id='r1'/);
  register("r2", "erin");
  assert.match(await first.next(/<\/iq>/), /resource-constraint/);
  assertLine(
    world,
    /^\[(info|notice)\] \(c2s\) c2s: refused a registration from 127\.0\.0\.1: 1 registrations in 10m from one address \(limit <register rate per>\)$/,
  );
});
