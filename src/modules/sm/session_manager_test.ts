import assert from "node:assert/strict";
import { smWorld } from "./_testing.ts";
import { formatDuration } from "./session_manager.ts";

Deno.test("formatDuration() writes the largest units down to seconds", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(42_999), "42s");
  assert.equal(formatDuration(303_000), "5m 3s");
  assert.equal(formatDuration(7_209_000), "2h 0m 9s");
  assert.equal(formatDuration(3 * 86_400_000 + 3_600_000), "3d 1h 0m 0s");
});

Deno.test("SessionManager logs each logout at info with the session's length and reason", async () => {
  const world = await smWorld();
  try {
    const bob = world.bind("bob@localhost/slix");
    const alice = world.bind("alice@localhost/phone");
    world.clock.advance(303_000);
    world.unbind(bob);
    world.bind("alice@localhost/phone"); // a new login takes the resource: alice's ends
    const logouts = world.logLines().filter((line) => line.includes("logged out"));
    assert.deepEqual(logouts, [
      "[info] (sm) bob@localhost/slix logged out after 5m 3s (closed)",
      "[info] (sm) alice@localhost/phone logged out after 5m 3s (replaced)",
    ]);
    assert.equal(world.sm.sessions.get("alice@localhost/phone") === alice, false);
  } finally {
    await world.stop();
  }
});
