import assert from "node:assert/strict";
import type { NatsBucketChange } from "../../adapters/types.ts";
import { Directory, parsePlacement, placementValue } from "./directory.ts";
import { bareKey, escapeKey, fullKey } from "./keys.ts";

const TTL = 5_000;

function beat(id: string, created: number, extra: Record<string, unknown> = {}): NatsBucketChange {
  const value = JSON.stringify({ id, sections: [`c2s-${id}`], shared: [], started: 1, ...extra });
  return { key: escapeKey(id), value, revision: 1, created };
}

Deno.test("R41 Directory.homeOf() names another live node, never this one or a silent one", () => {
  const directory = new Directory("n1", TTL);
  assert.deepEqual(directory.applyNode(beat("n2", 1_000), 1_000)?.kind, "joined");
  directory.applyHome({ key: bareKey("bob@localhost"), value: "n2", revision: 3, created: 0 });
  directory.applyHome({ key: bareKey("alice@localhost"), value: "n1", revision: 4, created: 0 });
  directory.applyHome({ key: bareKey("carol@localhost"), value: "n3", revision: 5, created: 0 });
  assert.equal(directory.homeOf("bob@localhost"), "n2");
  assert.equal(directory.homeOf("alice@localhost"), undefined, "this node is no other home");
  assert.equal(directory.homeOf("carol@localhost"), undefined, "n3 never heartbeat");
  assert.equal(directory.homeOf("dave@localhost"), undefined);
  // n2 falls silent: after the ttl its homes count as free.
  assert.deepEqual(directory.expire(1_000 + TTL), []);
  assert.deepEqual(directory.expire(1_001 + TTL).map((info) => info.id), ["n2"]);
  assert.equal(directory.homeOf("bob@localhost"), undefined);
  assert.deepEqual(directory.homesOn("n2"), ["bob@localhost"]);
});

Deno.test("R41 a heartbeat written before the ttl is not taken for a live node", () => {
  const directory = new Directory("n1", TTL);
  assert.equal(directory.applyNode(beat("n2", 1_000), 1_000 + TTL + 1), undefined);
  assert.equal(directory.isAlive("n2"), false);
});

Deno.test("R45 a deleted heartbeat entry is a loss at once, and a restarted node is a new incarnation", () => {
  const directory = new Directory("n1", TTL);
  directory.applyNode(beat("n2", 0), 0);
  const restarted = directory.applyNode(beat("n2", 10, { started: 2 }), 10);
  assert.equal(restarted?.kind, "lost");
  assert.equal(directory.applyNode(beat("n2", 20, { started: 2 }), 20)?.kind, "joined");
  const gone = directory.applyNode({
    key: escapeKey("n2"),
    value: undefined,
    revision: 9,
    created: 30,
  }, 30);
  assert.equal(gone?.kind, "lost");
  assert.equal(directory.isAlive("n2"), false);
});

Deno.test("R43 a suspected node is routed around until its next heartbeat", () => {
  const directory = new Directory("n1", TTL);
  directory.applyNode(beat("n2", 0), 0);
  directory.applyHome({ key: bareKey("bob@localhost"), value: "n2", revision: 1, created: 0 });
  assert.equal(directory.suspect("n2"), true);
  assert.equal(directory.suspect("n2"), false);
  assert.equal(directory.homeOf("bob@localhost"), undefined);
  assert.equal(directory.applyNode(beat("n2", 1_000), 1_000)?.kind, "changed");
  assert.equal(directory.homeOf("bob@localhost"), "n2");
});

Deno.test("R45 Directory.sessionsOn() lists the full JIDs a node holds", () => {
  const directory = new Directory("n1", TTL);
  directory.applySession({ key: fullKey("bob@localhost/a"), value: "n2", revision: 1, created: 0 });
  directory.applySession({ key: fullKey("bob@localhost/b"), value: "n2", revision: 2, created: 0 });
  directory.applySession({ key: fullKey("eve@localhost/x"), value: "n1", revision: 3, created: 0 });
  assert.deepEqual(directory.sessionsOn("n2"), ["bob@localhost/a", "bob@localhost/b"]);
  directory.applySession({
    key: fullKey("bob@localhost/a"),
    value: undefined,
    revision: 4,
    created: 0,
  });
  assert.deepEqual(directory.sessionsOn("n2"), ["bob@localhost/b"]);
});

Deno.test("R45 entries written by a node's earlier run are told from its current run's", () => {
  assert.deepEqual(parsePlacement(placementValue("n2", 17), 4), {
    node: "n2",
    started: 17,
    revision: 4,
  });
  assert.deepEqual(parsePlacement("n2", 5), { node: "n2", started: undefined, revision: 5 });
  const directory = new Directory("n1", TTL);
  directory.applySession({
    key: fullKey("bob@localhost/old"),
    value: "n2@1",
    revision: 1,
    created: 0,
  });
  directory.applySession({
    key: fullKey("bob@localhost/new"),
    value: "n2@2",
    revision: 2,
    created: 0,
  });
  directory.applyHome({ key: bareKey("bob@localhost"), value: "n2@2", revision: 3, created: 0 });
  assert.deepEqual(directory.sessionsOn("n2", 1), ["bob@localhost/old"]);
  assert.deepEqual(directory.homesOn("n2", 1), []);
  assert.deepEqual(directory.sessionsOn("n2").length, 2);
});

Deno.test("R47 after a NATS outage every known node gets a fresh ttl to heartbeat again", () => {
  const directory = new Directory("n1", TTL);
  directory.applyNode(beat("n2", 1_000), 1_000);
  // Cut off from NATS for longer than the ttl: n2's silence says nothing about n2.
  const back = 1_000 + 3 * TTL;
  directory.grace(back);
  assert.deepEqual(directory.expire(back + TTL), [], "alive for a ttl from the reconnect");
  assert.equal(directory.homeOf("bob@localhost"), undefined);
  assert.equal(directory.isAlive("n2"), true);
  // Still silent a ttl after the reconnect: now it is lost.
  assert.deepEqual(directory.expire(back + TTL + 1).map((info) => info.id), ["n2"]);
  // A node lost before the outage does not come back by the grace.
  directory.grace(back + 2 * TTL);
  assert.equal(directory.isAlive("n2"), false);
});
