/**
 * The `<s2s xmlns="jabberd:config:s2s">` component: federation with other XMPP servers (RFC 6120
 * server-to-server streams, XEP-0220 dialback, XEP-0178 SASL EXTERNAL, XEP-0368 direct TLS). It
 * registers for `*`, so it gets every normal packet for a domain no other section serves
 * (ROUTING.md R3, R35), sends it over the outbound stream to that domain, and hands the stanzas of
 * inbound streams to the tree (ROUTING.md "Federation", R35–R38).
 */
import type { Listener, ServerTlsOptions } from "../../adapters/types.ts";
import {
  CONFIG_RELOADED,
  type ModuleDefinition,
  SERVER_STOPPING,
} from "../../server/module_api.ts";
import type { Packet } from "../../tree/packet.ts";
import { domainOf } from "../../util/jid.ts";
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_S2S_CONFIG } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import { bounceOf } from "../../link/queue.ts";
import { CertificateStore } from "../../tls/certificates.ts";
import { ConnectionCounter } from "../../util/limits.ts";
import { readS2sConfig, validateS2sConfig } from "./config.ts";
import type { S2sContext } from "./context.ts";
import { makeSecret } from "./dialback.ts";
import { Inbound } from "./inbound.ts";
import { Outbound, type OutboundHooks } from "./outbound.ts";
import { TrustStore } from "./pkix.ts";
import { type Peer, S2S_PEERS } from "../../server/s2s_peers.ts";

/** Where the dialback secret is kept when the config has no `<secret>` (beside certificates). */
export const SECRET_FILE = "data/s2s.secret";

