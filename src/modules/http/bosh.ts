/**
 * BOSH (XEP-0124, XEP-0206) at `/http-bind`: sessions of held HTTP requests carrying a client
 * stream, which c2s runs as it runs TCP and WebSocket streams. Requests are handled in `rid`
 * order (§14.1); a request already answered within the window is answered again (§14.3); one too
 * far ahead ends the session (`item-not-found`). `wait` and `hold` bound how long and how many
 * requests are held (§7), `inactivity` and `pause` how long a session lives without one (§11,
 * §12), `type='terminate'` ends it (§13), `xmpp:restart` restarts the stream (XEP-0206 §5).
 */
import type { Address, HttpRequestInfo, TimerId } from "../../adapters/types.ts";
import type { Logger, Timers } from "../../server/module_api.ts";
import { NS_CLIENT } from "../../util/ns.ts";
import { type Element, escapeAttr } from "../../xml/element.ts";
import { NS_STREAMS, parseFragment } from "../../xml/stream_parser.ts";
import type { C2sStreams } from "../../server/c2s_streams.ts";
import { MessageConnection } from "./message_connection.ts";
import { NS_FRAMING } from "./websocket.ts";

export const NS_HTTPBIND = "http://jabber.org/protocol/httpbind";
export const NS_XBOSH = "urn:xmpp:xbosh";

export interface BoshSettings {
  /** Longest `wait` granted (ms). */
  maxWait: number;
  /** Most requests held at once (`hold`). */
  maxHold: number;
  /** How long a session lives with no request held (ms). */
  inactivity: number;
  /** Longest `pause` granted (ms). */
  maxPause: number;
}

export interface BoshContext {
  c2s(): C2sStreams | undefined;
  timer: Timers;
  log: Logger;
  local: Address;
  settings: BoshSettings;
  /** Plain http counts as encrypted (a proxy in front terminated TLS). */
  considerSecure: boolean;
}

export const BOSH_HEADERS = {
  "content-type": "text/xml; charset=utf-8",
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "content-type",
  "access-control-allow-methods": "POST, OPTIONS",
};

/** A terminal body (XEP-0124 §17), with what was still to send. */
function terminate(condition?: string, payload = ""): string {
  const cond = condition ? ` condition='${condition}'` : "";
  return `<body xmlns='${NS_HTTPBIND}' type='terminate'${cond}>${payload}</body>`;
}

function respond(body: string, status = 200): Response {
  return new Response(body, { status, headers: BOSH_HEADERS });
}

/** The BOSH sessions of one http component. */
export class BoshSessions {
  readonly #ctx: BoshContext;
  readonly #sessions = new Map<string, BoshSession>();
  #sweeper: TimerId | undefined;
  /** Sessions created since start, for metrics. */
  created = 0;

  constructor(ctx: BoshContext) {
    this.#ctx = ctx;
  }

  get size(): number {
    return this.#sessions.size;
  }

