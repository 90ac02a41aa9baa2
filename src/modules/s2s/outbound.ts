/**
 * The outbound stream to one remote domain (RFC 6120 §4–§6 as the initiating server): connect
 * (a `<route>` pin, SRV, or the domain on 5269; XEP-0368 direct TLS), STARTTLS, then SASL
 * EXTERNAL (XEP-0178) or Server Dialback (XEP-0220) for each local domain that sends through it,
 * several of them on one connection (piggybacking, XEP-0220 §2.5). Packets wait in a queue per
 * local domain while that domain is not yet authenticated, and bounce when it fails.
 */
import type { Connection } from "../../adapters/types.ts";
import { Packet } from "../../tree/packet.ts";
import type { StanzaErrorCondition } from "../../util/errors.ts";
import { domainOf } from "../../util/jid.ts";
import { NS_DIALBACK, NS_DIALBACK_FEATURE, NS_SASL, NS_STREAM, NS_TLS } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import { bounceOf, LinkQueue } from "../../link/queue.ts";
import type { S2sContext, VerifyOutcome } from "./context.ts";
import { dialbackKey } from "./dialback.ts";
import { candidatesFor } from "./resolve.ts";
import { checkServerHeader, serverHeader, ServerStream } from "./stream.ts";

/** How many times a stream that closed with packets still waiting is opened again. */
const RECONNECTS = 2;

type Phase = "connecting" | "negotiating" | "ready" | "closed";

/** What an outbound stream asks of its component. */
export interface OutboundHooks {
  /** Delivers the bounce of a stanza that could not be sent. */
  bounce(packet: Packet): void;
  /** Sends stanzas this stream cannot take (their domain cannot join it) another way. */
  reroute(packets: Packet[]): void;
  /** Called once when the stream is closed for good. */
  gone(outbound: Outbound): void;
}

interface PendingVerify {
  receiving: string;
  streamId: string;
  key: string;
  sent: boolean;
  resolve(outcome: VerifyOutcome): void;
}

export class Outbound {
  readonly remote: string;
  readonly #ctx: S2sContext;
  readonly #hooks: OutboundHooks;
  #phase: Phase = "connecting";
  #stream: ServerStream | undefined;
  #streamId: string | undefined;
  /** The local domain named in the stream header. */
  #from: string;
  #queues = new Map<string, LinkQueue>();
  #authed = new Set<string>();
  #authing = new Set<string>();
  #verifies: PendingVerify[] = [];
  #reconnects = 0;
  #saslTried = false;
  #deadline: number | undefined;

  /** Whether the peer offered dialback on this stream: more local domains may join it. */
  #dialback = false;

  constructor(ctx: S2sContext, remote: string, from: string, hooks: OutboundHooks) {
    this.#ctx = ctx;
    this.remote = remote;
    this.#from = from;
    this.#hooks = hooks;
    this.#open();
  }

  /** True when stanzas from `local` go through this stream (or wait for it). */
  serves(local: string): boolean {
    return local === this.#from || this.#authed.has(local) || this.#queues.has(local);
  }

  /**
   * True when `local` may still join this stream: before its features are known, or when the
   * peer offers dialback (piggybacking, XEP-0220 §2.5). A peer that authenticates by SASL
   * EXTERNAL only gets a stream of its own per local domain.
   */
  canJoin(): boolean {
    return this.#phase !== "ready" || this.#dialback;
  }

