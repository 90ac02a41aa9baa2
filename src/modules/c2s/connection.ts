/**
 * One client connection (RFC 6120 §4–§8) as a small state machine over its negotiation steps:
 * the stream (`stream.ts`), STARTTLS (`starttls.ts`), SASL (`auth.ts`), registration before
 * login (`register.ts`), resource binding (`bind.ts`) and the bound session (`session.ts`)
 * with XEP-0198 acks and resumption (`stream_management.ts`); plus karma, auth and idle
 * timeouts with whitespace keepalives. Every fault ends this connection only.
 */
import type { Connection } from "../../adapters/types.ts";
import { errorReply, StanzaError, StreamError } from "../../util/errors.ts";
import type { StreamErrorCondition } from "../../util/errors.ts";
import { NS_CLIENT, NS_CSI, NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { Element } from "../../xml/element.ts";
import type { StreamParserEvents, XmlError } from "../../xml/stream_parser.ts";
import { SaslAuthentication } from "./auth.ts";
import { bindResult, emptyResult, isBind, isLegacySession, requestedJid } from "./bind.ts";
import { checkIq, stanzaName } from "./client_stanza.ts";
import { NS_SASL, NS_TLS, streamFeatures } from "./features.ts";
import type { FrameParser, StreamFraming } from "./framing.ts";
import { Karma } from "../../util/limits.ts";
import { NS_REGISTER } from "./register.ts";
import { registerBeforeLogin } from "./register_step.ts";
import { routeToSm, sessionEnded, sessionEndError } from "./session.ts";
import { startTls } from "./starttls.ts";
import {
  type ManagedStream,
  NS_SM,
  type ResumableStreams,
  StreamManagement,
} from "./stream_management.ts";
import { type C2sContext, checkHeader, servedHost } from "./stream.ts";

export class C2sConnection {
  /** Changes once at most: a stream that resumes a session takes that session's id. */
  id: string;
  readonly #conn: Connection;
  readonly #ctx: C2sContext;
  readonly #framing: StreamFraming;
  readonly #parser: FrameParser;
  readonly #karma: Karma;
  readonly #control: ManagedStream;
  readonly #streams: ResumableStreams<C2sConnection>;
  #domain: string | undefined;
  #headerSent = false;
  #closed = false;
  /** The SASL exchange until it succeeds; then undefined and `#username` set. */
  #auth: SaslAuthentication | undefined = new SaslAuthentication();
  #username: string | undefined;
  /** The bind request waiting for the session manager's answer. */
  #bindIq: Element | undefined;
  /** The bound full JID, once the session manager confirmed it. */
  #jid: string | undefined;
  #lastRead: number;
  #lastWrite: number;
  #authTimer: number | undefined;
  #resumeTimer: number | undefined;
  /** XEP-0198: acks, and a session kept detached after a drop until resumed. */
  readonly #sm: StreamManagement;
  #karmaPaused = false;
  /** Stanzas are handled one at a time (async SASL, registration), in order. */
  #queue: Promise<void> = Promise.resolve();
  /** How many queued steps have not finished (the fast path runs only when none has). */
  #queued = 0;

  /**
   * The parser's events as methods on one small object per connection, instead of four closures,
   * their context and an object holding them: a few hundred bytes of every session's memory.
   * Nested here so that its methods reach the connection's private members.
   */
  static readonly #ParserEvents = class implements StreamParserEvents {
    readonly #c: C2sConnection;
    constructor(connection: C2sConnection) {
      this.#c = connection;
    }
    onStreamStart(header: Element): void {
      this.#c.#guard(() => this.#c.#onHeader(header));
    }
    onStanza(stanza: Element): void {
      this.#c.#takeStanza(stanza);
    }
    onStreamEnd(): void {
      this.#c.#enqueue(() => this.#c.close());
    }
    onError(error: XmlError): void {
      this.#c.#enqueue(() => this.#c.streamError(error.condition));
    }
  };

  /** The connection as its negotiation steps see it, nested for the same reason. */
  static readonly #Control = class implements ManagedStream {
    readonly #c: C2sConnection;
    constructor(connection: C2sConnection) {
      this.#c = connection;
    }
    get id() {
      return this.#c.id;
    }
    get ctx() {
      return this.#c.#ctx;
    }
    get conn() {
      return this.#c.#conn;
    }
    get domain() {
      return this.#c.#domain!;
    }
    write(data: string): void {
      this.#c.#write(data);
    }
    restart(): void {
      this.#c.#parser.reset();
    }
    end(): void {
      this.#c.#end();
    }
    close(): void {
      this.#c.close();
    }
    get username() {
      return this.#c.#username;
    }
    get jid() {
      return this.#c.#jid;
    }
    get binding() {
      return this.#c.#bindIq !== undefined;
    }
    streamError(condition: StreamErrorCondition, text: string): void {
      this.#c.streamError(condition, text);
    }
    resumed(jid: string, id: string): void {
      this.#c.#resumed(jid, id);
    }
    leave(): void {
      this.#c.#leave();
    }
    expired(): void {
      this.#c.#release();
    }
  };

  /** Since when the connection exists (ms, the module's clock), for the admin API. */
  readonly since: number;

  constructor(
    id: string,
    conn: Connection,
    ctx: C2sContext,
    framing: StreamFraming,
    streams: ResumableStreams<C2sConnection>,
  ) {
    this.id = id;
    this.#streams = streams;
    this.#conn = conn;
    this.#ctx = ctx;
    this.#framing = framing;
    const limits = ctx.config.limits;
    const now = ctx.timer.now();
    this.since = now;
    this.#lastRead = now;
    this.#lastWrite = now;
    this.#karma = new Karma(limits.rate, limits.burst, now);
    this.#parser = framing.parser(new C2sConnection.#ParserEvents(this), {
      maxStanzaBytes: limits.stanzaSize,
    });
    this.#control = new C2sConnection.#Control(this);
    this.#sm = new StreamManagement(this.#control, streams.resumable);
    conn.onData((chunk) => this.#guard(() => this.#onData(chunk)));
    conn.onClose(() => this.#gone(true));
    this.#authTimer = ctx.timer.setTimeout(() => {
      if (!this.#jid) this.streamError("connection-timeout", "Authentication took too long");
    }, limits.authTimeout);
  }

  /** The address this connection routes as: `c2s-id/connection-id`. */
  get route(): string {
    return `${this.#ctx.id}/${this.id}`;
  }

  /** The bound full JID, once the session manager confirmed it. */
  get jid(): string | undefined {
    return this.#jid;
  }

  get remoteAddress(): string {
    return this.#conn.remote.hostname;
  }

  /** The transport it runs over (`tcp`, `tcp-tls`, `websocket`, `bosh`). */
  get transport(): string {
    return this.#framing.kind;
  }

  #guard(fn: () => void, stanza?: Element): void {
    try {
      fn();
    } catch (error) {
      this.#fault(error, stanza);
    }
  }

  #enqueue(fn: () => void | Promise<unknown>, stanza?: Element): void {
    this.#queued++;
    this.#queue = this.#queue.then(async () => {
      try {
        // A detached session still handles what arrived before the drop (and counts it).
        if (!this.#closed || this.#sm.detached) await fn();
      } catch (error) {
        this.#fault(error, stanza);
      } finally {
        this.#queued--;
      }
    });
  }

  /**
   * A stanza of a bound session, with nothing queued before it, is handled at once: no promise
   * per stanza on the path every message takes. Negotiation (TLS, SASL, registration) and
   * anything behind a step still running keep their order through the queue.
   */
  #takeStanza(stanza: Element): void {
    if (this.#queued === 0 && this.#jid !== undefined && stanza.ns === NS_CLIENT) {
      // #guard's work inline: no closure per stanza on the path every message takes.
      try {
        this.#onClientStanza(stanza);
      } catch (error) {
        this.#fault(error, stanza);
      }
    } else this.#enqueue(() => this.#onStanza(stanza), stanza);
  }

  /**
   * The one place a step's error becomes what the client reads: a stream error closes the
   * stream, a stanza error answers the stanza (`errorReply`, nothing for an error or a result),
   * anything else is a fault of ours and closes the stream with `internal-server-error`.
   */
  #fault(error: unknown, stanza?: Element): void {
    if (error instanceof StreamError) return this.streamError(error.condition, error.text);
    if (error instanceof StanzaError && stanza) {
      const reply = errorReply(stanza, error);
      if (reply) this.send(reply);
      return;
    }
    this.#ctx.log.error(`c2s connection ${this.id} failed: ${(error as Error)?.stack ?? error}`);
    this.streamError("internal-server-error");
  }

  #write(data: string): void {
    if (this.#closed) return;
    this.#lastWrite = this.#ctx.timer.now();
    this.#conn.write(this.#framing.frame(data));
  }

  /** Writes a stanza to the client, through stream management (kept until acknowledged). */
  send(stanza: Element): void {
    this.#sm.send(stanza);
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    const now = this.#ctx.timer.now();
    this.#lastRead = now;
    this.#parser.write(chunk);
    const wait = this.#karma.read(chunk.length, now, this.#parser);
    if (wait > 0 && !this.#karmaPaused && !this.#closed) {
      // Out of karma: stop reading until the bucket refills (jabberd 1.4's karma), though not
      // inside a stanza, so that a size bomb meets the stanza limit at once (limits.ts).
      this.#karmaPaused = true;
      this.#conn.pause();
      this.#resumeTimer = this.#ctx.timer.setTimeout(() => {
        this.#karmaPaused = false;
        this.#resumeTimer = undefined;
        if (!this.#closed) this.#conn.resume();
      }, wait);
    }
  }

  /**
   * Idle timeout and whitespace keepalive (RFC 6120 §4.6.1); the module calls it for every
   * connection from one shared timer (`tickInterval`), which costs less than a timer each.
   */
  tick(): void {
    if (this.#closed) return;
    const now = this.#ctx.timer.now();
    const limits = this.#ctx.config.limits;
    if (now - this.#lastRead >= limits.idleTimeout) {
      // A client gone silent has most likely lost its network: its session may be resumed.
      this.streamError("connection-timeout", "Idle for too long", true);
    } else if (this.#headerSent && now - this.#lastWrite >= limits.keepalive) {
      const keepalive = this.#framing.keepalive;
      if (keepalive !== undefined) this.#write(keepalive);
    }
  }

  #sendHeader(from: string | undefined): void {
    const header = this.#framing.header(from);
    if (header) this.#write(header);
    this.#headerSent = true;
  }

  #onHeader(header: Element): void {
    const domains = this.#ctx.config.domains;
    const host = servedHost(header, domains);
    this.#sendHeader(host ?? domains[0]);
    this.#domain = checkHeader(header, host, this.#domain);
    this.#write(this.#features().toString());
  }

  #features(): Element {
    const secure = this.#conn.secure;
    const config = this.#ctx.config;
    const mayAuth = secure || !config.requireEncryption;
    const channelBinding = secure && this.#conn.tls?.localCertificate !== undefined;
    const authenticated = this.#username !== undefined;
    return streamFeatures({
      starttls: !secure && this.#framing.starttls,
      tlsRequired: config.requireEncryption,
      mechanisms: this.#auth?.offer({
        allowed: mayAuth,
        channelBinding,
        plain: secure || config.plainUnencrypted,
      }) ?? [],
      channelBinding,
      register: !authenticated && mayAuth &&
        (this.#ctx.registration?.allowed(this.remoteAddress) ?? false),
      authenticated,
      streamManagement: config.streamManagement.enabled,
    });
  }

  /** Any element of the stream, in order: negotiation first, then the client's stanzas. */
  async #onStanza(stanza: Element): Promise<void> {
    const ns = stanza.ns;
    if (ns === NS_TLS) {
      const offered = !this.#conn.secure && this.#framing.starttls &&
        this.#username === undefined;
      return await startTls(this.#control, stanza, offered);
    }
    if (ns === NS_SASL) {
      if (!this.#auth) throw new StreamError("policy-violation", "Already authenticated");
      this.#username = await this.#auth.handle(this.#control, stanza);
      if (this.#username !== undefined) this.#auth = undefined;
      return;
    }
    if (ns === NS_CSI && this.#jid) {
      // XEP-0352 <active/>, <inactive/>: the session manager holds stanzas back, not c2s.
      const route = new Element("route", { to: this.#jid, from: this.route }, [stanza]);
      return this.#ctx.deliver(route);
    }
    if (ns === NS_SM && this.#ctx.config.streamManagement.enabled) return this.#sm.handle(stanza);
    if (ns !== NS_CLIENT) {
      throw new StreamError("unsupported-stanza-type", `<${stanza.local}> is not a client stanza`);
    }
    if (this.#username === undefined) {
      const registration = this.#ctx.registration;
      if (
        stanzaName(stanza) !== "iq" || !stanza.getChild("query", NS_REGISTER) || !registration
      ) throw new StreamError("not-authorized", "Authenticate first");
      checkIq(stanza);
      return await registerBeforeLogin(this.#control, registration, stanza);
    }
    this.#onClientStanza(stanza);
  }

  /** A `jabber:client` stanza on an authenticated stream: bind, the legacy session, or route. */
  #onClientStanza(stanza: Element): void {
    this.#sm.countIn();
    if (stanzaName(stanza) === "iq") {
      checkIq(stanza);
      if (isBind(stanza)) return this.#onBind(stanza);
      if (isLegacySession(stanza)) return this.send(emptyResult(stanza));
    }
    if (!this.#jid) throw new StreamError("not-authorized", "Bind a resource first");
    this.#ctx.deliver(routeToSm(stanza, this.#jid, this.route));
  }

  #onBind(iq: Element): void {
    if (this.#jid || this.#bindIq) throw new StanzaError("not-allowed", "Already bound");
    const full = requestedJid(iq, this.#username!, this.#domain!);
    this.#bindIq = iq;
    this.#ctx.deliver(
      new Element("route", { type: "session", to: full.toString(), from: this.route }),
    );
  }

  /** A stream resumed the session `jid` of connection `id` (XEP-0198 §5): route as that one. */
  #resumed(jid: string, id: string): void {
    this.#jid = jid;
    this.#streams.takeOver(this, id);
    this.id = id;
    this.#ctx.timer.clearTimeout(this.#authTimer!);
  }

  /** A resuming stream took this connection's session over: let go of it without ending it. */
  #leave(): void {
    this.#jid = undefined;
    if (this.#closed) return;
    // Still attached (its client has not noticed the drop yet): close it without a word.
    this.#closed = true;
    this.#clearTimers();
    this.#conn.close();
    this.#streams.socketGone(this);
  }

  /** A route packet from the session manager for this connection. */
  onRoute(route: Element): void {
    if (this.#closed && !this.#sm.detached) return;
    const type = route.attrs.type;
    if (type === "session") {
      const iq = this.#bindIq;
      this.#bindIq = undefined;
      if (!iq || this.#jid) return;
      this.#jid = route.attrs.from ?? "";
      this.#ctx.timer.clearTimeout(this.#authTimer!);
      this.#write(bindResult(iq, this.#jid).toString());
      return;
    }
    if (type === "error") {
      const error = route.getChild("error");
      const condition = error?.elements[0]?.local;
      if (this.#bindIq) {
        const iq = this.#bindIq;
        this.#bindIq = undefined;
        return this.#fault(
          new StanzaError(condition === "conflict" ? "conflict" : "internal-server-error"),
          iq,
        );
      }
      if (!this.#jid) return;
      this.#endSession(true); // the sm ended the session: do not tell it again
      if (this.#sm.detached) return this.#sm.expire();
      const text = error?.getChildText("text", NS_STANZAS_ERRORS);
      this.streamError(...sessionEndError(condition, text));
      return;
    }
    const stanza = route.firstElement();
    if (stanza && this.#jid) this.send(stanza);
  }

  /**
   * Ends the stream with an error (RFC 6120 §4.9), sending our header first if needed; with
   * `detach`, a resumable session waits for its client to come back. A detached session ends.
   */
  streamError(condition: StreamErrorCondition, text?: string, detach = false): void {
    if (this.#sm.detached) return this.#sm.expire();
    if (this.#closed) return;
    if (!this.#headerSent) this.#sendHeader(this.#ctx.config.domains[0]);
    this.#write(this.#framing.error(condition, text));
    if (this.#framing.close) this.#write(this.#framing.close);
    this.#ctx.log.debug(`c2s connection ${this.id}: stream error ${condition}`);
    this.#end(detach);
  }

  /** Closes the stream normally (which ends a stream-managed session too, XEP-0198 §5). */
  close(): void {
    if (this.#sm.detached) return this.#sm.expire();
    if (this.#closed) return;
    if (!this.#headerSent) this.#sendHeader(this.#ctx.config.domains[0]);
    if (this.#framing.close) this.#write(this.#framing.close);
    this.#end();
  }

  #end(detach = false): void {
    if (this.#closed) return;
    this.#conn.close();
    this.#gone(detach);
  }

  /**
   * The socket is gone. A resumable session (XEP-0198 §5) is kept detached for the resume
   * timeout: the session manager is not told, and stanzas for it are held (ROUTING.md R39).
   */
  #gone(detach: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    this.#streams.socketGone(this);
    if (!detach || !this.#sm.detach()) this.#release();
  }

  #clearTimers(): void {
    const timer = this.#ctx.timer;
    if (this.#authTimer !== undefined) timer.clearTimeout(this.#authTimer);
    if (this.#resumeTimer !== undefined) timer.clearTimeout(this.#resumeTimer);
  }

  /** The session ends for good, and the module forgets this connection. */
  #release(): void {
    this.#endSession(false);
    this.#ctx.closed(this);
  }

  /**
   * Tells the session manager the session ended (unless it told us), handing back the stanzas
   * the client never acknowledged so that they are routed again, never lost (ROUTING.md R39).
   */
  #endSession(told: boolean): void {
    const jid = this.#jid;
    this.#jid = undefined;
    const unacked = this.#sm.end();
    if (jid && (!told || unacked.length > 0)) {
      this.#ctx.deliver(sessionEnded(jid, this.route, unacked));
    }
  }
}
