/**
 * `<connect>`: dials a component listener and runs the XEP-0114 handshake from the component's
 * side (our own `<accept>`, or another server's component port such as Prosody's), or, with
 * `link="node"`, another jabberd node's `<accept link="node">`. It reconnects forever with
 * exponential backoff and jitter, and never takes the server down; packets for the section wait
 * in a bounded queue while the link is down and bounce when they expire. When the listener offers
 * acknowledgements (our own `<accept>`, R48) the link counts them. Config and decisions:
 * ROUTING.md "Links to other processes".
 */
import type { ClientTlsOptions, Connection } from "../../adapters/types.ts";
import type { ModuleApi, ModuleDefinition } from "../../server/module_api.ts";
import { StreamError } from "../../util/errors.ts";
import { NS_COMPONENT_ACCEPT } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import {
  ackHandshake,
  advertisesAcks,
  readAck,
  readHandshakeAcks,
  Receiver,
} from "../../link/acks.ts";
import { checkComponentStanza } from "../../link/component_rules.ts";
import { handshakeDigest } from "../../link/handshake.ts";
import type { Outbox } from "../../link/outbox.ts";
import { StreamLink } from "../../link/stream_link.ts";
import { decodePacket, linkHeaderAttrs, NS_NODE_LINK } from "../../link/wire.ts";
import { type LinkConfig, linkConfigOf, readLinkConfig, sectionOutbox } from "./link_config.ts";

export const connect: ModuleDefinition = {
  element: "connect",
  sections: ["service", "xdb", "log"],
  validate(element, context) {
    readLinkConfig(element, "connect", (at, message) => context.problem(at, message));
  },
  async register(api) {
    const config = linkConfigOf(api, "connect");
    const caCerts = config.tls?.ca
      ? [await api.adapters.files.readTextFile(api.resolvePath(config.tls.ca))]
      : undefined;
    const tls = config.tls
      ? { serverName: config.tls.name ?? config.ip, ...(caCerts ? { caCerts } : {}) }
      : undefined;
    const dialer = new Dialer(api, config, tls);
    api.onUnload(() => dialer.stop());
    dialer.dial();
  },
};

/** The delay before reconnect attempt `attempt` (0-based): "equal jitter" exponential backoff. */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 40));
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}

/** One outgoing link, dialled again whenever it ends. */
class Dialer {
  readonly #api: ModuleApi;
  readonly #config: LinkConfig;
  readonly #tls: ClientTlsOptions | undefined;
  readonly #node: boolean;
  readonly #name: string;
  readonly #outbox: Outbox;
  #attempt = 0;
  #retry: number | undefined;
  #current: StreamLink | undefined;
  /** What we took from the listener's streams (R48): outlives each stream, not the process. */
  readonly #receiver = new Receiver();
  #stopped = false;

  constructor(api: ModuleApi, config: LinkConfig, tls: ClientTlsOptions | undefined) {
    this.#api = api;
    this.#config = config;
    this.#tls = tls;
    this.#node = config.mode === "node";
    this.#name = config.name ?? api.id;
    this.#outbox = sectionOutbox(api, config, "connect");
  }

  get #target(): string {
    return `${this.#config.ip}:${this.#config.port}`;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#retry !== undefined) this.#api.timer.clearTimeout(this.#retry);
    this.#current?.close("The server is stopping");
    this.#outbox.close("service-unavailable");
  }

  dial(): void {
    this.#retry = undefined;
    if (this.#stopped) return;
    this.#api.adapters.net.connect({
      hostname: this.#config.ip,
      port: this.#config.port,
      tls: this.#tls,
      timeoutMs: this.#config.timeoutMs,
    }).then((conn) => {
      if (this.#stopped) return conn.close();
      this.#run(conn);
    }, (error: unknown) => {
      if (this.#stopped) return;
      const delay = this.#schedule();
      this.#api.log.warn(
        `connect: cannot reach ${this.#target}: ${(error as Error)?.message ?? error}; ` +
          `trying again in ${delay} ms`,
      );
    });
  }

  /** Schedules the next attempt; returns its delay. */
  #schedule(): number {
    if (this.#stopped || this.#retry !== undefined) return 0;
    const delay = backoffDelay(this.#attempt++, this.#config.retryMinMs, this.#config.retryMaxMs);
    this.#retry = this.#api.timer.setTimeout(() => this.dial(), delay);
    return delay;
  }

  #run(conn: Connection): void {
    const api = this.#api;
    const ns = this.#node ? NS_NODE_LINK : NS_COMPONENT_ACCEPT;
    let live = false;
    let streamId = "";
    /** The listener advertised acknowledgements (R48); a third-party one never does. */
    let offered = false;
    let acks = false;
    const link: StreamLink = new StreamLink(conn, {
      onHeader: (header) => {
        if ((header.attrs.xmlns ?? "") !== ns) {
          throw new StreamError("invalid-namespace", `This side speaks ${ns}`);
        }
        const id = header.attrs.id;
        if (!id) throw new StreamError("invalid-xml", "The listener sent no stream id");
        streamId = id;
        offered = advertisesAcks(header);
        const digest = handshakeDigest(id, this.#config.secret);
        link.send(
          offered ? ackHandshake(this.#receiver.previous, digest) : xml("handshake", {}, digest),
        );
      },
      onElement: (element) => {
        if (live) {
          if (acks) {
            const h = ackCount(element);
            if (h !== undefined) return acknowledged(h);
          }
          if (!this.#node) checkComponentStanza(element);
          api.deliver(decodePacket(element, this.#node));
          if (acks) this.#receiver.took(streamId);
          return;
        }
        if (!element.is("handshake")) {
          throw new StreamError("not-authorized", "Expected the <handshake/> reply first");
        }
        live = true;
        this.#attempt = 0;
        api.timer.clearTimeout(timer);
        this.#current = link;
        const peerAcks = offered ? readHandshakeAcks(element) : undefined;
        acks = peerAcks !== undefined;
        if (peerAcks) this.#receiver.begin(streamId, (data) => link.send(data));
        api.log.notice(
          `connect: linked to ${this.#target} as ${this.#name}${acks ? " (acknowledged)" : ""}`,
        );
        this.#outbox.attach(
          link,
          "",
          peerAcks ? { id: streamId, previous: peerAcks.previous } : undefined,
        );
      },
      onEnd: (end) => {
        api.timer.clearTimeout(timer);
        this.#outbox.detach(link);
        if (this.#current === link) this.#current = undefined;
        if (this.#stopped) return;
        const delay = this.#schedule();
        api.log.warn(
          `connect: link to ${this.#target} ended: ${end.reason}; trying again in ${delay} ms`,
        );
      },
    });
    const ackCount = (element: Element): number | undefined => {
      try {
        return readAck(element);
      } catch (error) {
        throw new StreamError("invalid-xml", (error as Error).message);
      }
    };
    const acknowledged = (h: number): void => {
      try {
        this.#outbox.acknowledged(link, h);
      } catch (error) {
        throw new StreamError("undefined-condition", (error as Error).message);
      }
    };
    const timer = api.timer.setTimeout(() => {
      if (!live) link.fail("connection-timeout", "The handshake took too long");
    }, this.#config.timeoutMs);
    link.open({
      xmlns: ns,
      to: this.#name,
      ...(this.#node ? { ...linkHeaderAttrs(), from: this.#name } : {}),
    });
  }
}
