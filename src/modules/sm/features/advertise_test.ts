import assert from "node:assert/strict";
import { NS_CREDENTIALS } from "../../../accounts/credentials.ts";
import { testServer } from "../../../server/_testing.ts";
import {
  NS_BLOCKING,
  NS_BOOKMARKS_COMPAT,
  NS_CARBONS,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_EXTDISCO,
  NS_LAST,
  NS_MAM,
  NS_MAM_EXTENDED,
  NS_PING,
  NS_PRIVATE,
  NS_PUBSUB,
  NS_PUSH,
  NS_SID,
  NS_TIME,
  NS_VCARD,
  NS_VERSION,
} from "../../../util/ns.ts";
import { xml } from "../../../xml/element.ts";
import { allFeatures } from "../mod.ts";
import { NS_PEP_VCARD_CONVERSION } from "./avatar_conversion.ts";

/** What each feature adds to disco#info, of the host and of an account (`NS_PUBSUB`: a prefix). */
const ADVERTISED: Record<string, { host?: string[]; bare?: string[] }> = {
  blocking: { host: [NS_BLOCKING], bare: [NS_BLOCKING] },
  carbons: { host: [NS_CARBONS], bare: [NS_CARBONS] },
  push: { bare: [NS_PUSH] },
  mam: { host: [NS_SID], bare: [NS_MAM, NS_MAM_EXTENDED] },
  vcard: { host: [NS_VCARD], bare: [NS_VCARD] },
  private: { bare: [NS_PRIVATE] },
  pep: { bare: [NS_PUBSUB, NS_BOOKMARKS_COMPAT] },
  "avatar-conversion": { bare: [NS_PEP_VCARD_CONVERSION] },
  version: { host: [NS_VERSION] },
  time: { host: [NS_TIME] },
  last: { host: [NS_LAST], bare: [NS_LAST] },
  ping: { host: [NS_PING] },
  "external-services": { host: [NS_EXTDISCO] },
};

const BASE = [NS_DISCO_INFO, NS_DISCO_ITEMS];

/** A server whose `<sm>` serves each host of `hosts` in a section of its own, with its config. */
function config(hosts: Record<string, string>): string {
  const sections = Object.entries(hosts).map(([host, settings], i) =>
    `<service id="sm${i}"><host>${host}</host><sm xmlns="jabberd:config:sm">${settings}</sm></service>`
  );
  return `<jabberd>${sections.join("")}<xdb id="xdb"><host/><kv>:memory:</kv></xdb></jabberd>`;
}

/** The disco#info features of `host` and of `alice@{host}`, asked by a user of another server. */
async function discoOf(hosts: Record<string, string>) {
  await using world = await testServer(config(hosts));
  const remote = world.collect("remote", ["remote.example"]);
  const result: Record<string, { host: Set<string>; bare: Set<string> }> = {};
  for (const host of Object.keys(hosts)) {
    const alice = `alice@${host}`;
    await world.xdb.set(alice, NS_CREDENTIALS, xml("credentials", { xmlns: NS_CREDENTIALS }));
    for (const to of [host, alice]) {
      const query = xml("query", { xmlns: NS_DISCO_INFO });
      world.router.deliver(
        xml("iq", { type: "get", id: to, to, from: "eve@remote.example/x" }, query),
      );
    }
    await world.settle();
    const answers = remote.splice(0).map((packet) => packet.element);
    const features = (to: string) => {
      const answer = answers.find((a) => a.attrs.id === to && a.attrs.type === "result");
      assert.ok(answer, `disco#info of ${to} answered`);
      const vars = answer.getChild("query", NS_DISCO_INFO)!.getChildren("feature", NS_DISCO_INFO);
      return new Set(vars.map((f) => f.attrs.var));
    };
    result[host] = { host: features(host), bare: features(alice) };
  }
  return result;
}

/** The features of `set` that `feature`'s entry claims (pubsub's `#…` features with it). */
function claimed(set: Set<string>, expected: readonly string[]): string[] {
  return [...set].filter((v) => expected.some((ns) => v === ns || v.startsWith(`${ns}#`)));
}

Deno.test("advertise: disco#info lists exactly the enabled features, and <disable> removes each one's", async () => {
  const names = allFeatures().map((feature) => feature.name);
  for (const name of Object.keys(ADVERTISED)) assert.ok(names.includes(name), name);
  const { localhost: all } = await discoOf({ localhost: "" });
  const everything = (target: "host" | "bare") => [
    ...BASE,
    ...Object.values(ADVERTISED).flatMap((entry) => entry[target] ?? []),
  ];
  for (const target of ["host", "bare"] as const) {
    const unclaimed = [...all[target]].filter((v) =>
      claimed(new Set([v]), everything(target)).length === 0
    );
    assert.deepEqual(unclaimed, [], `every ${target} feature has its entry in ADVERTISED`);
    for (const ns of everything(target)) assert.ok(all[target].has(ns), `${target} has ${ns}`);
  }
  for (const [name, entry] of Object.entries(ADVERTISED)) {
    const { localhost: without } = await discoOf({ localhost: `<disable>${name}</disable>` });
    for (const target of ["host", "bare"] as const) {
      const mine = entry[target] ?? [];
      assert.deepEqual(
        claimed(without[target], mine),
        [],
        `<disable>${name}</disable> (${target})`,
      );
      const others = everything(target).filter((ns) => !mine.includes(ns));
      const lost = others.filter((ns) => !without[target].has(ns));
      assert.deepEqual(lost, [], `<disable>${name}</disable> keeps the others (${target})`);
    }
  }
});

Deno.test("advertise: each host's own <sm> section switches features off for that host only", async () => {
  const disco = await discoOf({
    localhost: "",
    "b.localhost": "<disable>mam</disable><disable>external-services</disable>",
  });
  assert.ok(disco.localhost.bare.has(NS_MAM));
  assert.ok(disco.localhost.host.has(NS_EXTDISCO));
  assert.ok(!disco["b.localhost"].bare.has(NS_MAM));
  assert.ok(!disco["b.localhost"].host.has(NS_EXTDISCO));
  assert.ok(disco["b.localhost"].bare.has(NS_PUSH), "the rest stays");
});
