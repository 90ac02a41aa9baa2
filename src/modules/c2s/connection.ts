/**
 * One client connection (RFC 6120 §4–§8): stream headers and restarts, STARTTLS, SASL, resource
 * binding through `route` packets to the session manager, stanza routing, stream errors, karma,
 * auth and idle timeouts with whitespace keepalives. Every fault ends this connection only.
 */
import type { Connection, ServerTlsOptions } from "../../adapters/types.ts";
import { credentialsFromElement } from "../../accounts/credentials.ts";
import { NS_CREDENTIALS } from "../../accounts/credentials.ts";
import type { Logger, Timers, XdbClient } from "../../server/module_api.ts";
import { errorReply, StanzaError, StreamError } from "../../util/errors.ts";
import type { StreamErrorCondition } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { NS_CLIENT, NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { Element, escapeAttr, escapeText } from "../../xml/element.ts";
import {
  NS_STREAMS,
  StreamParser,
  type StreamParserEvents,
  type XmlError,
} from "../../xml/stream_parser.ts";
import type { C2sConfig } from "./config.ts";
import { NS_BIND, NS_SASL, NS_SESSION, NS_TLS, streamFeatures } from "./features.ts";
import { TokenBucket } from "./limits.ts";
import { NS_REGISTER, type Registration } from "./register.ts";
import { createMechanism, mechanismNames, type SaslMechanism, type SaslStep } from "./sasl/mod.ts";
import { serverEndPoint } from "./x509.ts";

/** What a connection needs from its c2s instance. */
export interface C2sContext {
  /** The c2s section id: route packets come from `{id}/{connection-id}`. */
  readonly id: string;
  readonly config: C2sConfig;
  readonly timer: Timers;
  readonly log: Logger;
  readonly xdb: XdbClient;
  readonly registration: Registration | undefined;
  deliver(element: Element): void;
  tls(): ServerTlsOptions;
  /** Called once when the connection is gone. */
  closed(connection: C2sConnection): void;
}

function b64(data: Uint8Array | undefined): string {
  return data && data.length > 0 ? data.toBase64() : "=";
}

export class C2sConnection {
  readonly id: string;
  readonly #conn: Connection;
  readonly #ctx: C2sContext;
  readonly #directTls: boolean;
  readonly #parser: StreamParser;
  readonly #karma: TokenBucket;
  #domain: string | undefined;
  #headerSent = false;
  #closed = false;
  #authenticated = false;
  #username = "";
  #offered: string[] = [];
  /** What earlier SASL attempts on this stream showed (see SaslContext.stream). */
  readonly #saslStream = { triedOtherBinding: false };
  #mechanism: SaslMechanism | undefined;
  #authFailures = 0;
  #bindIq: Element | undefined;
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

  constructor(id: string, conn: Connection, ctx: C2sContext, directTls: boolean) {
    this.id = id;
    this.#conn = conn;
    this.#ctx = ctx;
    this.#directTls = directTls;
    const limits = ctx.config.limits;
    const now = ctx.timer.now();
    this.#lastRead = now;
    this.#lastWrite = now;
    this.#karma = new TokenBucket(limits.rate, limits.burst, now);
    this.#parser = new StreamParser(new C2sConnection.#ParserEvents(this), {
      maxStanzaBytes: limits.stanzaSize,
    });
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

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#fault(error);
    }
  }

  #enqueue(fn: () => void | Promise<void>): void {
    this.#queued++;
    this.#queue = this.#queue.then(async () => {
      try {
        if (!this.#closed) await fn();
      } catch (error) {
        this.#fault(error);
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
      this.#guard(() => this.#onClientStanza(stanza));
    } else this.#enqueue(() => this.#onStanza(stanza));
  }

  #fault(error: unknown): void {
    if (error instanceof StreamError) {
      this.streamError(error.condition, error.text);
      return;
    }
    this.#ctx.log.error(`c2s connection ${this.id} failed: ${(error as Error)?.stack ?? error}`);
    this.streamError("internal-server-error");
  }

  #write(data: string): void {
    if (this.#closed) return;
    this.#lastWrite = this.#ctx.timer.now();
    this.#conn.write(data);
  }

  /** Writes a stanza from the session manager to the client. */
  send(stanza: Element): void {
    this.#write(stanza.toString());
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    const now = this.#ctx.timer.now();
    this.#lastRead = now;
    if (!this.#karma.take(chunk.length, now) && !this.#karmaPaused) {
      // Out of karma: stop reading until the bucket refills (jabberd 1.4's karma).
      this.#karmaPaused = true;
      this.#conn.pause();
      this.#resumeTimer = this.#ctx.timer.setTimeout(() => {
        this.#karmaPaused = false;
        this.#resumeTimer = undefined;
        if (!this.#closed) this.#conn.resume();
      }, this.#karma.waitMs(now));
    }
    this.#parser.write(chunk);
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
      this.#write(" "); // whitespace keepalive (RFC 6120 §4.6.1)
    }
  }

  #sendHeader(from: string | undefined): void {
    const id = crypto.getRandomValues(new Uint8Array(12)).toBase64();
    const fromAttr = from ? ` from='${escapeAttr(from)}'` : "";
    this.#write(
      `<?xml version='1.0'?><stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAMS}'` +
        ` id='${escapeAttr(id)}'${fromAttr} version='1.0' xml:lang='en'>`,
    );
    this.#headerSent = true;
  }

  #onHeader(header: Element): void {
    const to = header.attrs.to?.toLowerCase().replace(/\.$/, "");
    const known = to !== undefined && this.#ctx.config.domains.includes(to);
    this.#sendHeader(known ? to : this.#ctx.config.domains[0]);
    if ((header.attrs.xmlns ?? "") !== NS_CLIENT) {
      throw new StreamError("invalid-namespace", `The default namespace must be ${NS_CLIENT}`);
    }
    if (!known) throw new StreamError("host-unknown", "This server does not serve that host");
    if (this.#domain !== undefined && to !== this.#domain) {
      throw new StreamError("host-unknown", "The host must not change on a stream restart");
    }
    const version = header.attrs.version;
    if (version === undefined || !/^1\.\d+$/.test(version)) {
      throw new StreamError("unsupported-version", "This server speaks XMPP version 1.0");
    }
    this.#domain = to;
    this.#write(this.#features().toString());
  }

  #features(): Element {
    const secure = this.#conn.secure;
    const config = this.#ctx.config;
    const mayAuth = secure || !config.requireEncryption;
    const channelBinding = secure && this.#conn.tls?.localCertificate !== undefined;
    this.#offered = !this.#authenticated && mayAuth
      ? mechanismNames({
        channelBinding,
        plain: secure || config.plainUnencrypted,
      })
      : [];
    return streamFeatures({
      starttls: !secure && !this.#directTls,
      tlsRequired: config.requireEncryption,
      mechanisms: this.#offered,
      channelBinding,
      register: !this.#authenticated && mayAuth &&
        (this.#ctx.registration?.allowed(this.remoteAddress) ?? false),
      authenticated: this.#authenticated,
    });
  }

  async #onStanza(stanza: Element): Promise<void> {
    const ns = stanza.ns;
    if (ns === NS_TLS) return await this.#onStartTls(stanza);
    if (ns === NS_SASL) return await this.#onSasl(stanza);
    if (ns !== NS_CLIENT) {
      throw new StreamError("unsupported-stanza-type", `<${stanza.local}> is not a client stanza`);
    }
    if (!this.#authenticated) {
      const local = stanzaName(stanza);
      if (local === "iq" && stanza.getChild("query", NS_REGISTER) && this.#ctx.registration) {
        return await this.#onRegister(stanza);
      }
      throw new StreamError("not-authorized", "Authenticate first");
    }
    this.#onClientStanza(stanza);
  }

  /** A `jabber:client` stanza on an authenticated stream: bind, the legacy session, or route. */
  #onClientStanza(stanza: Element): void {
    const local = stanzaName(stanza);
    if (local === "iq" && stanza.getChild("bind", NS_BIND) && stanza.attrs.type === "set") {
      return this.#onBind(stanza);
    }
    if (local === "iq" && stanza.getChild("session", NS_SESSION) && stanza.attrs.type === "set") {
      return this.#reply(stanza, undefined);
    }
    if (!this.#jid) throw new StreamError("not-authorized", "Bind a resource first");
    this.#route(stanza);
  }

  #onStartTls(stanza: Element): Promise<void> | void {
    if (
      stanza.local !== "starttls" || this.#conn.secure || this.#directTls || this.#authenticated
    ) {
      this.#write(`<failure xmlns='${NS_TLS}'/></stream:stream>`);
      return this.#end();
    }
    this.#write(`<proceed xmlns='${NS_TLS}'/>`);
    // Nothing sent after <starttls/> may be read as the new stream (RFC 6120 §5.4.3.3).
    this.#conn.pause();
    this.#parser.reset();
    return this.#conn.startTlsServer(this.#ctx.tls()).then(
      () => this.#conn.resume(),
      (error) => {
        this.#ctx.log.info(`c2s connection ${this.id}: TLS handshake failed: ${error}`);
        this.#end();
      },
    );
  }

  async #onSasl(stanza: Element): Promise<void> {
    if (this.#authenticated) throw new StreamError("policy-violation", "Already authenticated");
    if (stanza.local === "auth") {
      if (this.#offered.length === 0) {
        const condition = this.#conn.secure ? "invalid-mechanism" : "encryption-required";
        return this.#saslFailure({ type: "failure", condition });
      }
      const mechanism = createMechanism(stanza.attrs.mechanism ?? "", this.#offered, {
        credentials: (username) => this.#credentials(username),
        normalizeUsername: (username) => {
          try {
            return new JID(username, this.#domain!).local;
          } catch {
            return undefined;
          }
        },
        jidOf: (username) => `${username}@${this.#domain}`,
        channelBinding: await this.#channelBinding(),
        stream: this.#saslStream,
        iterations: this.#ctx.config.iterations,
      });
      if (!mechanism) return this.#saslFailure({ type: "failure", condition: "invalid-mechanism" });
      this.#mechanism = mechanism;
    } else if (stanza.local === "abort") {
      this.#mechanism = undefined;
      return this.#saslFailure({ type: "failure", condition: "aborted" });
    } else if (stanza.local !== "response" || !this.#mechanism) {
      return this.#saslFailure({ type: "failure", condition: "malformed-request" });
    }
    let data: Uint8Array;
    try {
      const text = stanza.text().trim();
      data = text === "=" ? new Uint8Array(0) : Uint8Array.fromBase64(text);
    } catch {
      return this.#saslFailure({ type: "failure", condition: "incorrect-encoding" });
    }
    let step: SaslStep;
    try {
      step = await this.#mechanism!.step(data);
    } catch (error) {
      // Storage could not answer (RFC 6120 §6.5.12): the client may try again; the stream stays.
      this.#ctx.log.warn(`c2s connection ${this.id}: SASL failed on storage: ${error}`);
      step = { type: "failure", condition: "temporary-auth-failure" };
    }
    if (step.type === "challenge") {
      this.#write(`<challenge xmlns='${NS_SASL}'>${b64(step.data)}</challenge>`);
    } else if (step.type === "success") {
      this.#mechanism = undefined;
      this.#authenticated = true;
      this.#username = step.username;
      this.#parser.reset(); // the client restarts the stream (RFC 6120 §6.4.6)
      const data = step.data ? step.data.toBase64() : "";
      this.#write(`<success xmlns='${NS_SASL}'>${data}</success>`);
      this.#ctx.log.info(`c2s connection ${this.id}: ${this.#username}@${this.#domain} logged in`);
    } else {
      this.#saslFailure(step);
    }
  }

  #saslFailure(step: Extract<SaslStep, { type: "failure" }>): void {
    this.#mechanism = undefined;
    const text = step.text ? `<text xml:lang='en'>${escapeText(step.text)}</text>` : "";
    this.#write(`<failure xmlns='${NS_SASL}'><${step.condition}/>${text}</failure>`);
    if (
      step.condition === "aborted" || step.condition === "temporary-auth-failure" || step.retryable
    ) return;
    this.#authFailures++;
    if (this.#authFailures >= this.#ctx.config.limits.authAttempts) {
      // RFC 6120 §6.4.5: after a configurable number of retries, close the stream.
      this.#write("</stream:stream>");
      this.#end();
    }
  }

  async #credentials(username: string) {
    const element = await this.#ctx.xdb.get(`${username}@${this.#domain}`, NS_CREDENTIALS);
    return element ? credentialsFromElement(element) : undefined;
  }

  async #channelBinding(): Promise<Uint8Array | undefined> {
    const der = this.#conn.secure ? this.#conn.tls?.localCertificate : undefined;
    return der ? await serverEndPoint(der) : undefined;
  }

  async #onRegister(iq: Element): Promise<void> {
    const registration = this.#ctx.registration!;
    if (!this.#conn.secure && this.#ctx.config.requireEncryption) {
      throw new StreamError("not-authorized", "Start TLS before registering");
    }
    try {
      const reply = await registration.handle(
        iq,
        this.remoteAddress,
        this.#domain!,
        this.#ctx.timer.now(),
      );
      this.#write(reply.toString());
      if (iq.attrs.type === "set") {
        this.#ctx.log.info(`c2s: registered an account from ${this.remoteAddress}`);
      }
    } catch (error) {
      const stanzaError = error instanceof StanzaError
        ? error
        : new StanzaError("internal-server-error");
      if (!(error instanceof StanzaError)) this.#ctx.log.error(`c2s registration: ${error}`);
      const reply = errorReply(iq, stanzaError);
      if (reply) this.#write(reply.toString());
    }
  }

  #onBind(iq: Element): void {
    if (this.#jid || this.#bindIq) {
      const reply = errorReply(iq, new StanzaError("not-allowed", "Already bound"));
      if (reply) this.#write(reply.toString());
      return;
    }
    const requested = iq.getChild("bind", NS_BIND)!.getChildText("resource")?.trim() ?? "";
    let full: JID;
    try {
      full = new JID(this.#username, this.#domain!, requested || this.#makeResource());
    } catch {
      const reply = errorReply(iq, new StanzaError("bad-request", "That resource is not valid"));
      if (reply) this.#write(reply.toString());
      return;
    }
    this.#bindIq = iq;
    this.#ctx.deliver(
      new Element("route", { type: "session", to: full.toString(), from: this.route }),
    );
  }

  #makeResource(): string {
    const bytes = crypto.getRandomValues(new Uint8Array(9));
    return `jabberd-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  #reply(iq: Element, payload: Element | undefined): void {
    const attrs: Record<string, string> = { type: "result" };
    if (iq.attrs.id !== undefined) attrs.id = iq.attrs.id;
    this.#write(new Element("iq", attrs, payload ? [payload] : []).toString());
  }

  #route(stanza: Element): void {
    const jid = this.#jid!;
    const from = stanza.attrs.from;
    if (from !== undefined) {
      // RFC 6120 §8.1.2.1: a `from` other than the client's own address is a stream error.
      const parsed = JID.tryParse(from);
      const own = JID.parse(jid);
      if (!parsed || !(parsed.equals(own) || (parsed.isBare && parsed.equals(own.bare)))) {
        throw new StreamError("invalid-from", "The from address is not yours");
      }
    }
    stanza.attrs.from = jid;
    this.#ctx.deliver(new Element("route", { to: jid, from: this.route }, [stanza]));
  }

  /** A route packet from the session manager for this connection. */
  onRoute(route: Element): void {
    if (this.#closed) return;
    const type = route.attrs.type;
    if (type === "session") {
      const iq = this.#bindIq;
      this.#bindIq = undefined;
      if (!iq || this.#jid) return;
      this.#jid = route.attrs.from;
      this.#ctx.timer.clearTimeout(this.#authTimer!);
      const bind = new Element("bind", { xmlns: NS_BIND });
      bind.c("jid").t(this.#jid ?? "");
      this.#reply(iq, bind);
      return;
    }
    if (type === "error") {
      const condition = route.getChild("error")?.elements[0]?.local;
      if (this.#bindIq) {
        const iq = this.#bindIq;
        this.#bindIq = undefined;
        const reply = errorReply(
          iq,
          new StanzaError(condition === "conflict" ? "conflict" : "internal-server-error"),
        );
        if (reply) this.#write(reply.toString());
        return;
      }
      if (!this.#jid) return;
      this.#jid = undefined; // the sm ended the session: do not tell it again
      const text = route.getChild("error")?.getChildText("text", NS_STANZAS_ERRORS);
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
    this.#write(new StreamError(condition, text).toElement().toString() + "</stream:stream>");
    this.#ctx.log.debug(`c2s connection ${this.id}: stream error ${condition}`);
    this.#end();
  }

  /** Closes the stream normally. */
  close(): void {
    if (this.#closed) return;
    if (!this.#headerSent) this.#sendHeader(this.#ctx.config.domains[0]);
    this.#write("</stream:stream>");
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
      this.#ctx.deliver(new Element("route", { type: "error", to: this.#jid, from: this.route }));
      this.#jid = undefined;
    }
    this.#ctx.closed(this);
  }
}

/**
 * The stream error that tells a client why the session manager ended its session: a newer login
 * took the resource (`conflict`), the account went away (`not-authorized`), the client did not
 * answer the server's ping (`remote-server-timeout`), or the session manager is gone or stopping
 * (`service-unavailable`, or a route the router bounced, which carries no condition at all).
 */
export function sessionEndError(
  condition: string | undefined,
  text: string | undefined,
): [StreamErrorCondition, string] {
  switch (condition) {
    case "conflict":
      return ["conflict", "Replaced by a new login"];
    case "not-authorized":
    case "forbidden":
      return ["not-authorized", text ?? "The account can no longer log in"];
    case "remote-server-timeout":
      return ["connection-timeout", text ?? "No answer to the server's ping"];
    case "service-unavailable":
    case undefined:
      return ["system-shutdown", text ?? "The session manager is not available"];
    default:
      return ["undefined-condition", text ?? "The session ended"];
  }
}

/** The stanza's name, or the `unsupported-stanza-type` stream error for anything else. */
function stanzaName(stanza: Element): "iq" | "message" | "presence" {
  const local = stanza.local;
  if (local === "iq" || local === "message" || local === "presence") return local;
  throw new StreamError("unsupported-stanza-type", `<${local}> is not a stanza`);
}

/** How often the module ticks its connections: often enough for the keepalive and idle limits. */
export function tickInterval(limits: { keepalive: number; idleTimeout: number }): number {
  return Math.max(1000, Math.min(limits.keepalive, limits.idleTimeout) / 2);
}
