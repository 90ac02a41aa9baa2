/**
 * One inbound server stream (RFC 6120 §4–§6 as the receiving server): STARTTLS (required unless
 * `<require-tls>false</require-tls>`), SASL EXTERNAL when the peer's certificate is valid for the
 * domain it claims (XEP-0178), Server Dialback otherwise (XEP-0220 §2.2, §2.4 with errors),
 * several domain pairs on one stream (piggybacking), answers to `<db:verify>` for our own keys,
 * and the stanzas of authenticated pairs handed to the tree. A stanza from a pair not
 * authenticated ends the stream with `invalid-from` (RFC 6120 §4.9.3.9).
 */
import type { Connection } from "../../adapters/types.ts";
import { StreamError } from "../../util/errors.ts";
import { domainOf, normalizeDomain } from "../../util/jid.ts";
import {
  NS_DIALBACK,
  NS_DIALBACK_FEATURE,
  NS_SASL,
  NS_SERVER,
  NS_STANZAS_ERRORS,
  NS_STREAM,
  NS_TLS,
} from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import type { S2sContext } from "./context.ts";
import { dialbackKey, sameKey } from "./dialback.ts";
import { checkServerHeader, newStreamId, serverHeader, ServerStream } from "./stream.ts";

const STANZAS = new Set(["message", "presence", "iq"]);

/** A domain as a stream header or dialback element names it, normalized; "" when not valid. */
function domainAttr(value: string | undefined): string {
  try {
    return value ? normalizeDomain(value) : "";
  } catch {
    return "";
  }
}

export class Inbound {
  readonly id: string;
  readonly #ctx: S2sContext;
  readonly #stream: ServerStream;
  readonly #gone: (inbound: Inbound) => void;
  /** A new id for every header we send, restarts included (RFC 6120 §4.7.3). */
  #streamId = "";
  /** Authenticated `remote|local` pairs: stanzas may flow from `remote` to `local`. */
  readonly #pairs = new Set<string>();
  /** Remote domains counted against `connections-per-domain`. */
  readonly #counted = new Set<string>();
  /** The domains named in the peer's header. */
  #from: string | undefined;
  #to: string | undefined;
  #sasl = false;
  /** Whether the peer's certificate is valid for `#from`, once TLS is up. */
  #certificateValid: Promise<boolean> | undefined;

