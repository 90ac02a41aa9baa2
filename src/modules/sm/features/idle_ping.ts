/**
 * XEP-0199 §4.3 client pings from the server: a client that stayed silent for
 * `<ping interval="5m"/>` is pinged, and its session ends when `<ping timeout="1m"/>` passes with
 * no stanza from it (any stanza counts, an error reply too). `interval="0"` turns that off.
 * Answering pings is ping.ts.
 */
import { duration, options } from "../../../config/options.ts";
import type { TimerId } from "../../../adapters/types.ts";
import { StanzaError } from "../../../util/errors.ts";
import { MinHeap } from "../../../util/min_heap.ts";
import { NS_PING } from "../../../util/ns.ts";
import { xml } from "../../../xml/element.ts";
import type { OutboundEvent, Session, SessionEvent, SmApi, SmFeature } from "../types.ts";

interface Idle {
  /** When the session last sent a stanza. */
  last: number;
  /** When the server pinged it, while waiting for anything from it. */
  pinged?: number;
  /** Its current entry in the queue; any other entry of it there is stale. */
  entry: Due | undefined;
}

interface Due {
  due: number;
  /** Cleared when the session ends, so that a stale entry does not keep it in memory. */
  session: Session | undefined;
}

/**
 * The sessions' next checks, earliest first, so that one timer serves them all: a timer per
 * session cost about 600 bytes of every session's memory (the timer, its closures and
 * bookkeeping). A moved or ended session's old entry is skipped when it comes out.
 */
type DueQueue = MinHeap<Due>;

/** `<ping interval timeout/>` in `<sm>`; a duration of 0 turns idle pinging off. */
const PING = options({ interval: duration(300_000), timeout: duration(60_000) });

export const idlePing: SmFeature = {
  name: "idle-ping",
  settings: ["ping"],
  validate(setting, context) {
    PING.validate(setting, context);
  },
  register(sm: SmApi) {
    const { interval, timeout } = PING.read(sm.api.config.getChild("ping"));
    const timer = sm.api.timer;
    if (interval <= 0) return;

    const idle = new Map<Session, Idle>();
    const queue: DueQueue = new MinHeap<Due>((a, b) => a.due - b.due);
    /** The one timer, set for the queue's earliest entry while any session is watched. */
    let wake: TimerId | undefined;
    let firing = false;
    let counter = 0;
    const schedule = (session: Session, state: Idle, due: number) => {
      const entry = { due, session };
      state.entry = entry;
      queue.push(entry);
      // While firing, `fire` sets the timer once it is done; otherwise only a new earliest
      // entry moves it.
      if (firing || (wake !== undefined && queue.peek() !== entry)) return;
      if (wake !== undefined) timer.clearTimeout(wake);
      wake = timer.setTimeout(fire, due - timer.now());
    };
    const fire = () => {
      wake = undefined;
      const now = timer.now();
      // What is due now is taken out first: a check that schedules a session again (even for
      // now, with timeout="0") waits for the next timer, as a timer per session did.
      const due: Due[] = [];
      for (let next = queue.peek(); next && next.due <= now; next = queue.peek()) {
        due.push(queue.pop()!);
      }
      firing = true;
      try {
        for (const entry of due) {
          const state = entry.session && idle.get(entry.session);
          if (state && state.entry === entry) check(entry.session!, state, now);
        }
      } finally {
        firing = false;
      }
      // Sessions ended meanwhile may have left only stale entries: no timer for those.
      if (idle.size === 0) queue.clear();
      const first = queue.peek();
      if (first) wake = timer.setTimeout(fire, first.due - now);
    };
    // Moved only when it comes due, so busy sessions cost no timer churn.
    const check = (session: Session, state: Idle, now: number) => {
      if (state.pinged !== undefined) {
        if (state.last < state.pinged) {
          state.entry = undefined;
          idle.delete(session);
          sm.endSession(
            session,
            "ping-timeout",
            new StanzaError("remote-server-timeout", "No answer to the server's ping"),
          );
          return;
        }
        state.pinged = undefined;
      }
      const quiet = now - state.last;
      if (quiet < interval) {
        schedule(session, state, now + interval - quiet);
        return;
      }
      state.pinged = now;
      const host = session.jid.domain;
      const iq = xml("iq", { type: "get", id: `ping-${++counter}`, from: host });
      iq.attrs.to = session.jid.toString();
      sm.sendToSession(session, iq.append(xml("ping", { xmlns: NS_PING })));
      schedule(session, state, now + timeout);
    };
    sm.api.hook<SessionEvent>("resource-bind", ({ session }) => {
      const now = timer.now();
      const state: Idle = { last: now, entry: undefined };
      idle.set(session, state);
      schedule(session, state, now + interval);
    });
    sm.api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      const entry = idle.get(session)?.entry;
      if (entry) entry.session = undefined;
      idle.delete(session);
      if (idle.size === 0 && wake !== undefined) {
        timer.clearTimeout(wake);
        wake = undefined;
        queue.clear();
      }
    });
    const seen = ({ origin }: OutboundEvent) => {
      const state = idle.get(origin);
      if (state) state.last = timer.now();
    };
    for (const name of ["message", "presence", "iq"]) {
      for (const kind of ["bare", "full", "host"]) sm.api.hook(`pre-${name}/${kind}`, seen, 1000);
    }
  },
};
