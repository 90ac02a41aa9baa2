/**
 * Test support for the session manager: a Router with an `<xdb>` section (`<kv>:memory:</kv>`),
 * the real `<sm>` section for `localhost`, a fake c2s section that records the route packets it
 * gets and opens, drives and closes sessions with them (ROUTING.md, "route"), and a stand-in for
 * a remote server (`remote.example`) that records what the sm sends into the tree. Tests only.
 */
import { NS_CREDENTIALS } from "../../accounts/credentials.ts";
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import { optionReader } from "../../config/options.ts";
import { Section } from "../../server/section.ts";
import type { Packet } from "../../tree/packet.ts";
import { Router } from "../../tree/router.ts";
import { parseDocument } from "../../xml/document.ts";
import { type Element, xml } from "../../xml/element.ts";
import { host } from "../base/host.ts";
import { kvModule } from "../xdb/kv.ts";
import { allFeatures, coreFeatures, sessionManagerModule } from "./mod.ts";
import type { SmApi, SmFeature } from "./types.ts";

export const HOST = "localhost";
export const REMOTE = "remote.example";

/** Parses one element written as XML text. */
export function parse(text: string): Element {
  return parseDocument(text, "test").root;
}

export interface SmTestOptions {
  /** The `<sm>` element's children, as XML text. */
  config?: string;
  /** Extra features registered after the others (hooks on the sm's events). */
  features?: SmFeature[];
  /**
   * Also register the features of `features/mod.ts` (default false: the core alone, with its
   * own offline storage, so core tests do not depend on the features).
   */
  withFeatures?: boolean;
}

/** What the fake c2s got on one connection: the route packets, in order. */
export interface Connection {
  id: string;
  routes: Element[];
  /** False once killed: routes to it are not taken, so the router bounces them. */
  alive: boolean;
}

export async function smTestWorld(options: SmTestOptions = {}) {
  const memory = memoryAdapters({ now: Date.UTC(2024, 4, 17, 8, 30, 5) });
  const logs: Packet[] = [];
  const router = new Router({ fallbackLog: (packet) => logs.push(packet) });
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

  const xdb = section("xdb", "xdb");
  router.tree.insert("xdb", "*", "xdb");
  await xdb.load(kvModule, xml("kv", {}, ":memory:"));

  // The fake c2s: records every route packet to c2s/<connection>.
  const connections = new Map<string, Connection>();
  const c2s = section("c2s", "service");
  await c2s.load({
    element: "fake-c2s",
    sections: ["service"],
    register(api) {
      api.handle("deliver", (packet) => {
        if (packet.kind !== "route") return "pass";
        const id = (packet.to ?? "").split("/")[1] ?? "";
        const connection = connections.get(id);
        if (!connection?.alive) return "pass";
        connection.routes.push(packet.element);
        return "done";
      });
    },
  }, xml("fake-c2s"));

  // A remote server: records the normal packets for remote.example.
  const remote: Element[] = [];
  router.addInstance(REMOTE, ["normal"]).add("deliver", (packet) => {
    remote.push(packet.element);
    return "done";
  });

  const sm = section("sm", "service");
  await sm.load(host, xml("host", {}, HOST));
  const config = parse(`<sm xmlns="jabberd:config:sm">${options.config ?? ""}</sm>`);
  let core!: SmApi;
  const probe: SmFeature = {
    name: "test-probe",
    register(api) {
      core = api;
    },
  };
  await sm.load(
    sessionManagerModule([
      ...(options.withFeatures ? allFeatures() : coreFeatures),
      ...(options.features ?? []),
      probe,
    ]),
    config,
  );

  let next = 0;
  /** Lets async work (XDB round trips) finish, a bounded number of turns. */
  const settle = async () => {
    for (let turn = 0; turn < 20; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      await router.idle();
    }
  };

  /** Opens a session as c2s does; returns its connection and the full JID the sm answered. */
  const open = async (full: string) => {
    const connection: Connection = { id: String(++next), routes: [], alive: true };
    connections.set(connection.id, connection);
    router.deliver(xml("route", { type: "session", to: full, from: `c2s/${connection.id}` }));
    await settle();
    const opened = connection.routes.find((route) => route.attrs.type === "session");
    return { connection, jid: opened?.attrs.from };
  };

  /** What a client sends on a connection: a stanza in a route (c2s stamps `from`). */
  const send = async (connection: Connection, jid: string, stanza: Element | string) => {
    const element = typeof stanza === "string" ? parse(stanza) : stanza;
    element.attrs.from = jid;
    router.deliver(xml("route", { to: jid, from: `c2s/${connection.id}` }, element));
    await settle();
  };

  /** The stanzas written to a connection since the last call (routes without a type). */
  const take = (connection: Connection): Element[] => {
    const stanzas = connection.routes
      .filter((route) => route.attrs.type === undefined)
      .map((route) => route.elements[0]);
    connection.routes = connection.routes.filter((route) => route.attrs.type !== undefined);
    return stanzas;
  };

  /** A stanza arriving from the tree (another server, a component). */
  const arrive = async (stanza: Element | string) => {
    router.deliver(typeof stanza === "string" ? parse(stanza) : stanza);
    await settle();
  };

  /** Makes an account exist (credentials without keys: enough for `userExists`). */
  const addUser = async (bare: string) => {
    await core.api.xdb.set(bare, NS_CREDENTIALS, xml("credentials", { xmlns: NS_CREDENTIALS }));
  };

  const stop = async () => {
    for (const made of [...sections].reverse()) await made.stop();
  };

  return {
    memory,
    router,
    logs,
    remote,
    connections,
    /** The SmApi the features got. */
    get sm() {
      return core;
    },
    open,
    send,
    take,
    arrive,
    addUser,
    settle,
    stop,
  };
}

export type SmTestWorld = Awaited<ReturnType<typeof smTestWorld>>;