  /** The local domains authenticated on this stream. */
  get authenticated(): string[] {
    return [...this.#authed];
  }

  get lastActivity(): number {
    return this.#stream?.lastActivity ?? this.#ctx.timer.now();
  }

  get idle(): boolean {
    return this.#verifies.length === 0 && [...this.#queues.values()].every((q) => q.size === 0);
  }

  /** Sends a stanza from one of our domains, or queues it until that domain is authenticated. */
  send(packet: Packet): void {
    const local = domainOf(packet.from ?? "");
    if (this.#phase === "ready" && this.#authed.has(local) && this.#stream) {
      this.#stream.write(packet.element);
      return;
    }
    if (this.#phase === "ready" && local !== this.#from && !this.#dialback) {
      return this.#hooks.reroute([packet]);
    }
    this.#queueOf(local).push(packet);
    if (this.#phase === "ready") this.#authenticate(local);
  }

  /** Sends `<db:verify>` for the remote's stream to our `receiving` domain (XEP-0220 §2.1.2). */
  verify(receiving: string, streamId: string, key: string): Promise<VerifyOutcome> {
    return new Promise((resolve) => {
      const pending = { receiving, streamId, key, sent: false, resolve };
      this.#verifies.push(pending);
      this.#refreshDeadline();
      if (this.#phase === "ready") this.#sendVerify(pending);
    });
  }

  /** Closes the stream; what still waits bounces with `condition`. */
  close(condition: StanzaErrorCondition = "remote-server-not-found", reason = "closed"): void {
    if (this.#phase === "closed") return;
    this.#fail(condition, reason);
  }

  /** Checks the deadlines: negotiation taking too long, or an idle stream to close. */
  tick(now: number): void {
    if (this.#phase === "closed") return;
    if (this.#deadline !== undefined && now >= this.#deadline && this.#pendingAuth()) {
      this.#fail("remote-server-timeout", "authentication took too long");
    } else if (
      this.#phase === "ready" && this.idle &&
      now - this.lastActivity >= this.#ctx.config.idleTimeout
    ) {
      this.#ctx.log.info(`s2s: closing the idle stream to ${this.remote}`, this.remote);
      this.#fail("remote-server-not-found", "idle");
    }
  }

  /** New authentication work gets its own time: connecting, a dialback key, a verification. */
  #refreshDeadline(): void {
    this.#deadline = this.#ctx.timer.now() + 3 * this.#ctx.config.connectTimeout;
  }

  #pendingAuth(): boolean {
    return this.#phase !== "ready" || this.#authing.size > 0 || this.#verifies.length > 0;
  }

  #queueOf(local: string): LinkQueue {
    let queue = this.#queues.get(local);
    if (!queue) {
      queue = new LinkQueue({
        max: this.#ctx.config.queue.max,
        ageMs: this.#ctx.config.queue.age,
        clock: this.#ctx.timer,
        onDrop: (packet, condition) => {
          const bounce = bounceOf(packet, condition);
          if (bounce) this.#hooks.bounce(bounce);
        },
      });
      this.#queues.set(local, queue);
    }
    return queue;
  }

  #open(): void {
    this.#phase = "connecting";
    this.#refreshDeadline();
    this.#connect().then((conn) => {
      if (!conn) return;
      if (this.#phase === "closed") return conn.close();
      this.#start(conn);
    }).catch((error) => {
      this.#ctx.log.error(`s2s: connecting to ${this.remote} failed: ${error}`, this.remote);
      this.#fail("remote-server-not-found", String(error));
    });
  }

  /** Tries each candidate address in order; undefined (after failing) when none answers. */
  async #connect(): Promise<Connection | undefined> {
    const { config, dns, net, log } = this.#ctx;
    const candidates = await candidatesFor(this.remote, dns, config.routes.get(this.remote));
    let timedOut = false;
    const failures: string[] = [];
    for (const candidate of candidates) {
      const addresses = await dns.resolveAddresses(candidate.host).catch(() => []);
      if (addresses.length === 0) failures.push(`${candidate.host} has no address`);
      for (const address of addresses) {
        if (this.#phase === "closed") return undefined;
        try {
          const conn = await net.connect({
            hostname: address,
            port: candidate.port,
            timeoutMs: config.connectTimeout,
            tls: candidate.tls === "direct" ? this.#clientTls() : undefined,
          });
          log.info(
            `s2s: connected to ${this.remote} at ${address}:${candidate.port}` +
              (candidate.tls === "direct" ? " (direct TLS)" : ""),
            this.remote,
          );
          return conn;
        } catch (error) {
          if (/timed? ?out/i.test(String(error))) timedOut = true;
          failures.push(`${address}:${candidate.port}: ${error}`);
        }
      }
    }
    const reason = failures.join("; ") || "no address";
    log.notice(`s2s: cannot reach ${this.remote}: ${reason}`, this.remote);
    this.#fail(timedOut ? "remote-server-timeout" : "remote-server-not-found", reason);
    return undefined;
  }