/** The operating system's trust anchors, read when present (Debian's ca-certificates). */
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export const s2sModule: ModuleDefinition = {
  element: NS_S2S_CONFIG,
  sections: ["service"],
  validate: validateS2sConfig,
  async register(api) {
    const config = readS2sConfig(api.config);
    const files = api.adapters.files;
    const isLocal = (domain: string) =>
      domain !== "" && domain !== api.id && !api.servesHost(domain);

    const secret = config.secret ?? await loadSecret();
    async function loadSecret(): Promise<string> {
      const path = api.resolvePath(SECRET_FILE);
      if (await files.exists(path)) return (await files.readTextFile(path)).trim();
      const made = makeSecret();
      await files.mkdir(path.slice(0, path.lastIndexOf("/")));
      await files.writeTextFile(path, made + "\n", { mode: 0o600 });
      api.log.notice(`s2s: made a dialback secret in ${path}`);
      return made;
    }

    const trust = new TrustStore();
    for (const path of config.ca) trust.addPem(await files.readTextFile(api.resolvePath(path)));
    if (await files.exists(SYSTEM_CA_BUNDLE)) {
      trust.addPem(await files.readTextFile(SYSTEM_CA_BUNDLE));
    }

    const certificates = new CertificateStore({
      files,
      resolvePath: (path) => api.resolvePath(path),
      configured: config.certificates,
      domains: api.routedHosts().filter((host) => host.includes(".")),
      log: (text) => api.log.info(text),
    });
    await certificates.load();
    api.hook(CONFIG_RELOADED, async () => {
      try {
        await certificates.load();
      } catch (error) {
        api.log.error(`s2s: certificates not reloaded, keeping the old ones: ${error}`);
      }
    });
    const serverTls = (): ServerTlsOptions => ({
      get default() {
        return certificates.tls.default;
      },
      get byName() {
        return certificates.tls.byName;
      },
      alpnProtocols: ["xmpp-server"],
      requestCertificate: true,
    });

    /** The outbound streams by remote domain: one, or one per local domain when no piggybacking. */
    const outbounds = new Map<string, Outbound[]>();
    const inbounds = new Map<string, Inbound>();
    const perDomain = new ConnectionCounter(config.limits.connectionsPerDomain);
    const deliver = (element: Element | Packet) => {
      try {
        api.deliver(element);
      } catch (error) {
        api.log.debug(`s2s: could not deliver into the tree: ${error}`);
      }
    };
    const hooks: OutboundHooks = {
      bounce: deliver,
      reroute: (packets) => {
        for (const packet of packets) {
          outboundTo(packet.host, domainOf(packet.from ?? "")).send(packet);
        }
      },
      gone: (gone) => {
        const left = (outbounds.get(gone.remote) ?? []).filter((o) => o !== gone);
        if (left.length > 0) outbounds.set(gone.remote, left);
        else outbounds.delete(gone.remote);
      },
    };
    /** The stream `from` takes to `remote`: its own, one it may join, or a new one. */
    const outboundTo = (remote: string, from: string): Outbound => {
      const streams = outbounds.get(remote) ?? [];
      const found = streams.find((o) => o.serves(from)) ?? streams.find((o) => o.canJoin());
      if (found) return found;
      const created = new Outbound(context, remote, from, hooks);
      outbounds.set(remote, [...streams, created]);
      return created;
    };
    const context: S2sContext = {
      config,
      log: api.log,
      timer: api.timer,
      net: api.adapters.net,
      dns: api.adapters.dns,
      trust,
      secret,
      isLocal,
      serverTls,
      clientCertificate: (domain) => certificates.tls.byName?.[domain] ?? certificates.tls.default,
      deliver,
      verify: (receiving, originating, streamId, key) =>
        outboundTo(originating, receiving).verify(receiving, streamId, key),
      acquireInbound: (domain) => perDomain.acquire(domain),
      releaseInbound: (domain) => perDomain.release(domain),
    };

    /** The live peers: for disco#items of the s2s id and `jabberd status`. */
    const peers = (): Peer[] => [
      ...[...outbounds.values()].flat().map((o) => ({
        domain: o.remote,
        direction: "outbound" as const,
        locals: o.authenticated,
      })),
      ...[...inbounds.values()].flatMap((i) =>
        i.remotes.map((domain) => ({ domain, direction: "inbound" as const, locals: [] }))
      ),
    ];

    api.offer(S2S_PEERS, peers);
    api.addHost("*");
    api.handle("deliver", (packet) => {
      if (packet.kind !== "normal") return "pass";
      if (packet.host === api.id) return answerDisco(packet) ? "done" : "pass";
      const from = domainOf(packet.from ?? "");
      if (!isLocal(from)) {
        // Only our own domains can be authenticated to a peer: never relay (RFC 6120 §13.6).
        const bounce = bounceOf(packet, "not-allowed");
        if (bounce) deliver(bounce);
        return "done";
      }
      outboundTo(packet.host, from).send(packet);
      return "done";
    });

    function answerDisco(packet: Packet): boolean {
      const iq = packet.element;
      if (!iq.is("iq") || iq.attrs.type !== "get") return false;
      const reply = (payload: Element) =>
        deliver(
          xml("iq", {
            type: "result",
            id: iq.attrs.id ?? "",
            to: iq.attrs.from ?? "",
            from: api.id,
          }, payload),
        );
      if (iq.getChild("query", NS_DISCO_ITEMS)) {
        const query = xml("query", { xmlns: NS_DISCO_ITEMS });
        for (const peer of peers()) {
          query.c("item", { jid: peer.domain, name: `${peer.direction} s2s stream` });
        }
        reply(query);
        return true;
      }
      if (iq.getChild("query", NS_DISCO_INFO)) {
        const query = xml("query", { xmlns: NS_DISCO_INFO });
        query.c("identity", { category: "component", type: "s2s", name: "Federation" });
        query.c("feature", { var: NS_DISCO_INFO });
        query.c("feature", { var: NS_DISCO_ITEMS });
        reply(query);
        return true;
      }
      return false;
    }

    let nextInbound = 1;
    const listeners: Listener[] = [];
    try {
      for (const listen of config.listens) {
        const direct = listen.tls === "direct";
        const listener = await api.adapters.net.listen(
          { hostname: listen.ip, port: listen.port, tls: direct ? serverTls() : undefined },
          (conn) => {
            const id = String(nextInbound++);
            inbounds.set(id, new Inbound(id, conn, context, (gone) => inbounds.delete(gone.id)));
          },
        );
        listeners.push(listener);
        const { hostname, port } = listener.address;
        api.log.notice(`s2s: listening on ${hostname}:${port}${direct ? " (direct TLS)" : ""}`);
        api.publishAddress({ name: direct ? "s2s-tls" : "s2s", hostname, port });
      }
    } catch (error) {
      for (const listener of listeners) await listener.close();
      throw error;
    }

    const tick = Math.max(1000, Math.min(config.idleTimeout, config.connectTimeout) / 2);
    api.timer.setInterval(() => {
      const now = api.timer.now();
      for (const outbound of [...outbounds.values()].flat()) outbound.tick(now);
      for (const inbound of [...inbounds.values()]) {
        if (now - inbound.lastActivity >= config.idleTimeout) inbound.close("connection-timeout");
      }
    }, tick);

    let open = true;
    const closeAll = async () => {
      if (open) {
        open = false;
        for (const listener of listeners) await listener.close();
      }
      for (const outbound of [...outbounds.values()].flat()) {
        outbound.close("remote-server-not-found", "this server is stopping");
      }
      for (const inbound of [...inbounds.values()]) inbound.close("system-shutdown");
    };
    api.hook(SERVER_STOPPING, closeAll);
    api.onUnload(closeAll);
  },
};
