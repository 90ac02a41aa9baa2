/**
 * `<accept>`: listens for external components (XEP-0114 "Jabber Component Protocol", stream
 * `jabber:component:accept`) or, with `link="node"`, for another jabberd node (jabberd 1.4's
 * "listen for remote services"). Config and decisions: ROUTING.md "Links to other processes".
 *
 * A component proves the shared secret with the handshake (hex SHA-1 of stream id + secret,
 * checked in constant time); before that nothing it sends is read. It may send only message,
 * presence and iq, `from` an address of its section's hosts (the section id, `<host>` patterns);
 * a stanza from elsewhere comes back to it as a `forbidden` error, one without `from` is stamped
 * with the component's name. Packets for the section while no component is connected wait in a
 * bounded queue and bounce when they expire. One live connection per section (per peer name on a
 * node link): a newer one replaces it (`<conflict>replace</conflict>`, the default; Prosody does
 * the same) or is refused (`refuse`). Every stream header offers acknowledgements (R48); a peer
 * that is jabberd opts in with its handshake, and then nothing written to it is lost when it dies.
 */
import type { Connection, ServerTlsOptions } from "../../adapters/types.ts";
import type { ModuleApi, ModuleDefinition } from "../../server/module_api.ts";
import { errorReply, StanzaError, StreamError } from "../../util/errors.ts";
import { NS_COMPONENT_ACCEPT } from "../../util/ns.ts";
import { Packet } from "../../tree/packet.ts";
import { Element } from "../../xml/element.ts";
import {
  advertiseAcksAttrs,
  handshakeAckAttrs,
  readAck,
  readHandshakeAcks,
  Receiver,
} from "../../link/acks.ts";
import { addressAllowed, checkComponentStanza } from "../../link/component_rules.ts";
import { handshakeMatches, newStreamId } from "../../link/handshake.ts";
import type { Outbox } from "../../link/outbox.ts";
import { StreamLink } from "../../link/stream_link.ts";
import { decodePacket, linkHeaderAttrs, NS_NODE_LINK } from "../../link/wire.ts";
import { type LinkConfig, linkConfigOf, readLinkConfig, sectionOutbox } from "./link_config.ts";

export const accept: ModuleDefinition = {
  element: "accept",
  sections: ["service", "xdb", "log"],
  validate(element, context) {
    readLinkConfig(element, "accept", (at, message) => context.problem(at, message));
  },
  async register(api) {
    const config = linkConfigOf(api, "accept");
    const tls = config.tls ? await loadTls(api, config) : undefined;
    const listener = new AcceptListener(api, config);
    const bound = await api.adapters.net.listen(
      { hostname: config.ip, port: config.port, tls },
      (conn) => listener.connection(conn),
    );
    api.publishAddress({ name: "accept", ...bound.address });
    api.log.info(
      `accept: listening on ${bound.address.hostname}:${bound.address.port}` +
        ` (${config.mode === "node" ? "node link" : "components"}${tls ? ", direct TLS" : ""})`,
    );
    api.onUnload(async () => {
      await bound.close();
      listener.stop();
    });
  },
};

async function loadTls(api: ModuleApi, config: LinkConfig): Promise<ServerTlsOptions> {
  const read = (path: string) => api.adapters.files.readTextFile(api.resolvePath(path));
  return { default: { cert: await read(config.tls!.cert!), key: await read(config.tls!.key!) } };
}

/** The connections of one `<accept>`, and its outbox. */
class AcceptListener {
  readonly #api: ModuleApi;
  readonly #config: LinkConfig;
  readonly #node: boolean;
  readonly #outbox: Outbox;
  /** The live (handshaken) stream per peer name ("" for components: one per section). */
  readonly #live = new Map<string, StreamLink>();
  readonly #all = new Set<StreamLink>();
  /** Per peer name, what we took from its streams (R48): outlives the streams, not the process. */
  readonly #receivers = new Map<string, Receiver>();
  #stopped = false;

  constructor(api: ModuleApi, config: LinkConfig) {
    this.#api = api;
    this.#config = config;
    this.#node = config.mode === "node";
    this.#outbox = sectionOutbox(api, config, "accept");
  }