  #clientTls() {
    return {
      serverName: this.remote,
      certificate: this.#ctx.clientCertificate(this.#from),
      verify: false,
      alpnProtocols: ["xmpp-server"],
    };
  }

  #start(conn: Connection): void {
    this.#phase = "negotiating";
    this.#stream = new ServerStream(conn, {
      onHeader: (header) => this.#onHeader(header),
      onElement: (element) => this.#onElement(element),
      onClose: (reason) => this.#closed(reason),
    }, {
      timer: this.#ctx.timer,
      maxStanzaBytes: this.#ctx.config.limits.stanzaSize,
      fault: (text) => this.#ctx.log.error(text, this.remote),
    });
    if (conn.secure) {
      this.#checkCertificate(conn).then((ok) => {
        if (ok) this.#stream?.write(serverHeader({ from: this.#from, to: this.remote }));
      });
    } else {
      this.#stream.write(serverHeader({ from: this.#from, to: this.remote }));
    }
  }

  /** The remote's certificate must name it, unless `<insecure-domain>` lists it. */
  async #checkCertificate(conn: Connection): Promise<boolean> {
    const problem = await this.#ctx.trust.check(conn.tls?.peerCertificate, this.remote);
    if (problem === undefined) return true;
    if (this.#ctx.config.insecureDomains.has(this.remote)) {
      this.#ctx.log.notice(
        `s2s: the certificate of ${this.remote} is not valid (${problem}); going on with dialback` +
          " only, as <insecure-domain> allows",
        this.remote,
      );
      return true;
    }
    this.#ctx.log.warn(
      `s2s: refusing ${this.remote}: ${problem} (list it in <insecure-domain> to accept it` +
        " with dialback, or its CA in <ca>)",
      this.remote,
    );
    this.#fail("remote-server-not-found", `certificate: ${problem}`);
    return false;
  }

  #onHeader(header: Element): void {
    checkServerHeader(header);
    this.#streamId = header.attrs.id;
    if (!this.#streamId) {
      this.#stream?.streamError("invalid-xml", "The stream header has no id");
    }
  }

  async #onElement(element: Element): Promise<void> {
    const stream = this.#stream!;
    if (element.is("features", NS_STREAM)) return this.#onFeatures(element);
    if (element.is("proceed", NS_TLS)) {
      stream.conn.pause();
      await stream.conn.startTlsClient(this.#clientTls());
      stream.restart();
      stream.conn.resume();
      if (await this.#checkCertificate(stream.conn)) {
        stream.write(serverHeader({ from: this.#from, to: this.remote }));
      }
      return;
    }
    if (element.is("success", NS_SASL)) {
      this.#ctx.log.info(
        `s2s: ${this.#from} authenticated to ${this.remote} by SASL EXTERNAL`,
        this.remote,
      );
      this.#authing.delete(this.#from);
      this.#authed.add(this.#from);
      stream.restart();
      stream.write(serverHeader({ from: this.#from, to: this.remote }));
      return;
    }
    if (element.is("failure", NS_SASL)) {
      this.#authing.delete(this.#from);
      this.#ctx.log.notice(`s2s: ${this.remote} refused SASL EXTERNAL; trying dialback`);
      this.#phase = "ready";
      this.#authenticate(this.#from);
      return;
    }
    if (element.is("result", NS_DIALBACK)) return this.#onResult(element);
    if (element.is("verify", NS_DIALBACK)) return this.#onVerify(element);
    if (element.is("error", NS_STREAM)) {
      this.#ctx.log.notice(`s2s: ${this.remote} sent a stream error: ${element}`, this.remote);
      return;
    }
    // An outbound stream carries stanzas one way only (RFC 6120 §4.1).
    this.#ctx.log.debug(`s2s: ignored <${element.name}> on the stream to ${this.remote}`);
  }

  #onFeatures(features: Element): void {
    const stream = this.#stream!;
    if (!stream.conn.secure) {
      if (features.getChild("starttls", NS_TLS)) {
        stream.write(xml("starttls", { xmlns: NS_TLS }));
        return;
      }
      if (this.#ctx.config.requireTls) {
        return this.#fail("remote-server-not-found", "it offers no STARTTLS (<require-tls>)");
      }
    }
    const mechanisms = features.getChild("mechanisms", NS_SASL)?.getChildren("mechanism")
      .map((m) => m.text().trim()) ?? [];
    if (
      !this.#saslTried && !this.#authed.has(this.#from) && stream.conn.secure &&
      mechanisms.includes("EXTERNAL")
    ) {
      this.#saslTried = true;
      this.#authing.add(this.#from);
      stream.write(xml("auth", { xmlns: NS_SASL, mechanism: "EXTERNAL" }, btoa(this.#from)));
      return;
    }
    this.#phase = "ready";
    this.#dialback = features.getChild("dialback", NS_DIALBACK_FEATURE) !== undefined;
    for (const pending of this.#verifies) this.#sendVerify(pending);
    for (const [local, queue] of this.#queues) {
      if (this.#authed.has(local)) this.#flush(local);
      else if (local !== this.#from && !this.#dialback) {
        // No piggybacking here: that domain gets a stream of its own.
        this.#queues.delete(local);
        this.#hooks.reroute(queue.take());
      } else if (queue.size > 0) this.#authenticate(local);
    }
  }

  /** Sends `<db:result>` for a local domain (XEP-0220 §2.1.1), once. */
  #authenticate(local: string): void {
    if (this.#authed.has(local) || this.#authing.has(local) || !this.#streamId) return;
    this.#authing.add(local);
    this.#refreshDeadline();
    const streamId = this.#streamId;
    dialbackKey(this.#ctx.secret, this.remote, local, streamId).then((key) => {
      this.#stream?.write(xml("db:result", { from: local, to: this.remote }, key));
    });
  }

  #sendVerify(pending: PendingVerify): void {
    if (pending.sent) return;
    pending.sent = true;
    this.#stream?.write(
      xml(
        "db:verify",
        { from: pending.receiving, to: this.remote, id: pending.streamId },
        pending.key,
      ),
    );
  }

  #onResult(result: Element): void {
    const local = result.attrs.to ?? "";
    if (!this.#authing.has(local) || result.attrs.from !== this.remote) return;
    this.#authing.delete(local);
    if (result.attrs.type === "valid") {
      this.#authed.add(local);
      this.#ctx.log.info(`s2s: ${local} authenticated to ${this.remote} by dialback`, this.remote);
      this.#flush(local);
    } else {
      this.#ctx.log.notice(
        `s2s: ${this.remote} refused dialback for ${local}: ${result.toString()}`,
        this.remote,
      );
      this.#queues.get(local)?.dropAll("remote-server-not-found");
    }
  }

  #onVerify(verify: Element): void {
    const index = this.#verifies.findIndex((pending) =>
      pending.sent && pending.streamId === verify.attrs.id &&
      pending.receiving === verify.attrs.to && this.remote === verify.attrs.from
    );
    if (index < 0) return;
    const [pending] = this.#verifies.splice(index, 1);
    pending.resolve(verify.attrs.type === "valid" ? "valid" : "invalid");
  }

  #flush(local: string): void {
    // A stream that got this far counts as working again: later drops may reconnect anew.
    this.#reconnects = 0;
    const queue = this.#queues.get(local);
    if (!queue || !this.#stream) return;
    for (const packet of queue.take()) this.#stream.write(packet.element);
  }

  #closed(reason: string): void {
    if (this.#phase === "closed") return;
    const waiting = [...this.#queues.values()].some((queue) => queue.size > 0);
    if (waiting && this.#reconnects < RECONNECTS) {
      // The peer went away with stanzas still waiting: open a new stream for them.
      this.#reconnects++;
      this.#ctx.log.notice(`s2s: the stream to ${this.remote} closed (${reason}); reconnecting`);
      this.#reset();
      this.#open();
      return;
    }
    this.#fail("remote-server-not-found", reason);
  }

  #reset(): void {
    this.#stream = undefined;
    this.#streamId = undefined;
    this.#authed.clear();
    this.#authing.clear();
    this.#saslTried = false;
    this.#dialback = false;
    for (const pending of this.#verifies) pending.sent = false;
  }

  #fail(condition: StanzaErrorCondition, reason: string): void {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.#ctx.log.info(`s2s: the stream to ${this.remote} ended: ${reason}`, this.remote);
    this.#stream?.close(reason);
    for (const queue of this.#queues.values()) queue.dropAll(condition);
    const outcome: VerifyOutcome = condition === "remote-server-timeout"
      ? "remote-server-timeout"
      : "remote-server-not-found";
    for (const pending of this.#verifies.splice(0)) pending.resolve(outcome);
    this.#hooks.gone(this);
  }
}
