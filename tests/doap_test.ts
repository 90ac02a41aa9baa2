/**
 * The list of supported protocols, kept true: `jabberd.doap` (XEP-0453 DOAP) parses, each XEP it
 * claims is named by a source file of the server (the feature or module that implements it), and
 * the README's "Protocols" table lists the same XEPs and RFCs with the same versions and statuses.
 */
import assert from "node:assert/strict";
import { parseDocument } from "../src/xml/document.ts";
import type { Element } from "../src/xml/element.ts";

const DOAP = "http://usefulinc.com/ns/doap#";
const XMPP = "https://linkmauve.fr/ns/xmpp-doap#";
/** The values XEP-0453 gives `xmpp:status`. */
const STATUSES = new Set(["complete", "partial", "planned", "deprecated", "removed", "wontfix"]);

interface Claim {
  version: string;
  status: string;
}

const root = new URL("../", import.meta.url);

async function doap() {
  const text = await Deno.readTextFile(new URL("jabberd.doap", root));
  const project = parseDocument(text, "jabberd.doap").root.getChild("Project", DOAP);
  assert.ok(project, "jabberd.doap holds a doap:Project");
  const xeps = new Map<string, Claim>();
  const rfcs: string[] = [];
  for (const implement of project.getChildren("implements", DOAP)) {
    const resource = implement.attrs["rdf:resource"];
    if (resource !== undefined) {
      const rfc = resource.match(/^https:\/\/www\.rfc-editor\.org\/info\/rfc(\d+)$/);
      assert.ok(rfc, `an RFC is named by its rfc-editor.org address: ${resource}`);
      rfcs.push(rfc[1]);
      continue;
    }
    const supported = implement.getChild("SupportedXep", XMPP) as Element;
    const address = supported?.getChild("xep", XMPP)?.attrs["rdf:resource"] ?? "";
    const xep = address.match(/^https:\/\/xmpp\.org\/extensions\/xep-(\d{4})\.html$/)?.[1];
    assert.ok(xep, `an xmpp:SupportedXep names its XEP's address: ${address}`);
    const claim = {
      version: supported.getChildText("version", XMPP) ?? "",
      status: supported.getChildText("status", XMPP) ?? "",
    };
    assert.match(claim.version, /^\d+\.\d+/, `XEP-${xep} has a version`);
    assert.ok(
      STATUSES.has(claim.status),
      `XEP-${xep} has a XEP-0453 status, not "${claim.status}"`,
    );
    assert.ok(!xeps.has(xep), `XEP-${xep} is listed once`);
    xeps.set(xep, claim);
  }
  return { xeps, rfcs };
}

/** Every `.ts` file under `src/`, tests left out, with its text. */
async function sources(dir = new URL("src/", root)): Promise<string[]> {
  const texts: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) texts.push(...await sources(url));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      texts.push(await Deno.readTextFile(url));
    }
  }
  return texts;
}

Deno.test("jabberd.doap claims only XEPs a source file of the server names", async () => {
  const { xeps } = await doap();
  assert.ok(xeps.size >= 30, "the list is there");
  const code = await sources();
  const unnamed = [...xeps.keys()].filter((xep) =>
    !code.some((text) => text.includes(`XEP-${xep}`))
  );
  assert.deepEqual(unnamed, [], "each claimed XEP is named by the code that implements it");
});

Deno.test("README's Protocols table and jabberd.doap list the same XEPs, versions and statuses", async () => {
  const { xeps, rfcs } = await doap();
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const start = readme.indexOf("\n## Protocols\n");
  assert.ok(start >= 0, "README has a Protocols section");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const rows = section.split("\n").filter((line) => line.startsWith("| ["))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
  const tableXeps = new Map<string, Claim>();
  const tableRfcs: string[] = [];
  for (const [name, version, status] of rows) {
    const xep = name.match(/^\[XEP-(\d{4})\]/)?.[1];
    const rfc = name.match(/^\[RFC (\d+)\]/)?.[1];
    if (xep) tableXeps.set(xep, { version, status });
    else if (rfc) tableRfcs.push(rfc);
    else assert.fail(`a row names an XEP or an RFC: ${name}`);
  }
  assert.deepEqual(tableRfcs, rfcs);
  assert.deepEqual([...tableXeps.keys()], [...xeps.keys()]);
  assert.deepEqual(Object.fromEntries(tableXeps), Object.fromEntries(xeps));
});