  async handle(request: Request, info: HttpRequestInfo): Promise<Response> {
    if (request.method === "OPTIONS") return new Response(null, { headers: BOSH_HEADERS });
    if (request.method !== "POST") {
      return new Response("BOSH (XEP-0206): POST a <body/> here\n", {
        status: 405,
        headers: { ...BOSH_HEADERS, "content-type": "text/plain; charset=utf-8", allow: "POST" },
      });
    }
    const c2s = this.#ctx.c2s();
    if (!c2s) return respond(terminate("remote-connection-failed"), 503);
    // A body holds at least one stanza of the largest size c2s allows, plus its own tags.
    const limit = c2s.stanzaSize + 8192;
    const length = Number(request.headers.get("content-length") ?? "0");
    if (length > limit) return respond(terminate("policy-violation"), 413);
    const text = await request.text();
    if (text.length > limit) return respond(terminate("policy-violation"), 413);
    let body: Element;
    try {
      body = parseFragment(text, { maxStanzaBytes: limit });
    } catch {
      return respond(terminate("bad-request"), 400);
    }
    const rid = Number(body.attrs.rid);
    if (body.local !== "body" || body.ns !== NS_HTTPBIND || !Number.isSafeInteger(rid) || rid < 0) {
      return respond(terminate("bad-request"), 400);
    }
    const sid = body.attrs.sid;
    if (sid === undefined) return respond(this.#create(c2s, body, rid, info));
    const session = this.#sessions.get(sid);
    if (!session) return respond(terminate("item-not-found"), 404);
    return respond(await session.request(rid, body));
  }

  #create(c2s: C2sStreams, body: Element, rid: number, info: HttpRequestInfo): string {
    const to = body.attrs.to;
    if (!to) return terminate("improper-addressing");
    const { settings, timer } = this.#ctx;
    const sid = crypto.getRandomValues(new Uint8Array(16)).toBase64().replace(/[+/=]/g, "");
    const wait = Math.min(settings.maxWait, seconds(body.attrs.wait, 60) * 1000);
    const hold = Math.min(settings.maxHold, Math.max(0, seconds(body.attrs.hold, 1)));
    const session = new BoshSession({
      sid,
      to,
      rid,
      wait,
      hold,
      timer,
      inactivity: settings.inactivity,
      maxPause: settings.maxPause,
      ended: () => this.#sessions.delete(sid),
    });
    const conn = new MessageConnection(session, {
      remote: info.remote,
      local: this.#ctx.local,
      secure: info.secure || this.#ctx.considerSecure,
    });
    session.connection = conn;
    this.#sessions.set(sid, session);
    this.created++;
    this.#sweeper ??= timer.setInterval(() => this.sweep(), 1000);
    c2s.accept(conn, "bosh");
    conn.receive(`<open xmlns='${NS_FRAMING}' to='${escapeAttr(to)}' version='1.0'/>`);
    const attrs = `sid='${sid}' wait='${wait / 1000}' hold='${hold}' requests='${hold + 1}' ` +
      `inactivity='${settings.inactivity / 1000}' maxpause='${settings.maxPause / 1000}' ` +
      `polling='1' ver='1.11' from='${escapeAttr(to)}' ack='${rid}' xmpp:version='1.0' ` +
      `xmpp:restartlogic='true'`;
    return session.first(
      `<body xmlns='${NS_HTTPBIND}' xmlns:xmpp='${NS_XBOSH}' xmlns:stream='${NS_STREAMS}' ${attrs}>`,
    );
  }

