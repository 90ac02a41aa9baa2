import assert from "node:assert/strict";
import { JID } from "../../util/jid.ts";
import { Sessions, SmSession } from "./sessions.ts";

Deno.test("Sessions indexes sessions by full and bare JID and forgets them", () => {
  const sessions = new Sessions();
  const balcony = new SmSession(JID.parse("juliet@localhost/balcony"), "c2s/1", 0);
  const chamber = new SmSession(JID.parse("juliet@localhost/chamber"), "c2s/2", 0);
  sessions.add(balcony);
  sessions.add(chamber);
  assert.equal(sessions.size, 2);
  assert.equal(sessions.get("juliet@localhost/balcony"), balcony);
  assert.deepEqual(sessions.ofUser("juliet@localhost"), [balcony, chamber]);
  assert.throws(
    () => sessions.add(new SmSession(JID.parse("juliet@localhost/balcony"), "c2s/3", 0)),
    /already exists/,
  );
  assert.equal(sessions.delete(balcony), true);
  assert.equal(sessions.delete(balcony), false);
  assert.deepEqual(sessions.ofUser("juliet@localhost"), [chamber]);
  assert.equal(sessions.delete(chamber), true);
  assert.deepEqual(sessions.ofUser("juliet@localhost"), []);
  assert.deepEqual([...sessions.all()], []);
});

Deno.test("Sessions.delete() leaves a newer session for the same JID alone", () => {
  const sessions = new Sessions();
  const old = new SmSession(JID.parse("juliet@localhost/balcony"), "c2s/1", 0);
  sessions.add(old);
  sessions.delete(old);
  const fresh = new SmSession(JID.parse("juliet@localhost/balcony"), "c2s/2", 0);
  sessions.add(fresh);
  assert.equal(sessions.delete(old), false);
  assert.equal(sessions.get("juliet@localhost/balcony"), fresh);
});
