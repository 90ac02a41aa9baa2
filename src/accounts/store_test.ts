import assert from "node:assert/strict";
import { testServer } from "../server/_testing.ts";
import { StanzaError } from "../util/errors.ts";
import { xml } from "../xml/element.ts";
import { NS_CREDENTIALS, verifyPlain } from "./credentials.ts";
import {
  accountExists,
  createAccount,
  deleteAccount,
  getCredentials,
  listAccounts,
  NS_USERS,
  setPassword,
} from "./store.ts";

const HOST = "example.org";

async function world() {
  return await testServer(`<jabberd><xdb id="xdb"><host/><kv>:memory:</kv></xdb></jabberd>`);
}

function condition(expected: string) {
  return (error: unknown) => error instanceof StanzaError && error.condition === expected;
}

Deno.test("createAccount() stores SCRAM credentials and lists the user on its host", async () => {
  const w = await world();
  try {
    const jid = await createAccount(w.xdb, `Alice@${HOST}/phone`, "secret", { iterations: 500 });
    assert.equal(jid.toString(), `alice@${HOST}`);
    const stored = await w.xdb.get(`alice@${HOST}`, NS_CREDENTIALS);
    assert.deepEqual(stored?.getChildren("scram").map((e) => e.attrs.iterations), ["500", "500"]);
    assert.ok(!stored?.toString().includes("secret"));
    const credentials = await getCredentials(w.xdb, `alice@${HOST}`);
    assert.equal(await verifyPlain(credentials!, "secret"), true);
    assert.equal(await accountExists(w.xdb, `alice@${HOST}`), true);
    assert.deepEqual(await listAccounts(w.xdb, HOST), [`alice@${HOST}`]);
  } finally {
    await w.stop();
  }
});

Deno.test("createAccount() fails with conflict when the account exists", async () => {
  const w = await world();
  try {
    await createAccount(w.xdb, `bob@${HOST}`, "one", { iterations: 100 });
    await assert.rejects(createAccount(w.xdb, `bob@${HOST}`, "two"), condition("conflict"));
    assert.equal(await verifyPlain((await getCredentials(w.xdb, `bob@${HOST}`))!, "one"), true);
    assert.deepEqual(await listAccounts(w.xdb, HOST), [`bob@${HOST}`]);
  } finally {
    await w.stop();
  }
});

Deno.test("createAccount() refuses a JID without localpart and an empty password", async () => {
  const w = await world();
  try {
    await assert.rejects(createAccount(w.xdb, HOST, "x"), condition("jid-malformed"));
    await assert.rejects(createAccount(w.xdb, "@@", "x"), condition("jid-malformed"));
    await assert.rejects(createAccount(w.xdb, `c@${HOST}`, ""), condition("not-acceptable"));
    assert.equal(await accountExists(w.xdb, `c@${HOST}`), false);
  } finally {
    await w.stop();
  }
});

Deno.test("setPassword() replaces the credentials, and fails with item-not-found for no account", async () => {
  const w = await world();
  try {
    await createAccount(w.xdb, `carol@${HOST}`, "old", { iterations: 100 });
    await setPassword(w.xdb, `carol@${HOST}`, "new", { iterations: 200 });
    const credentials = (await getCredentials(w.xdb, `carol@${HOST}`))!;
    assert.equal(await verifyPlain(credentials, "new"), true);
    assert.equal(await verifyPlain(credentials, "old"), false);
    assert.equal(credentials.scram[0].iterations, 200);
    await assert.rejects(setPassword(w.xdb, `nobody@${HOST}`, "x"), condition("item-not-found"));
  } finally {
    await w.stop();
  }
});

Deno.test("setPassword() without iterations keeps the account's iteration count", async () => {
  const w = await world();
  try {
    await createAccount(w.xdb, `dave@${HOST}`, "old", { iterations: 4096 });
    await setPassword(w.xdb, `dave@${HOST}`, "new");
    const credentials = (await getCredentials(w.xdb, `dave@${HOST}`))!;
    assert.deepEqual(credentials.scram.map((entry) => entry.iterations), [4096, 4096]);
    assert.equal(await verifyPlain(credentials, "new"), true);
  } finally {
    await w.stop();
  }
});

Deno.test("deleteAccount() removes credentials, per-user data and the list entry", async () => {
  const w = await world();
  try {
    await createAccount(w.xdb, `dave@${HOST}`, "pw", { iterations: 100 });
    await createAccount(w.xdb, `a=b%c@${HOST}`, "pw", { iterations: 100 });
    const roster = xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "x@y" }));
    await w.xdb.set(`dave@${HOST}`, "jabber:iq:roster", roster);
    await w.xdb.set(`dave@${HOST}`, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }));
    await deleteAccount(w.xdb, `dave@${HOST}`);
    assert.equal(await accountExists(w.xdb, `dave@${HOST}`), false);
    assert.equal(await w.xdb.get(`dave@${HOST}`, "jabber:iq:roster"), undefined);
    assert.equal(await w.xdb.get(`dave@${HOST}`, "vcard-temp"), undefined);
    assert.deepEqual(await listAccounts(w.xdb, HOST), [`a=b%c@${HOST}`]);
    await deleteAccount(w.xdb, `a=b%c@${HOST}`);
    assert.deepEqual(await listAccounts(w.xdb, HOST), []);
    assert.equal((await w.xdb.get(HOST, NS_USERS))?.getChildren("user").length ?? 0, 0);
    await assert.rejects(deleteAccount(w.xdb, `dave@${HOST}`), condition("item-not-found"));
  } finally {
    await w.stop();
  }
});

Deno.test("listAccounts() is empty for a host without accounts", async () => {
  const w = await world();
  try {
    assert.deepEqual(await listAccounts(w.xdb, HOST), []);
  } finally {
    await w.stop();
  }
});
