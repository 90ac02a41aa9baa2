/**
 * The live sessions of a session manager (RFC 6120 §7 resource binding, RFC 6121 §4 presence
 * state): indexed by full JID and by bare JID, one session per full JID.
 */
import type { JID } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";
import type { Session, SessionRegistry } from "./types.ts";

/** One bound resource. */
export class SmSession implements Session {
  readonly jid: JID;
  /** `jid` as text, made once: every stanza to the session is addressed with it. */
  readonly full: string;
  readonly route: string;
  readonly started: number;
  available = false;
  priority = 0;
  presence: Element | undefined = undefined;
  interested = false;
  readonly data = new Map<string, unknown>();

  constructor(jid: JID, route: string, started: number) {
    this.jid = jid;
    this.full = jid.toString();
    this.route = route;
    this.started = started;
  }
}

/** A session's full JID as text, without building it again for our own sessions. */
export function fullOf(session: Session): string {
  return session instanceof SmSession ? session.full : session.jid.toString();
}

/**
 * A JID's bare and full text, made once per JID object: `JID.parse` hands out the same object
 * for the same address, and a string built anew per stanza had to be flattened and hashed again
 * for every map lookup (the registry's lookups were 10% of the sm's message path).
 */
const BARE_TEXT = new WeakMap<JID, string>();
const FULL_TEXT = new WeakMap<JID, string>();

export function bareText(jid: JID): string {
  let text = BARE_TEXT.get(jid);
  if (text === undefined) {
    text = jid.bareString();
    BARE_TEXT.set(jid, text);
  }
  return text;
}

export function fullText(jid: JID): string {
  let text = FULL_TEXT.get(jid);
  if (text === undefined) {
    text = jid.toString();
    FULL_TEXT.set(jid, text);
  }
  return text;
}

const NO_SESSIONS: readonly Session[] = Object.freeze([]);

/** The registry the core writes and features read (through `SessionRegistry`). */
export class Sessions implements SessionRegistry {
  readonly #byFull = new Map<string, Session>();
  readonly #byBare = new Map<string, Session[]>();

  get size(): number {
    return this.#byFull.size;
  }

  get(full: string): Session | undefined {
    return this.#byFull.get(full);
  }

  ofUser(bare: string): readonly Session[] {
    // The lists are replaced, never changed in place, so callers may keep what they got.
    return this.#byBare.get(bare) ?? NO_SESSIONS;
  }

  all(): IterableIterator<Session> {
    return this.#byFull.values();
  }

  /** Adds a session; the caller has ended any session holding the same full JID. */
  add(session: Session): void {
    const full = fullOf(session);
    if (this.#byFull.has(full)) throw new Error(`A session for ${full} already exists`);
    this.#byFull.set(full, session);
    const bare = session.jid.bareString();
    this.#byBare.set(bare, [...(this.#byBare.get(bare) ?? []), session]);
  }

  /** Forgets a session; false when it was not (or no longer) registered. */
  delete(session: Session): boolean {
    const full = fullOf(session);
    if (this.#byFull.get(full) !== session) return false;
    this.#byFull.delete(full);
    const bare = session.jid.bareString();
    const rest = (this.#byBare.get(bare) ?? []).filter((s) => s !== session);
    if (rest.length === 0) this.#byBare.delete(bare);
    else this.#byBare.set(bare, rest);
    return true;
  }
}
