/**
 * Test support for session manager features: a fake `SmApi` over a real Router, a real service
 * Section and an `<xdb>` section storing in `<kv>:memory:</kv>`, firing the events of
 * `../types.ts` the way the sm core does and recording what goes to sessions or into the tree.
 * Used by tests only.
 */
import { NS_CREDENTIALS } from "../../../accounts/credentials.ts";
import { memoryAdapters } from "../../../adapters/memory/mod.ts";
import { optionReader } from "../../../config/options.ts";
import type { ModuleApi } from "../../../server/module_api.ts";
import { Section } from "../../../server/section.ts";
import { Router } from "../../../tree/router.ts";
import { errorReply, StanzaError } from "../../../util/errors.ts";
import { JID } from "../../../util/jid.ts";
import { parseDocument } from "../../../xml/document.ts";
import { type Element, xml } from "../../../xml/element.ts";
import { kvModule } from "../../xdb/kv.ts";
import type { Session, SmApi, SmFeature } from "../types.ts";

export const HOST = "localhost";

/** Parses one stanza written as XML text. */
export function parse(text: string): Element {
  return parseDocument(text, "test").root;
}

/** The SmApi a feature sees, with the session-ending call the features expect. */
export type TestSmApi = SmApi & { endSession(session: Session, reason: string): void };

export interface SmWorldOptions {
  /** The `<sm>` element's children (settings), as XML text. */
  config?: string;
}

/**
 * Builds the world, registers the features on it, and returns handles to drive it: `bind` opens
 * a session, `send` makes a session (or a remote sender) send a stanza, `settle` waits for async
 * work (XDB) to finish, and `sent`/`routed`/`ended` record what came out.
 */
