/**
 * One client connection (RFC 6120 §4–§8) as a small state machine over its negotiation steps:
 * the stream (`stream.ts`), STARTTLS (`starttls.ts`), SASL (`auth.ts`), registration before
 * login (`register.ts`), resource binding (`bind.ts`) and the bound session (`session.ts`);
 * plus karma, auth and idle timeouts with whitespace keepalives. Every fault ends this
 * connection only.
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
import { type C2sContext, checkHeader, servedHost, type StreamControl } from "./stream.ts";

export class C2sConnection {
  readonly id: string;
  readonly #conn: Connection;
  readonly #ctx: C2sContext;
  readonly #framing: StreamFraming;
  readonly #parser: FrameParser;
  readonly #karma: Karma;
  readonly #control: StreamControl;
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
  static readonly #Control = class implements StreamControl {
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
  };

  /** Since when the connection exists (ms, the module's clock), for the admin API. */
  readonly since: number;

  constructor(id: string, conn: Connection, ctx: C2sContext, framing: StreamFraming) {
    this.id = id;
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
    conn.onData((chunk) => this.#guard(() => this.#onData(chunk)));
    conn.onClose(() => this.#gone());
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
        if (!this.#closed) await fn();
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
      this.#guard(() => this.#onClientStanza(stanza), stanza);
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
      if (reply) this.#write(reply.toString());
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

  /** Writes a stanza from the session manager to the client. */
  send(stanza: Element): void {
    this.#write(stanza.toString());
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
      this.streamError("connection-timeout", "Idle for too long");
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
    if (stanzaName(stanza) === "iq") {
      checkIq(stanza);
      if (isBind(stanza)) return this.#onBind(stanza);
      if (isLegacySession(stanza)) return this.#write(emptyResult(stanza).toString());
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

  /** A route packet from the session manager for this connection. */
  onRoute(route: Element): void {
    if (this.#closed) return;
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
      this.#jid = undefined; // the sm ended the session: do not tell it again
      const text = error?.getChildText("text", NS_STANZAS_ERRORS);
      this.streamError(...sessionEndError(condition, text));
      return;
    }
    const stanza = route.elements[0];
    if (stanza && this.#jid) this.send(stanza);
  }

  /** Ends the stream with an error (RFC 6120 §4.9), sending our header first if needed. */
  streamError(condition: StreamErrorCondition, text?: string): void {
    if (this.#closed) return;
    if (!this.#headerSent) this.#sendHeader(this.#ctx.config.domains[0]);
    this.#write(this.#framing.error(condition, text));
    if (this.#framing.close) this.#write(this.#framing.close);
    this.#ctx.log.debug(`c2s connection ${this.id}: stream error ${condition}`);
    this.#end();
  }

  /** Closes the stream normally. */
  close(): void {
    if (this.#closed) return;
    if (!this.#headerSent) this.#sendHeader(this.#ctx.config.domains[0]);
    if (this.#framing.close) this.#write(this.#framing.close);
    this.#end();
  }

  #end(): void {
    if (this.#closed) return;
    this.#conn.close();
    this.#gone();
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    const timer = this.#ctx.timer;
    if (this.#authTimer !== undefined) timer.clearTimeout(this.#authTimer);
    if (this.#resumeTimer !== undefined) timer.clearTimeout(this.#resumeTimer);
    if (this.#jid) {
      this.#ctx.deliver(sessionEnded(this.#jid, this.route));
      this.#jid = undefined;
    }
    this.#ctx.closed(this);
  }
}
