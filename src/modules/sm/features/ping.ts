/**
 * XEP-0199 XMPP Ping: answers pings to a host (§4.2), and pings clients that stayed silent for
 * `<ping interval="5m"/>`, ending the session when `<ping timeout="1m"/>` passes with no stanza
 * from it (§4.3; any stanza counts, an error reply too). `interval="0"` turns that off.
 */
import { optionReader } from "../../../config/options.ts";
import type { TimerId } from "../../../adapters/types.ts";
import { NS_PING } from "../../../util/ns.ts";
import { xml } from "../../../xml/element.ts";
import type { Session, SessionEvent, SmApi, SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

interface Idle {
  /** When the session last sent a stanza. */
  last: number;
  /** When the server pinged it, while waiting for anything from it. */
  pinged?: number;
  timer: TimerId;
}

export const ping: SmFeature = {
  name: "ping",
  settings: ["ping"],
  validate(setting, context) {
    for (const name of Object.keys(setting.attrs)) {
      if (name !== "interval" && name !== "timeout") {
        context.problem(setting, `<ping> takes interval and timeout, not "${name}"`);
      }
    }
    for (const name of ["interval", "timeout"]) {
      const value = setting.attrs[name];
      if (value === undefined || value === "0") continue;
      try {
        optionReader(setting).duration(name);
      } catch (error) {
        context.problem(setting, (error as Error).message);
      }
    }
  },
  register(sm: SmApi) {
    const settings = sm.api.config.getChild("ping");
    const options = settings ? optionReader(settings) : undefined;
    const interval = options?.duration("interval", 300_000) ?? 300_000;
    const timeout = options?.duration("timeout", 60_000) ?? 60_000;
    const timer = sm.api.timer;
    const answer = ({ stanza }: StanzaEvent) => {
      sm.reply(stanza);
      return true;
    };
    advertise(sm, "host", NS_PING);
    sm.api.hook(`iq-get/host/${NS_PING}:ping`, answer);
    sm.api.hook(`iq-get/self/${NS_PING}:ping`, answer);
    if (interval <= 0) return;

    const idle = new Map<Session, Idle>();
    let counter = 0;
    // One timer per session, moved only when it fires, so busy sessions cost no timer churn.
    const check = (session: Session) => {
      const state = idle.get(session);
      if (!state) return;
      const now = timer.now();
      if (state.pinged !== undefined) {
        if (state.last < state.pinged) {
          idle.delete(session);
          sm.endSession(session, "ping-timeout");
          return;
        }
        state.pinged = undefined;
      }
      const quiet = now - state.last;
      if (quiet < interval) {
        state.timer = timer.setTimeout(() => check(session), interval - quiet);
        return;
      }
      state.pinged = now;
      const host = session.jid.domain;
      const iq = xml("iq", { type: "get", id: `ping-${++counter}`, from: host });
      iq.attrs.to = session.jid.toString();
      sm.sendToSession(session, iq.append(xml("ping", { xmlns: NS_PING })));
      state.timer = timer.setTimeout(() => check(session), timeout);
    };
    sm.api.hook<SessionEvent>("resource-bind", ({ session }) => {
      const state = { last: timer.now(), timer: timer.setTimeout(() => check(session), interval) };
      idle.set(session, state);
    });
    sm.api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      const state = idle.get(session);
      if (state) timer.clearTimeout(state.timer);
      idle.delete(session);
    });
    const seen = ({ origin }: StanzaEvent) => {
      const state = origin && idle.get(origin);
      if (state) state.last = timer.now();
    };
    for (const name of ["message", "presence", "iq"]) {
      for (const kind of ["bare", "full", "host"]) sm.api.hook(`pre-${name}/${kind}`, seen, 1000);
    }
  },
};