export async function smWorld(features: SmFeature[], options: SmWorldOptions = {}) {
  const memory = memoryAdapters({ now: Date.UTC(2024, 4, 17, 8, 30, 5) });
  const router = new Router({ fallbackLog: () => {} });
  const xdbSection = new Section({
    id: "xdb",
    kind: "xdb",
    router,
    adapters: memory.adapters,
    configDir: "/etc/jabberd",
    options: optionReader,
  });
  router.tree.insert("xdb", "*", "xdb");
  await xdbSection.load(kvModule, xml("kv", {}, ":memory:"));
  const section = new Section({
    id: "sm",
    kind: "service",
    router,
    adapters: memory.adapters,
    configDir: "/etc/jabberd",
    options: optionReader,
  });
  const config = parse(`<sm xmlns="jabberd:config:sm">${options.config ?? ""}</sm>`);
  const admins = new Set(
    config.getChildren("admin").map((a) => JID.parse(a.text().trim()).bareString()),
  );

  const sessions = new Map<string, Session>();
  /** Stanzas written to sessions, in order. */
  const sent: { session: Session; stanza: Element }[] = [];
  /** Stanzas sent into the tree (to remote or unknown addresses), in order. */
  const routed: Element[] = [];
  /** Sessions ended by a feature, with the reason. */
  const ended: { session: Session; reason: string }[] = [];
  let api!: ModuleApi;

  /** Where a stanza the server sends goes: a bound full JID's session, else the tree. */
  const out = (stanza: Element) => {
    const session = stanza.attrs.to ? sessions.get(stanza.attrs.to) : undefined;
    if (session) sent.push({ session, stanza });
    else routed.push(stanza);
  };

  const sm: TestSmApi = {
    get api() {
      return api;
    },
    sessions: {
      get: (full) => sessions.get(full),
      ofUser: (bare) => [...sessions.values()].filter((s) => s.jid.bareString() === bare),
      all: () => sessions.values(),
      get size() {
        return sessions.size;
      },
    },
    isLocalHost: (domain) => domain === HOST,
    isAdmin: (jid) => admins.has((typeof jid === "string" ? JID.parse(jid) : jid).bareString()),
    sendToSession: (session, stanza) => sent.push({ session, stanza }),
    route: out,
    reply(iq, payload) {
      const result = xml("iq", { type: "result", id: iq.attrs.id ?? "" });
      if (iq.attrs.from) result.attrs.to = iq.attrs.from;
      if (iq.attrs.to) result.attrs.from = iq.attrs.to;
      if (payload) result.append(payload);
      out(result);
    },
    replyError(stanza, error) {
      const reply = errorReply(stanza, error);
      if (reply) out(reply);
    },
    userExists: async (bare) => (await api.xdb.get(bare, NS_CREDENTIALS)) !== undefined,
    endSession(session, reason) {
      ended.push({ session, reason });
      unbind(session, reason);
    },
  };

  await section.load({
    element: "jabberd:config:sm",
    sections: ["service"],
    async register(moduleApi) {
      api = moduleApi;
      for (const feature of features) await feature.register(sm);
    },
  }, config);

  const bind = (full: string): Session => {
    const session: Session = {
      jid: JID.parse(full),
      route: `c2s/${sessions.size + 1}`,
      started: memory.clock.now(),
      available: false,
      priority: 0,
      presence: undefined,
      interested: false,
      data: new Map(),
    };
    sessions.set(session.jid.toString(), session);
    api.fire("resource-bind", { session });
    return session;
  };

  const unbind = (session: Session, reason = "closed") => {
    // As the core does: fired while the session is still registered, forgotten right after.
    if (!sessions.has(session.jid.toString())) return;
    api.fire("resource-unbind", { session, reason });
    sessions.delete(session.jid.toString());
  };

  /**
   * A stanza sent by `origin` (stamped with its full JID, `pre-*` fired first) or arriving from
   * elsewhere, dispatched to the events of types.ts; an iq get/set nobody handles is answered
   * service-unavailable, a stanza for an address not ours is routed.
   */
  const send = async (stanza: Element | string, origin?: Session) => {
    const element = typeof stanza === "string" ? parse(stanza) : stanza;
    if (origin) element.attrs.from = origin.jid.toString();
    const data = { stanza: element, origin };
    const to = element.attrs.to ? JID.parse(element.attrs.to) : undefined;
    const self = origin && (!to || to.bareString() === origin.jid.bareString());
    let kind = !to ? "bare" : to.local === "" ? "host" : to.isBare ? "bare" : "full";
    if (origin && api.fire(`pre-${element.name}/${kind}`, data) !== undefined) {
      return await settle();
    }
    if (to && !sm.isLocalHost(to.domain)) {
      routed.push(element);
      return await settle();
    }
    if (!to && element.name !== "iq") return await settle();
    let event = `${element.name}/${kind}`;
    const type = element.attrs.type;
    if (element.name === "iq" && (type === "get" || type === "set")) {
      const payload = element.elements[0];
      if (self) kind = "self";
      if (kind !== "full") event = `iq-${type}/${kind}/${payload?.ns}:${payload?.local}`;
      if (api.fire(event, data) === undefined) {
        sm.replyError(element, new StanzaError("service-unavailable"));
      }
    } else if (api.fire(event, data) === undefined && kind === "full") {
      // The core's default (priority -1): a stanza for a full JID goes to that session.
      const session = sessions.get(to!.toString());
      if (session) sent.push({ session, stanza: element });
    }
    return await settle();
  };

  /** Lets async work (XDB requests, hashing) finish, a bounded number of turns. */
  const settle = async () => {
    for (let turn = 0; turn < 50; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      await router.idle();
    }
  };

  /** What one session received, and forgets it. */
  const take = (session: Session): Element[] => {
    const mine = sent.filter((s) => s.session === session).map((s) => s.stanza);
    sent.splice(0, sent.length, ...sent.filter((s) => s.session !== session));
    return mine;
  };

  const stop = async () => {
    await section.stop();
    await xdbSection.stop();
  };

  /** Creates an account (credentials without real keys: enough for `userExists`). */
  const addUser = async (bare: string) => {
    await api.xdb.set(bare, NS_CREDENTIALS, xml("credentials", { xmlns: NS_CREDENTIALS }));
  };

  return {
    sm,
    get api() {
      return api;
    },
    clock: memory.clock,
    router,
    sent,
    routed,
    ended,
    bind,
    unbind,
    send,
    settle,
    take,
    addUser,
    stop,
  };
}

export type SmWorld = Awaited<ReturnType<typeof smWorld>>;
