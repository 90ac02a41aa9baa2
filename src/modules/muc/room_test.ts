/** Tests of a room's state and its stored form. */
import assert from "node:assert/strict";
import { xml } from "../../xml/element.ts";
import { defaultConfig, Room } from "./room.ts";

Deno.test("Room.toElement() and Room.fromElement() keep configuration, affiliations and subject", () => {
  const room = new Room("r@c", defaultConfig("r", 20), 20);
  room.config = {
    ...room.config,
    persistent: true,
    membersOnly: true,
    password: "pw",
    whois: "anyone",
    allowPm: "none",
    maxUsers: 7,
  };
  room.setAffiliation("a@l", "owner");
  room.setAffiliation("b@l", "outcast");
  room.subject = { text: "Potions", nick: "Alice", stamp: 5 };
  const back = Room.fromElement("r@c", room.toElement(), defaultConfig("r", 20), 20);
  assert.deepEqual(back.config, room.config);
  assert.deepEqual([...back.affiliations], [["a@l", "owner"], ["b@l", "outcast"]]);
  assert.deepEqual(back.subject, room.subject);
});

Deno.test("Room.fromElement() keeps the defaults for what is missing or wrong", () => {
  const back = Room.fromElement(
    "r@c",
    xml(
      "room",
      {},
      xml("config", { "max-users": "-3", whois: "all" }),
      xml("affiliation", { jid: "x@l", affiliation: "king" }),
    ),
    defaultConfig("r", 20),
    20,
  );
  assert.equal(back.config.maxUsers, 0);
  assert.equal(back.config.whois, "moderators");
  assert.equal(back.config.persistent, true);
  assert.equal(back.affiliations.size, 0);
});

Deno.test("Room.addHistory() keeps the last messages up to the limit", () => {
  const room = new Room("r@c", defaultConfig("r", 2), 2);
  for (const n of [1, 2, 3]) room.addHistory(xml("message", {}, xml("body", {}, `m${n}`)), n);
  assert.deepEqual(room.history.map((e) => e.stamp), [2, 3]);
  assert.equal(room.defaultRole("admin"), "moderator");
  room.config.moderated = true;
  assert.equal(room.defaultRole("none"), "visitor");
  assert.equal(room.defaultRole("member"), "participant");
});