  constructor(id: string, conn: Connection, ctx: S2sContext, gone: (inbound: Inbound) => void) {
    this.id = id;
    this.#ctx = ctx;
    this.#gone = gone;
    this.#stream = new ServerStream(conn, {
      onHeader: (header) => this.#onHeader(header),
      onElement: (element) => this.#onElement(element),
      onClose: (reason) => this.#closed(reason),
    }, {
      timer: ctx.timer,
      maxStanzaBytes: ctx.config.limits.stanzaSize,
      karma: { rate: ctx.config.limits.rate, burst: ctx.config.limits.burst },
      fault: (text) => ctx.log.error(text),
    });
  }

  /** The remote domains authenticated on this stream. */
  get remotes(): string[] {
    return [...new Set([...this.#pairs].map((pair) => pair.split("|")[0]))];
  }

  get lastActivity(): number {
    return this.#stream.lastActivity;
  }

  close(condition: "system-shutdown" | "connection-timeout" = "system-shutdown"): void {
    this.#stream.streamError(condition);
  }

  async #onHeader(header: Element): Promise<void> {
    const to = domainAttr(header.attrs.to);
    // Our header goes out first, so that a stream error can follow it (RFC 6120 §4.9.1.1).
    this.#streamId = newStreamId();
    this.#stream.write(serverHeader({ from: to, to: header.attrs.from, id: this.#streamId }));
    checkServerHeader(header);
    if (!to || !this.#ctx.isLocal(to)) {
      throw new StreamError("host-unknown", "This server does not serve that domain");
    }
    this.#from = domainAttr(header.attrs.from) || undefined;
    this.#to = to;
    this.#stream.write(await this.#features());
  }

  async #features(): Promise<Element> {
    const features = xml("stream:features");
    const conn = this.#stream.conn;
    if (!conn.secure) {
      const starttls = features.c("starttls", { xmlns: NS_TLS });
      if (this.#ctx.config.requireTls) starttls.c("required");
      else features.c("dialback", { xmlns: NS_DIALBACK_FEATURE }).c("errors");
      return features;
    }
    if (!this.#sasl && this.#from && await this.#certificateValidFor(this.#from)) {
      features.c("mechanisms", { xmlns: NS_SASL }).c("mechanism").t("EXTERNAL");
    }
    features.c("dialback", { xmlns: NS_DIALBACK_FEATURE }).c("errors");
    return features;
  }

  #certificateValidFor(domain: string): Promise<boolean> {
    if (domain !== this.#from || !this.#certificateValid) {
      const check = this.#ctx.trust.check(this.#stream.conn.tls?.peerCertificate, domain)
        .then((problem) => {
          if (problem) {
            this.#ctx.log.info(`s2s: no SASL EXTERNAL for ${domain}: ${problem}`, domain);
          }
          return problem === undefined;
        });
      if (domain !== this.#from) return check;
      this.#certificateValid = check;
    }
    return this.#certificateValid;
  }

  async #onElement(element: Element): Promise<void> {
    if (element.is("starttls", NS_TLS)) return await this.#onStartTls();
    if (element.is("auth", NS_SASL)) return await this.#onAuth(element);
    if (element.is("result", NS_DIALBACK)) return this.#onResult(element);
    if (element.is("verify", NS_DIALBACK)) return await this.#onVerify(element);
    if (element.is("error", NS_STREAM)) {
      this.#ctx.log.notice(`s2s: ${this.#from} sent a stream error: ${element}`, this.#from);
      return;
    }
    if (STANZAS.has(element.name) && element.ns === NS_SERVER) return this.#onStanza(element);
    throw new StreamError("unsupported-stanza-type", `<${element.name}> is not a server stanza`);
  }

  async #onStartTls(): Promise<void> {
    const conn = this.#stream.conn;
    if (conn.secure) throw new StreamError("policy-violation", "TLS is already on");
    this.#stream.write(xml("proceed", { xmlns: NS_TLS }));
    conn.pause();
    await conn.startTlsServer(this.#ctx.serverTls());
    this.#stream.restart();
    conn.resume();
  }

  async #onAuth(auth: Element): Promise<void> {
    const conn = this.#stream.conn;
    const requested = auth.text().trim();
    let authzid = this.#from;
    if (requested !== "" && requested !== "=") {
      try {
        authzid = domainAttr(atob(requested)) || undefined;
      } catch {
        authzid = undefined; // not base64
      }
    }
    const ok = conn.secure && !this.#sasl && auth.attrs.mechanism === "EXTERNAL" &&
      authzid !== undefined && this.#to !== undefined && await this.#certificateValidFor(authzid) &&
      this.#admit(authzid);
    if (!ok) {
      this.#stream.write(xml("failure", { xmlns: NS_SASL }, xml("not-authorized")));
      return;
    }
    this.#sasl = true;
    this.#pairs.add(`${authzid}|${this.#to}`);
    this.#ctx.log.info(`s2s: ${authzid} authenticated by SASL EXTERNAL`, authzid);
    this.#stream.write(xml("success", { xmlns: NS_SASL }));
    this.#stream.restart();
  }

  /** Counts a newly authenticated remote domain; false (and said so) when over the limit. */
  #admit(remote: string): boolean {
    if (this.#counted.has(remote)) return true;
    if (!this.#ctx.acquireInbound(remote)) {
      this.#ctx.log.notice(
        `s2s: refused another stream from ${remote} (limit <limits connections-per-domain>)`,
        remote,
      );
      return false;
    }
    this.#counted.add(remote);
    return true;
  }

  /** `<db:result>` with a key: verify it with the originating domain's server (XEP-0220 §2.2). */
  #onResult(result: Element): void {
    const originating = domainAttr(result.attrs.from);
    const receiving = domainAttr(result.attrs.to);
    const key = result.text().trim();
    const answer = (type: string, condition?: string) => {
      const reply = xml("db:result", { from: receiving, to: originating, type });
      if (condition) {
        reply.c("error", { type: "cancel" }).c(condition, { xmlns: NS_STANZAS_ERRORS });
      }
      this.#stream.write(reply);
    };
    if (this.#ctx.config.requireTls && !this.#stream.conn.secure) {
      throw new StreamError("policy-violation", "Dialback needs TLS first on this server");
    }
    if (!originating || !key) {
      throw new StreamError("invalid-xml", "A dialback request needs from and a key");
    }
    if (!receiving || !this.#ctx.isLocal(receiving)) return answer("error", "item-not-found");
    if (!this.#admit(originating)) return answer("error", "policy-violation");
    // Not awaited: the peer may go on with this stream meanwhile (a <db:verify> of its own,
    // another domain's key), and nothing it sends for this pair is accepted before the answer.
    this.#ctx.verify(receiving, originating, this.#streamId, key).then((outcome) => {
      if (outcome === "valid") {
        this.#pairs.add(`${originating}|${receiving}`);
        this.#ctx.log.info(`s2s: ${originating} authenticated by dialback`, originating);
        answer("valid");
      } else if (outcome === "invalid") {
        this.#ctx.log.notice(`s2s: dialback key of ${originating} is not valid`, originating);
        answer("invalid");
      } else {
        answer("error", outcome);
      }
    });
  }

  /** `<db:verify>`: is this the key we made? Only we can tell (XEP-0220 §2.1.2, §2.4). */
  async #onVerify(verify: Element): Promise<void> {
    const receiving = verify.attrs.from ?? "";
    const originating = verify.attrs.to ?? "";
    const streamId = verify.attrs.id ?? "";
    const reply = xml("db:verify", { from: originating, to: receiving, id: streamId });
    if (!this.#ctx.isLocal(originating)) {
      reply.attrs.type = "error";
      reply.c("error", { type: "cancel" }).c("item-not-found", { xmlns: NS_STANZAS_ERRORS });
    } else {
      const expected = await dialbackKey(this.#ctx.secret, receiving, originating, streamId);
      reply.attrs.type = sameKey(expected, verify.text().trim()) ? "valid" : "invalid";
    }
    this.#stream.write(reply);
  }

  #onStanza(stanza: Element): void {
    const from = stanza.attrs.from;
    const to = stanza.attrs.to;
    if (!from || !to) {
      throw new StreamError("improper-addressing", "A server stanza needs from and to");
    }
    if (!this.#pairs.has(`${domainOf(from)}|${domainOf(to)}`)) {
      throw new StreamError(
        "invalid-from",
        `${domainOf(from)} is not authenticated to send to ${domainOf(to)} on this stream`,
      );
    }
    this.#ctx.deliver(stanza);
  }

  #closed(reason: string): void {
    for (const remote of this.#counted) this.#ctx.releaseInbound(remote);
    this.#counted.clear();
    this.#ctx.log.debug(`s2s: inbound stream ${this.id} from ${this.#from} ended: ${reason}`);
    this.#gone(this);
  }
}