  /** Ends the sessions that had no request for longer than their inactivity (§11). */
  sweep(): void {
    const now = this.#ctx.timer.now();
    for (const session of [...this.#sessions.values()]) session.checkInactivity(now);
  }

  /** Ends every session (the http component stops). */
  closeAll(): void {
    for (const session of [...this.#sessions.values()]) session.end("system-shutdown");
  }
}

/** Seconds as a BOSH attribute gives them; `fallback` when absent or not a number. */
function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback;
}

interface Held {
  rid: number;
  resolve: (body: string) => void;
  timer: TimerId;
}

interface SessionOptions {
  sid: string;
  to: string;
  rid: number;
  wait: number;
  hold: number;
  inactivity: number;
  maxPause: number;
  timer: Timers;
  ended(): void;
}

class BoshSession {
  connection!: MessageConnection;
  readonly #o: SessionOptions;
  /** The highest rid handled. */
  #lastRid: number;
  /** Answers by rid, for the last `hold + 1` rids (§14.3). */
  readonly #answers = new Map<number, string>();
  /** Requests that came ahead of an earlier rid, waiting for it (§14.1). */
  readonly #ahead = new Map<number, { body: Element; resolve: (body: string) => void }>();
  readonly #held: Held[] = [];
  /** Elements c2s wrote that no response carried yet. */
  #pending: string[] = [];
  #flushing = false;
  /** Set once the stream ended: what the next request gets, then the session is gone. */
  #final: string | undefined;
  #lastActive: number;
  /** While the client paused the session (§12): how long it may stay without a request. */
  #pausedFor: number | undefined;

  constructor(options: SessionOptions) {
    this.#o = options;
    this.#lastRid = options.rid;
    this.#lastActive = options.timer.now();
  }

  /** The session creation response: its attributes and what c2s wrote (the features). */
  first(open: string): string {
    if (this.#final !== undefined) {
      this.#o.ended(); // refused at once (connections per address)
      return this.#final;
    }
    const answer = `${open}${this.#pending.splice(0).join("")}</body>`;
    this.#remember(this.#o.rid, answer);
    return answer;
  }

  request(rid: number, body: Element): Promise<string> {
    this.#lastActive = this.#o.timer.now();
    const replay = this.#answers.get(rid);
    if (replay !== undefined) return Promise.resolve(replay);
    if (this.#final !== undefined) {
      const final = this.#final;
      this.#o.ended();
      return Promise.resolve(final);
    }
    if (rid <= this.#lastRid) {
      // Already handled but no longer (or not yet) answerable: the window was overrun.
      return Promise.resolve(this.end("item-not-found"));
    }
    if (rid > this.#lastRid + this.#o.hold + 1) return Promise.resolve(this.end("item-not-found"));
    return new Promise((resolve) => {
      this.#ahead.set(rid, { body, resolve });
      for (let next; (next = this.#ahead.get(this.#lastRid + 1));) {
        this.#ahead.delete(this.#lastRid + 1);
        this.#handle(this.#lastRid + 1, next.body, next.resolve);
      }
    });
  }

  #handle(rid: number, body: Element, resolve: (body: string) => void): void {
    this.#lastRid = rid;
    const answer = (text: string) => {
      this.#remember(rid, text);
      this.#lastActive = this.#o.timer.now();
      resolve(text);
    };
    const pause = body.attrs.pause;
    if (pause !== undefined) {
      this.#pausedFor = Math.min(this.#o.maxPause, seconds(pause, 0) * 1000);
      // §12: every held request is answered at once.
      for (const held of this.#held.splice(0)) this.#answerHeld(held);
      return answer(this.#body());
    }
    this.#pausedFor = undefined;
    const conn = this.connection;
    if (body.attrs["xmpp:restart"] === "true" || body.attrs.restart === "true") {
      conn.receive(`<open xmlns='${NS_FRAMING}' to='${escapeAttr(this.#o.to)}' version='1.0'/>`);
    }
    for (const child of body.elements) {
      if (child.attrs.xmlns === undefined) child.attrs.xmlns = NS_CLIENT;
      conn.receive(child.toString());
    }
    if (body.attrs.type === "terminate") {
      conn.receive(`<close xmlns='${NS_FRAMING}'/>`);
      this.#final ??= terminate();
      this.#o.ended();
      return answer(this.#final);
    }
    if (this.#final !== undefined) {
      this.#o.ended();
      return answer(this.#final);
    }
    const timer = this.#o.timer.setTimeout(() => {
      const at = this.#held.indexOf(held);
      if (at >= 0) this.#answerHeld(this.#held.splice(at, 1)[0]);
    }, this.#o.wait);
    const held: Held = { rid, resolve: answer, timer };
    this.#held.push(held);
    // §7: at most `hold` requests wait; the oldest beyond that is answered (empty if need be).
    while (this.#held.length > this.#o.hold) this.#answerHeld(this.#held.shift()!);
    if (this.#pending.length > 0) this.#flush();
  }

  #answerHeld(held: Held): void {
    this.#o.timer.clearTimeout(held.timer);
    held.resolve(this.#body());
  }

  #body(): string {
    return `<body xmlns='${NS_HTTPBIND}'>${this.#pending.splice(0).join("")}</body>`;
  }

  #remember(rid: number, answer: string): void {
    this.#answers.set(rid, answer);
    for (const old of this.#answers.keys()) {
      if (old <= rid - (this.#o.hold + 1)) this.#answers.delete(old);
    }
  }

  /** c2s wrote an element: it leaves with the oldest held request, gathered with its siblings. */
  send(text: string): void {
    this.#pending.push(text);
    this.#flush();
  }

  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => {
      this.#flushing = false;
      const held = this.#held.shift();
      if (held && this.#pending.length > 0) this.#answerHeld(held);
      else if (held) this.#held.unshift(held);
    });
  }

  /** c2s closed the stream: the terminate body goes out with what was still to send (§13). */
  close(): void {
    if (this.#final !== undefined) return;
    const payload = this.#pending.splice(0).join("");
    const condition = payload.includes("<stream:error") ? "remote-stream-error" : undefined;
    this.#final = terminate(condition, payload);
    const held = this.#held.splice(0);
    if (held.length > 0) {
      for (const request of held) {
        this.#o.timer.clearTimeout(request.timer);
        request.resolve(this.#final);
      }
      this.#o.ended();
    }
  }

  /** Ends the session from our side: c2s is told, requests held get `condition`. */
  end(condition: string): string {
    if (this.#final === undefined) {
      this.#final = terminate(condition);
      for (const request of this.#held.splice(0)) {
        this.#o.timer.clearTimeout(request.timer);
        request.resolve(this.#final);
      }
    }
    this.#o.ended();
    this.connection.gone();
    return this.#final;
  }

  checkInactivity(now: number): void {
    if (this.#held.length > 0) return;
    const limit = this.#pausedFor ?? this.#o.inactivity;
    if (now - this.#lastActive > limit) this.end("item-not-found");
  }
}
