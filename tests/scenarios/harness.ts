/**
 * A tiny world for transcript tests of the session manager (RFC 6121 as conversations): a
 * Router with the real `<sm>` component, an `<xdb>` section on `<kv>:memory:</kv>`, a fake c2s
 * that opens sessions and carries stanzas by the route contract (ROUTING.md, "route"), and a
 * fake remote server (`remote.example`) that records what is routed to it and can send stanzas.
 * Tests read "alice sends …; bob receives …". Used by tests only.
 */
import { createAccount } from "../../src/accounts/store.ts";
import { memoryAdapters } from "../../src/adapters/memory/mod.ts";
import { optionReader } from "../../src/config/options.ts";
import { host } from "../../src/modules/base/host.ts";
import { smModule } from "../../src/modules/sm/mod.ts";
import { kvModule } from "../../src/modules/xdb/kv.ts";
import type { XdbClient } from "../../src/server/module_api.ts";
import { Section } from "../../src/server/section.ts";
import { Router } from "../../src/tree/router.ts";
import { NS_ROSTER } from "../../src/util/ns.ts";
import { parseDocument } from "../../src/xml/document.ts";
import { type Element, xml } from "../../src/xml/element.ts";

export const HOST = "localhost";
export const REMOTE = "remote.example";

/** Parses one stanza written as XML text (`jabber:client` assumed). */
export function stanza(text: string): Element {
  return parseDocument(text, "scenario").root;
}

/**
 * One line of a transcript for what a client or the remote server received, short enough to
 * compare whole conversations: `presence subscribe from bob@localhost`,
 * `roster push bob@localhost none ask`, `iq result`, `iq error item-not-found`.
 */
export function line(element: Element): string {
  const type = element.attrs.type;
  const from = element.attrs.from ? ` from ${element.attrs.from}` : "";
  if (element.local === "presence") return `presence ${type ?? "available"}${from}`;
  if (element.local === "iq") {
    const query = element.getChild("query", NS_ROSTER);
    if (type === "set" && query) {
      const item = query.getChild("item")!;
      return `roster push ${itemLine(item)}`;
    }
    if (type === "result" && query) {
      return `roster [${query.getChildren("item").map(itemLine).join(", ")}]`;
    }
    if (type === "error") {
      const condition = element.getChild("error")?.elements[0]?.local ?? "?";
      return `iq error ${condition}`;
    }
    return `iq ${type}`;
  }
  return `${element.local} ${type ?? ""}${from}`.trim();
}

/** `bob@localhost to ask approved (Friends)`: a roster item in a line. */
export function itemLine(item: Element): string {
  const parts = [item.attrs.jid, item.attrs.subscription ?? "none"];
  if (item.attrs.ask) parts.push("ask");
  if (item.attrs.approved === "true") parts.push("approved");
  if (item.attrs.name) parts.push(`"${item.attrs.name}"`);
  const groups = item.getChildren("group").map((group) => group.text());
  if (groups.length > 0) parts.push(`(${groups.join(", ")})`);
  return parts.join(" ");
}

/** One client connection with a bound session. */
export interface Client {
  /** The full JID the session manager gave it. */
  readonly jid: string;
  readonly connection: string;
  /** Sends a stanza (XML text or an element) and waits until the server is quiet. */
  send(text: string | Element): Promise<void>;
  /** What it received since the last call, as transcript lines; forgets them. */
  take(): string[];
  /** What it received since the last call, as elements; forgets them. */
  takeElements(): Element[];
  /** True once the session manager ended its session (a `<route type="error">` came). */
  readonly ended: boolean;
  /** Closes the connection: c2s tells the session manager the session is over. */
  close(): Promise<void>;
}

