import assert from "node:assert/strict";
import { Packet } from "../../tree/packet.ts";
import { xml } from "../../xml/element.ts";
import { DEFAULT_FORMAT, fieldsOf, formatLine, parseFormat } from "./line.ts";

const TIME = Date.UTC(2024, 4, 17, 8, 30, 5, 250);

Deno.test("formatLine() writes jabberd 1.4's %d: [%t] (%h): %s template", () => {
  const line = formatLine(parseFormat("%d: [%t] (%h): %s"), {
    time: TIME,
    host: "example.org",
    type: "alert",
    text: "disk full",
  });
  assert.equal(line, "2024-05-17T08:30:05.250Z: [alert] (example.org): disk full");
});

Deno.test("formatLine() writes %% as one percent sign and keeps other text as written", () => {
  const line = formatLine(parseFormat("100%% %s%%"), {
    time: TIME,
    host: "h",
    type: "t",
    text: "done",
  });
  assert.equal(line, "100% done%");
});

Deno.test("parseFormat() refuses an unknown field and a lone percent sign at the end", () => {
  assert.throws(() => parseFormat("%d %x"), { message: /Unknown field %x in the format/ });
  assert.throws(() => parseFormat("%s 100%"), { message: /ends with a lone %/ });
});

Deno.test("formatLine() escapes line breaks and control characters so a text stays one line", () => {
  const line = formatLine(parseFormat("%h %s"), {
    time: TIME,
    host: "evil\nhost",
    type: "info",
    text: "a\r\nfake line\u001b[31m\tend",
  });
  assert.equal(line, "evil\\nhost a\\r\\nfake line\\u001b[31m\tend");
});

Deno.test("fieldsOf() reads from, type and text of a log packet, with - for a missing one", () => {
  const packet = new Packet(xml("log", { type: "warn", from: "user@example.org" }, "slow"));
  assert.deepEqual(fieldsOf(packet, TIME), {
    time: TIME,
    host: "user@example.org",
    type: "warn",
    text: "slow",
  });
  const bare = new Packet(xml("log", {}, "x"));
  assert.equal(
    formatLine(parseFormat(DEFAULT_FORMAT), fieldsOf(bare, TIME)),
    `${new Date(TIME).toISOString()} - - x`,
  );
});
