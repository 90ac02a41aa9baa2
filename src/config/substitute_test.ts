import assert from "node:assert/strict";
import { substitute, substituteTree } from "./substitute.ts";
import { type Element, xml } from "../xml/element.ts";

const ENV: Record<string, string> = { HOST: "example.org", EMPTY: "", PORT: "5222" };
const env = (name: string) => ENV[name];

Deno.test("substitute() fills in variables and defaults", () => {
  const table: [string, string][] = [
    ["plain text", "plain text"],
    ["${HOST}", "example.org"],
    ["xmpp.${HOST}:${PORT}", "xmpp.example.org:5222"],
    ["${MISSING:-fallback}", "fallback"],
    ["${HOST:-fallback}", "example.org"],
    ["${MISSING:-}", ""],
    ["${EMPTY:-used when empty}", "used when empty"],
    ["${EMPTY}", ""],
    ["${MISSING:-a:-b}", "a:-b"],
    ["costs $5 and $HOST", "costs $5 and $HOST"],
    ["$${HOST} is literal", "${HOST} is literal"],
    ["${HOST}${PORT}", "example.org5222"],
  ];
  for (const [text, value] of table) {
    assert.deepEqual(substitute(text, env), { value, problems: [] }, text);
  }
});

Deno.test("substitute() reports what it cannot fill in", () => {
  const table: [string, string[]][] = [
    ["${MISSING}", [
      "Environment variable MISSING is not set; set it or write ${MISSING:-default}",
    ]],
    ["a ${NOPE} b ${ALSO}", [
      "Environment variable NOPE is not set; set it or write ${NOPE:-default}",
      "Environment variable ALSO is not set; set it or write ${ALSO:-default}",
    ]],
    ["${HOST", ['"${HOST" has no closing brace; write ${NAME}, or $${ for a literal ${']],
    ["${1x}", [
      '"${1x}" does not name an environment variable; names are letters, digits and ' +
      "underscores, such as ${JABBERD_HOST}",
    ]],
    ["${}", [
      '"${}" does not name an environment variable; names are letters, digits and ' +
      "underscores, such as ${JABBERD_HOST}",
    ]],
  ];
  for (const [text, problems] of table) {
    assert.deepEqual(substitute(text, env).problems, problems, text);
  }
});

Deno.test("substituteTree() replaces text and attributes but not namespace declarations", () => {
  const root = xml(
    "service",
    { id: "${HOST}", xmlns: "urn:${HOST}" },
    xml("host", {}, "${HOST}"),
    xml("port", {}, "${MISSING}"),
  );
  const reported: [Element, string][] = [];
  substituteTree(root, env, (at, message) => reported.push([at, message]));
  assert.equal(root.attr("id"), "example.org");
  assert.equal(root.attr("xmlns"), "urn:${HOST}");
  assert.equal(root.getChildText("host"), "example.org");
  assert.deepEqual(reported.map(([at, message]) => [at.name, message]), [
    ["port", "Environment variable MISSING is not set; set it or write ${MISSING:-default}"],
  ]);
});