  stop(): void {
    this.#stopped = true;
    for (const link of this.#all) link.fail("system-shutdown", "The server is stopping");
    this.#outbox.close("service-unavailable");
  }

  connection(conn: Connection): void {
    const api = this.#api;
    const config = this.#config;
    if (this.#stopped) return conn.close();
    const streamId = newStreamId();
    const remote = `${conn.remote.hostname}:${conn.remote.port}`;
    const ns = this.#node ? NS_NODE_LINK : NS_COMPONENT_ACCEPT;
    let state: "header" | "handshake" | "live" = "header";
    let name = "";
    let key = "";
    /** The receiver of this stream when it counts acknowledgements (R48). */
    let receiver: Receiver | undefined;
    const link: StreamLink = new StreamLink(conn, {
      onHeader: (header) => {
        name = (header.attrs.to ?? "").toLowerCase();
        link.open({
          xmlns: ns,
          ...(this.#node ? linkHeaderAttrs() : {}),
          // Offered to every peer; a third-party component ignores it (R48).
          ...advertiseAcksAttrs(),
          id: streamId,
          ...(name ? { from: name } : {}),
        });
        if ((header.attrs.xmlns ?? "") !== ns) {
          throw new StreamError("invalid-namespace", `This port speaks ${ns}`);
        }
        if (this.#node) key = header.attrs.from ?? "";
        else if (!name || !addressAllowed(name, this.#patterns())) {
          throw new StreamError("host-unknown", `This component port does not serve "${name}"`);
        }
        state = "handshake";
      },
      onElement: (element) => {
        if (state === "live") {
          if (receiver) {
            const h = this.#ackOf(element);
            if (h !== undefined) return this.#acknowledged(link, h);
          }
          this.#inbound(element, name);
          receiver?.took(streamId);
          return;
        }
        // Nothing but the handshake is read before the secret is proven (XEP-0114 §3).
        if (!element.is("handshake")) {
          throw new StreamError("not-authorized", "Send the <handshake/> first (XEP-0114 §3)");
        }
        if (!handshakeMatches(element.text(), streamId, config.secret)) {
          api.log.warn(`accept: ${name || key || "a peer"} from ${remote} sent a wrong secret`);
          throw new StreamError("not-authorized", "The handshake does not match the secret");
        }
        const existing = this.#live.get(key);
        if (existing && !existing.ended) {
          if (config.conflict === "refuse") {
            throw new StreamError("conflict", "Another connection is live for this component");
          }
          existing.fail("conflict", "Replaced by a newer connection");
        }
        api.timer.clearTimeout(timer);
        state = "live";
        this.#live.set(key, link);
        const peerAcks = readHandshakeAcks(element);
        if (peerAcks) {
          receiver = this.#receivers.get(key) ?? new Receiver();
          this.#receivers.set(key, receiver);
          // Our receipt for the peer's last stream goes out before we start counting this one.
          link.send(new Element("handshake", handshakeAckAttrs(receiver.previous)));
          receiver.begin(streamId, (data) => link.send(data));
        } else link.send("<handshake/>");
        api.log.notice(
          `accept: ${name || key || "a node"} connected from ${remote}` +
            (peerAcks ? " (acknowledged)" : ""),
        );
        this.#outbox.attach(
          link,
          key,
          peerAcks ? { id: streamId, previous: peerAcks.previous } : undefined,
        );
      },
      onEnd: (end) => {
        api.timer.clearTimeout(timer);
        this.#all.delete(link);
        this.#outbox.detach(link);
        if (this.#live.get(key) === link) this.#live.delete(key);
        if (this.#stopped) return;
        const who = name || key || "a peer";
        const line = `accept: ${who} from ${remote} disconnected: ${end.reason}`;
        if (state === "live") api.log.notice(line);
        else api.log.warn(line);
      },
    });
    this.#all.add(link);
    const timer = api.timer.setTimeout(() => {
      if (state !== "live") link.fail("connection-timeout", "The handshake took too long");
    }, config.timeoutMs);
  }

  /** The hosts a component of this section may use: the section id and its host patterns. */
  #patterns(): string[] {
    return [this.#api.id, ...this.#api.hosts];
  }

  /** The count of an acknowledgement, or undefined for a packet; a malformed one ends the stream. */
  #ackOf(element: Element): number | undefined {
    try {
      return readAck(element);
    } catch (error) {
      throw new StreamError("invalid-xml", (error as Error).message);
    }
  }

  #acknowledged(link: StreamLink, h: number): void {
    try {
      this.#outbox.acknowledged(link, h);
    } catch (error) {
      throw new StreamError("undefined-condition", (error as Error).message);
    }
  }

  #inbound(element: Element, name: string): void {
    if (this.#node) {
      this.#api.deliver(decodePacket(element, true));
      return;
    }
    checkComponentStanza(element);
    if (element.attrs.from === undefined) element.attrs.from = name;
    if (!addressAllowed(element.attrs.from, this.#patterns())) {
      this.#api.log.warn(
        `accept: ${name} tried to send from ${element.attrs.from}, which is not one of its hosts`,
      );
      const reply = errorReply(
        element,
        new StanzaError("forbidden", `A component may send only from its own hosts (${name})`),
      );
      // Through the outbox, so an acknowledging component's count matches ours (R48).
      if (reply) this.#outbox.send(new Packet(reply));
      return;
    }
    this.#api.deliver(decodePacket(element, false));
  }
}
