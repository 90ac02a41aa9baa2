import assert from "node:assert/strict";
import { StreamError } from "../../util/errors.ts";
import { parseFragment } from "../../xml/stream_parser.ts";
import { checkServerHeader, newStreamId, serverHeader } from "./stream.ts";

const header = (attrs: string) =>
  parseFragment(`<stream:stream xmlns:stream="http://etherx.jabber.org/streams" ${attrs}/>`);

function conditionOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof StreamError) return error.condition;
    throw error;
  }
  return undefined;
}

Deno.test("checkServerHeader() accepts jabber:server version 1.0", () => {
  assert.equal(
    conditionOf(() => checkServerHeader(header(`xmlns="jabber:server" version="1.0"`))),
    undefined,
  );
});

Deno.test("checkServerHeader() refuses another namespace with invalid-namespace", () => {
  assert.equal(
    conditionOf(() => checkServerHeader(header(`xmlns="jabber:client" version="1.0"`))),
    "invalid-namespace",
  );
});

Deno.test("checkServerHeader() refuses a stream without version 1.x with unsupported-version", () => {
  assert.equal(
    conditionOf(() => checkServerHeader(header(`xmlns="jabber:server"`))),
    "unsupported-version",
  );
  assert.equal(
    conditionOf(() => checkServerHeader(header(`xmlns="jabber:server" version="2.0"`))),
    "unsupported-version",
  );
});

Deno.test("serverHeader() declares jabber:server and the dialback prefix, escaping attributes", () => {
  const text = serverHeader({ from: "a.test", to: "b'.test", id: "x" });
  assert.match(text, /xmlns='jabber:server'/);
  assert.match(text, /xmlns:db='jabber:server:dialback'/);
  assert.match(text, /to='b&apos;\.test'/);
  assert.match(text, / id='x' version='1\.0'>$/);
  assert.doesNotMatch(serverHeader({ to: "b.test" }), / id=/);
});

Deno.test("newStreamId() makes distinct ids", () => {
  assert.notEqual(newStreamId(), newStreamId());
});
