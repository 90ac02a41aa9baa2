/**
 * The session manager's one test harness, on the one test world (`testServer`): the real `<sm>`
 * section for `localhost` (its core and the features a test names, each through the real
 * dispatcher) and an `<xdb>` on `<kv>:memory:</kv>`; a fake c2s that opens, drives and closes
 * sessions with route packets (ROUTING.md, "route") and records what reaches each connection;
 * and a stand-in for every other server (`*`) that records what the sm sends into the tree.
 * What clients and servers receive is handed out as it would travel: serialized and parsed again
 * (in `jabber:client` for clients), so namespace mistakes show. Tests only.
 */
import { NS_CREDENTIALS } from "../../accounts/credentials.ts";
import type { ModuleApi } from "../../server/module_api.ts";
import { testServer } from "../../server/_testing.ts";
import { NS_CLIENT } from "../../util/ns.ts";
import { parseDocument } from "../../xml/document.ts";
import { type Element, xml } from "../../xml/element.ts";
import { coreFeatures, sessionManagerModule } from "./mod.ts";
import type { Session, SessionEvent, SmApi, SmFeature } from "./types.ts";

export const HOST = "localhost";
/** A server of elsewhere whose users send to ours (any host but `localhost` is recorded). */
export const REMOTE = "remote.example";

/** Parses one element written as XML text. */
export function parse(text: string): Element {
  return parseDocument(text, "test").root;
}

/** A stanza as a client reads it from its stream: serialized, then parsed in `jabber:client`. */
function asClientReads(stanza: Element): Element {
  return parse(`<stream xmlns="${NS_CLIENT}">${stanza}</stream>`).elements[0];
}

export interface SmWorldOptions {
  /** The `<sm>` element's children, as XML text. */
  config?: string;
  /** The features to register (default: the core's own, offline storage). */
  features?: readonly SmFeature[];
  /** More sections of the config, as XML text (a component the sm should see in the tree). */
  sections?: string;
}

/** One connection of the fake c2s: the route packets it got, in order. */
export interface Connection {
  readonly id: string;
  routes: Element[];
  /** False once killed: routes to it are not taken, so the router bounces them (R19). */
  alive: boolean;
}

export async function smWorld(options: SmWorldOptions = {}) {
  let core!: SmApi;
  const ended: { session: Session; reason: string }[] = [];
  const probe: SmFeature = {
    name: "test-probe",
    register(sm) {
      core = sm;
      sm.api.hook<SessionEvent>("resource-unbind", ({ session, reason }) => {
        ended.push({ session, reason: reason ?? "" });
      });
    },
  };
  const world = await testServer(
    `<jabberd>
      <service id="sm"><host>${HOST}</host>
        <sm xmlns="jabberd:config:sm">${options.config ?? ""}</sm>
      </service>
      <xdb id="xdb"><host/><kv>:memory:</kv></xdb>
      ${options.sections ?? ""}
    </jabberd>`,
    {
      memory: { now: Date.UTC(2024, 4, 17, 8, 30, 5) },
      modules: [sessionManagerModule([...(options.features ?? coreFeatures), probe])],
    },
  );
  const { router } = world;

  // The fake c2s: takes the route packets for c2s/<connection> while that connection lives.
  const connections = new Map<string, Connection>();
  router.addInstance("c2s", ["normal", "route"]).add("deliver", (packet) => {
    if (packet.kind !== "route") return "pass";
    const connection = connections.get((packet.to ?? "").split("/")[1] ?? "");
    if (!connection?.alive) return "pass";
    connection.routes.push(packet.element);
    return "done";
  });
  /** Every other server: the normal packets for any host the tree has no better entry for. */
  const remote = world.collect("elsewhere", ["*"]);

  /** Lets async work (XDB round trips, hashing) finish, a bounded number of turns. */
  const settle = () => world.settle(20);

  let next = 0;
  /** Opens a session as c2s does; returns its connection and the full JID the sm answered. */
  const open = (full: string) => {
    const connection: Connection = { id: String(++next), routes: [], alive: true };
    connections.set(connection.id, connection);
    router.deliver(xml("route", { type: "session", to: full, from: `c2s/${connection.id}` }));
    const opened = connection.routes.find((route) => route.attrs.type === "session");
    return { connection, jid: opened?.attrs.from };
  };

  /** Opens a session and returns it (the sm answers a session request at once). */
  const bind = (full: string): Session => {
    const { jid } = open(full);
    const session = jid === undefined ? undefined : core.sessions.get(jid);
    if (!session) throw new Error(`The session manager did not open ${full}`);
    return session;
  };

  const connectionOf = (session: Session): Connection =>
    connections.get(session.route.split("/")[1])!;

  /** c2s closes the session's connection: the sm forgets it (reason "closed"). */
  const unbind = (session: Session) => {
    router.deliver(
      xml("route", { type: "error", to: session.jid.toString(), from: session.route }),
    );
  };

  /**
   * A stanza a session sends (through its connection; c2s stamps `from`), or without `origin`
   * one arriving from the tree (another server), then waits for the work to settle.
   */
  const send = async (stanza: Element | string, origin?: Session) => {
    const element = typeof stanza === "string" ? parse(stanza) : stanza;
    if (origin) {
      element.attrs.from = origin.jid.toString();
      router.deliver(xml("route", { to: element.attrs.from, from: origin.route }, element));
    } else router.deliver(element);
    await settle();
  };

  /** The stanzas written to a session's connection since the last call, as the client reads them. */
  const take = (of: Session | Connection): Element[] => {
    const connection = "routes" in of ? of : connectionOf(of);
    const stanzas = connection.routes.filter((route) => route.attrs.type === undefined);
    connection.routes = connection.routes.filter((route) => route.attrs.type !== undefined);
    return stanzas.map((route) => asClientReads(route.elements[0]));
  };

  /** Makes an account exist (credentials without keys: enough for `userExists`). */
  const addUser = async (bare: string) => {
    await world.xdb.set(bare, NS_CREDENTIALS, xml("credentials", { xmlns: NS_CREDENTIALS }));
  };

  return {
    memory: world.memory,
    clock: world.memory.clock,
    router,
    /** Log lines no log section took. */
    logs: world.fallback,
    logLines: () => world.logLines(),
    /** What other servers received from us, in order, as they would read it. */
    get remote(): Element[] {
      return remote.map((packet) => parse(packet.element.toString()));
    },
    connections,
    /** The SmApi the features got (the real session manager). */
    get sm(): SmApi {
      return core;
    },
    /** The sm section's module API. */
    get api(): ModuleApi {
      return core.api;
    },
    /** Sessions that ended, with the reason `resource-unbind` carried, in order. */
    ended,
    open,
    bind,
    connectionOf,
    unbind,
    send,
    take,
    addUser,
    settle,
    stop: () => world.stop(),
  };
}

export type SmWorld = Awaited<ReturnType<typeof smWorld>>;
