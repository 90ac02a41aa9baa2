/**
 * Transcript tests of the session manager (RFC 6121 as conversations) on the one test world
 * (`testServer`): the real `<sm>` and an `<xdb>` on `<kv>:memory:</kv>`, a fake c2s
 * that opens sessions and carries stanzas by the route contract (ROUTING.md, "route"), and a
 * fake remote server (`remote.example`) that records what is routed to it and can send stanzas.
 * Tests read "alice sends …; bob receives …". Used by tests only.
 */
import { createAccount } from "../../src/accounts/store.ts";
import { testServer } from "../../src/server/_testing.ts";
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
  const world = await testServer(
    `<jabberd>
      <service id="sessions"><host>${HOST}</host><sm xmlns="jabberd:config:sm"/></service>
      <xdb id="xdb"><host/><kv>:memory:</kv></xdb>
    </jabberd>`,
    { memory: { now: Date.UTC(2024, 4, 17, 8, 30, 5) } },
  );
  const { router, xdb } = world;
  /** What reached the fake c2s: session replies, stanzas for clients, ended sessions. */
  const toC2s = world.collect("c2s");
  /** What the remote server received. */
  const remoteInbox = world.collect("remote", [REMOTE]);
  let remoteTaken = 0;

  /** Waits until the tree is idle and nothing reached c2s or the remote server for a while. */
  const settle = async () => {
    let quiet = 0;
    let seen = -1;
    for (let turn = 0; turn < 500 && quiet < 4; turn++) {
      await world.quiet();
      await new Promise((resolve) => setTimeout(resolve, 0));
      const traffic = toC2s.length + remoteInbox.length;
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
    const routes = () =>
      toC2s.map((packet) => packet.element).filter((r) => r.attrs.to === connection);
    router.deliver(xml("route", { type: "session", to: full, from: connection }));
    await settle();
    const jid = routes().find((route) => route.attrs.type === "session")?.attrs.from;
    if (jid === undefined) throw new Error(`The session manager did not open ${full}`);
    let taken = 0;
    const take = () => {
      const stanzas = routes().filter((route) =>
        route.attrs.type !== "session" && route.attrs.type !== "error" && route.elements[0]
      );
      const fresh = stanzas.slice(taken).map((route) => route.elements[0]);
      taken = stanzas.length;
      return fresh;
    };
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
        return routes().some((route) => route.attrs.type === "error");
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
  const remoteTakes = (): string[] => {
    const fresh = remoteInbox.slice(remoteTaken).map((packet) => packet.element);
    remoteTaken = remoteInbox.length;
    return fresh.map((el) => `${line(el)} to ${el.attrs.to}`);
  };

  /** The stored roster of a user (`jabber:iq:roster`), as it lies in XDB. */
  const storedRoster = async (bare: string) => await xdb.get(bare, NS_ROSTER);

  for (const user of options.users ?? []) {
    await createAccount(xdb, user, "secret", { iterations: 1 });
  }

  return {
    router,
    xdb,
    login,
    settle,
    remoteSends,
    remoteTakes,
    storedRoster,
    stop: () => world.stop(),
  };
}

export type Scenario = Awaited<ReturnType<typeof scenario>>;
