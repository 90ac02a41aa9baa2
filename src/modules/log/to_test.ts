import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { xml } from "../../xml/element.ts";
import { logSection } from "./_testing.ts";
import { BURST, toModule, WINDOW_MS } from "./to.ts";

Deno.test("<to> sends each line as a chat message from the section id", async () => {
  const { delivered, log, stop, fallback } = await logSection(`<to>admin@example.org</to>`);
  log("alert", "disk full", "example.org");
  assert.equal(delivered.length, 1);
  assert.equal(
    delivered[0].element.toString(),
    "<message to='admin@example.org' from='elogger' type='chat'>" +
      "<body>2024-05-17T08:30:05.000Z example.org alert disk full</body></message>",
  );
  assert.deepEqual(fallback, []);
  await stop();
});

Deno.test("<to> takes the bounce of its message silently: no log line about a log line", async () => {
  const { router, log, stop, fallback, memory } = await logSection(
    `<to>admin@slow.example.org</to><stderr/>`,
  );
  // A service that fails later: the bounce comes back after the delivery has returned.
  const received: string[] = [];
  router.addInstance("slow").add("deliver", async (packet) => {
    received.push(packet.element.getChildText("body")!);
    await Promise.resolve();
    return "error" as const;
  });
  router.tree.insert("normal", "slow.example.org", "slow");
  log("warn", "first");
  await router.idle();
  await router.idle();
  assert.deepEqual(received, ["2024-05-17T08:30:05.000Z example.org warn first"]);
  assert.deepEqual(fallback, [], "no report of a dropped bounce");
  assert.deepEqual(memory.output.stderr, ["2024-05-17T08:30:05.000Z example.org warn first\n"]);
  await stop();
});

Deno.test("<to> does not send a line logged while it is delivering a line", async () => {
  const { router, log, stop, memory } = await logSection(
    `<to>admin@chatty.example.org</to><stderr/>`,
  );
  // A service that logs about every message it handles: without the guard this never ends.
  const seen: string[] = [];
  router.addInstance("chatty").add("deliver", (packet) => {
    seen.push(packet.element.getChildText("body")!);
    router.deliver(xml("log", { type: "info", from: "chatty.example.org" }, "got a message"));
    return "done";
  });
  router.tree.insert("normal", "chatty.example.org", "chatty");
  log("warn", "one");
  assert.deepEqual(seen, ["2024-05-17T08:30:05.000Z example.org warn one"]);
  // The other sink still wrote the line the delivery caused.
  assert.deepEqual(memory.output.stderr, [
    "2024-05-17T08:30:05.000Z chatty.example.org info got a message\n",
    "2024-05-17T08:30:05.000Z example.org warn one\n",
  ]);
  await stop();
});

Deno.test("<to> sends at most BURST messages per window and counts the rest", async () => {
  const { delivered, log, memory, stop } = await logSection(`<to>admin@example.org</to>`);
  for (let i = 0; i < BURST + 5; i++) log("info", `line ${i}`);
  assert.equal(delivered.length, BURST);
  memory.clock.advance(WINDOW_MS);
  log("info", "later");
  assert.equal(delivered.length, BURST + 1);
  assert.match(
    delivered[BURST].element.getChildText("body")!,
    /^\(5 earlier lines not sent\) .* later$/,
  );
  await stop();
});

Deno.test("toModule.validate() refuses a missing or malformed address", () => {
  const problems: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: () => {},
  };
  toModule.validate!(xml("to", {}, "admin@example.org"), context);
  assert.deepEqual(problems, []);
  toModule.validate!(xml("to"), context);
  toModule.validate!(xml("to", {}, "@example.org"), context);
  assert.equal(problems.length, 2);
  assert.match(problems[0], /^<to> needs an address/);
  assert.match(problems[1], /^<to> is not a valid address: /);
});
