/**
 * The `<c2s xmlns="jabberd:config:c2s">` component (RFC 6120 client connections): listeners,
 * certificates, limits and registration, and the route packets that connect each client's
 * session to the session manager (src/tree/ROUTING.md, "route").
 */
import type { Connection } from "../../adapters/types.ts";
import {
  CONFIG_RELOADED,
  type ModuleDefinition,
  SERVER_STOPPING,
} from "../../server/module_api.ts";
import { Element } from "../../xml/element.ts";
import { CertificateStore } from "../../tls/certificates.ts";
import { NS_C2S_CONFIG, parseC2sConfig, readC2sConfig } from "./config.ts";
import { C2sConnection } from "./connection.ts";
import { ConnectionCounter } from "../../util/limits.ts";
import { openListeners } from "./listener.ts";
import { needsCertificates } from "./tls_need.ts";
import { Registration } from "./register.ts";
import {
  BOSH_FRAMING,
  type StreamFraming,
  TCP_DIRECT_TLS,
  TCP_STARTTLS,
  WEBSOCKET_FRAMING,
} from "./framing.ts";
import { tickInterval } from "./stream.ts";
import type { ResumableStreams } from "./stream_management.ts";
import { C2S_STREAMS, type C2sCounters, type C2sStreams } from "../../server/c2s_streams.ts";
import { JID } from "../../util/jid.ts";

export const c2sModule: ModuleDefinition = {
  element: NS_C2S_CONFIG,
  sections: ["service"],
  validate(element, context) {
    parseC2sConfig(element, (at, message) => context.problem(at, message));
  },
  async register(api) {
    const config = readC2sConfig(api.config);
    const certificates = new CertificateStore({
      files: api.adapters.files,
      resolvePath: (path) => api.resolvePath(path),
      configured: config.certificates,
      domains: config.domains,
      log: (text) => api.log.info(text),
    });
    // No TCP listener and no HTTPS listener on c2s's certificates: none are made (tls_need.ts).
    const withTls = needsCertificates(config, api.config);
    if (withTls) await certificates.load();
    api.hook(CONFIG_RELOADED, async () => {
      if (!withTls) return;
      try {
        await certificates.load();
        api.log.info("c2s: certificates reloaded");
      } catch (error) {
        api.log.error(`c2s: certificates not reloaded, keeping the old ones: ${error}`);
      }
    });
    const registration = config.register
      ? new Registration(config.register, api.xdb, config.iterations, api.log)
      : undefined;
    const connections = new Map<string, C2sConnection>();
    const perIp = new ConnectionCounter(config.limits.connectionsPerIp);
    // One timer for every connection's idle and keepalive checks, not one per connection.
    api.timer.setInterval(() => {
      for (const connection of connections.values()) connection.tick();
    }, tickInterval(config.limits));
    let next = 1;
    const counters: C2sCounters = { logins: 0, loginFailures: 0, refused: 0 };
    const context = {
      counters,
      id: api.id,
      config,
      timer: api.timer,
      log: api.log,
      xdb: api.xdb,
      registration,
      deliver: (element: Element) => {
        try {
          api.deliver(element);
        } catch (error) {
          // After unload the tree may refuse packets; a closing connection must not throw.
          api.log.debug(`c2s: could not deliver a route packet: ${error}`);
        }
      },
      tls: () => certificates.tls,
      closed: (connection: C2sConnection) => {
        if (connections.get(connection.id) === connection) connections.delete(connection.id);
      },
    };
    /** XEP-0198: a detached session stays in `connections`, under its id, until it ends. */
    const streams: ResumableStreams<C2sConnection> = {
      resumable: new Map(),
      socketGone: (connection) => perIp.release(connection.remoteAddress),
      takeOver: (connection, routeId) => {
        connections.delete(connection.id);
        connections.set(routeId, connection);
      },
    };
    const accept = (conn: Connection, framing: StreamFraming) => {
      try {
        const address = conn.remote.hostname;
        if (!perIp.acquire(address)) {
          api.log.notice(
            `c2s: refused a connection from ${address}: ${perIp.max} connections from one ` +
              "address (limit <limits connections-per-ip>)",
          );
          counters.refused++;
          const header = framing.header(config.domains[0]);
          if (header) conn.write(header);
          conn.write(framing.frame(framing.error("policy-violation")));
          if (framing.close) conn.write(framing.close);
          conn.close();
          return;
        }
        const id = String(next++);
        const connection = new C2sConnection(id, conn, context, framing, streams);
        connections.set(id, connection);
      } catch (error) {
        api.log.error(`c2s: could not accept a connection: ${error}`);
        conn.close();
      }
    };
    api.handle("deliver", (packet) => {
      if (packet.kind !== "route") return "pass";
      const to = packet.element.attrs.to ?? "";
      const slash = to.indexOf("/");
      const connection = slash < 0 ? undefined : connections.get(to.slice(slash + 1));
      if (connection) {
        connection.onRoute(packet.element);
      } else if (packet.element.attrs.type !== "error") {
        // The connection is gone: tell the sm so it ends that session, handing back the stanza
        // so that it is routed again rather than lost (ROUTING.md R39).
        const from = packet.element.attrs.from;
        api.deliver(
          new Element(
            "route",
            { type: "error", to: from ?? "", from: to },
            packet.element.elements,
          ),
          packet,
        );
      }
      return "done";
    });
    const listeners = await openListeners(
      api.adapters.net,
      config.listens,
      () => certificates.tls,
      (conn, directTls) => accept(conn, directTls ? TCP_DIRECT_TLS : TCP_STARTTLS),
    );
    const c2sStreams: C2sStreams = {
      id: api.id,
      domains: config.domains,
      stanzaSize: config.limits.stanzaSize,
      accept: (conn, transport) => {
        if (listening) accept(conn, transport === "bosh" ? BOSH_FRAMING : WEBSOCKET_FRAMING);
        else conn.close();
      },
      tls: () => certificates.tls,
      streams: () =>
        [...connections.values()].map((connection) => ({
          route: connection.route,
          jid: connection.jid,
          remote: connection.remoteAddress,
          transport: connection.transport,
          since: connection.since,
        })),
      kick(jid, text) {
        const target = JID.tryParse(jid);
        if (!target) return 0;
        let ended = 0;
        for (const connection of [...connections.values()]) {
          const bound = connection.jid === undefined ? undefined : JID.tryParse(connection.jid);
          if (!bound || !(target.isBare ? bound.bare.equals(target) : bound.equals(target))) {
            continue;
          }
          connection.streamError("policy-violation", text);
          ended++;
        }
        return ended;
      },
      counters,
    };
    api.offer(C2S_STREAMS, c2sStreams);
    for (const [index, listener] of listeners.entries()) {
      const { hostname, port } = listener.address;
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      api.log.notice(`c2s: listening on ${host}:${port}`);
      const name = config.listens[index].tls === "direct" ? "c2s-tls" : "c2s";
      api.publishAddress({ name, hostname, port });
    }
    let listening = true;
    /**
     * Stops taking clients, then ends every stream with `system-shutdown`. Each connection tells
     * the sm on the route-error path that its session ended, so on `server-stopping` the sm
     * finishes unavailable presence and last activity while XDB still answers.
     */
    const closeAllStreams = async () => {
      if (listening) {
        listening = false;
        for (const listener of listeners) await listener.close();
      }
      for (const connection of [...connections.values()]) {
        connection.streamError("system-shutdown");
      }
    };
    api.hook(SERVER_STOPPING, closeAllStreams);
    api.onUnload(closeAllStreams);
  },
};