export async function scenario(options: { users?: string[] } = {}) {
  const memory = memoryAdapters({ now: Date.UTC(2024, 4, 17, 8, 30, 5) });
  const router = new Router({ fallbackLog: () => {} });
  const sections: Section[] = [];
  const section = (id: string, kind: "service" | "xdb") => {
    const made = new Section({
      id,
      kind,
      router,
      adapters: memory.adapters,
      configDir: "/etc/jabberd",
      options: optionReader,
    });
    sections.push(made);
    return made;
  };

  const xdbSection = section("xdb", "xdb");
  await xdbSection.load(host, xml("host"));
  await xdbSection.load(kvModule, xml("kv", {}, ":memory:"));

  const sm = section("sessions", "service");
  await sm.load(host, xml("host", {}, HOST));
  await sm.load(smModule, stanza(`<sm xmlns="jabberd:config:sm"/>`));

  // A service section whose module hands out api.xdb: accounts are made and rosters read here.
  let xdb!: XdbClient;
  await section("admin", "service").load({
    element: "test",
    sections: ["service"],
    register(api) {
      xdb = api.xdb;
    },
  }, xml("test"));

  /** Every packet that reached the fake c2s or the remote server: to wait for quiet. */
  let traffic = 0;
  const inboxes = new Map<string, Element[]>();
  const ended = new Set<string>();
  const opened = new Map<string, string>();
  router.addInstance("c2s").add("deliver", (packet) => {
    traffic++;
    const route = packet.element;
    const connection = route.attrs.to ?? "";
    if (route.attrs.type === "session") opened.set(connection, route.attrs.from ?? "");
    else if (route.attrs.type === "error") ended.add(connection);
    else if (route.elements[0]) inboxes.get(connection)?.push(route.elements[0]);
    return "done";
  });

  /** What the remote server received. */
  const remoteInbox: Element[] = [];
  router.addInstance("remote").add("deliver", (packet) => {
    traffic++;
    remoteInbox.push(packet.element);
    return "done";
  });
  router.tree.insert("normal", REMOTE, "remote");

  /** Waits until the tree is idle and nothing reached c2s or the remote server for a while. */
  const settle = async () => {
    let quiet = 0;
    let seen = -1;
    for (let turn = 0; turn < 500 && quiet < 4; turn++) {
      await router.idle();
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (traffic === seen) quiet++;
      else {
        quiet = 0;
        seen = traffic;
      }
    }
  };

  let connections = 0;
  /** Opens a connection and binds `full` (user@host/resource) through the route contract. */
  const login = async (full: string): Promise<Client> => {
    const connection = `c2s/${++connections}`;
    const inbox: Element[] = [];
    inboxes.set(connection, inbox);
    router.deliver(xml("route", { type: "session", to: full, from: connection }));
    await settle();
    const jid = opened.get(connection);
    if (jid === undefined) throw new Error(`The session manager did not open ${full}`);
    const take = () => inbox.splice(0, inbox.length);
    return {
      jid,
      connection,
      async send(text) {
        const element = typeof text === "string" ? stanza(text) : text;
        element.attrs.from = jid;
        router.deliver(xml("route", { to: jid, from: connection }, element));
        await settle();
      },
      take: () => take().map(line),
      takeElements: take,
      get ended() {
        return ended.has(connection);
      },
      async close() {
        router.deliver(xml("route", { type: "error", to: jid, from: connection }));
        await settle();
      },
    };
  };

  /** The remote server sends a stanza into the tree (its `from` should be at remote.example). */
  const remoteSends = async (text: string) => {
    router.deliver(stanza(text));
    await settle();
  };

  /** What the remote server received since the last call, as lines with the recipient. */
  const remoteTakes = (): string[] =>
    remoteInbox.splice(0, remoteInbox.length).map((el) => `${line(el)} to ${el.attrs.to}`);

  /** The stored roster of a user (`jabber:iq:roster`), as it lies in XDB. */
  const storedRoster = async (bare: string) => await xdb.get(bare, NS_ROSTER);

  for (const user of options.users ?? []) {
    await createAccount(xdb, user, "secret", { iterations: 1 });
  }

  const stop = async () => {
    for (const made of sections.reverse()) await made.stop();
  };

  return {
    router,
    xdb,
    login,
    settle,
    remoteSends,
    remoteTakes,
    storedRoster,
    stop,
  };
}

export type Scenario = Awaited<ReturnType<typeof scenario>>;
