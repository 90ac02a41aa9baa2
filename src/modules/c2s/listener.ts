/**
 * Opens the configured listeners (RFC 6120 §3: 5222 with STARTTLS; XEP-0368: 5223 direct TLS).
 * `address="::"` accepts IPv6 and, where the host is dual-stack (Linux's default
 * `bindv6only=0`), IPv4 as mapped addresses; list `0.0.0.0` separately where it is not.
 */
import type { Connection, Listener, NetAdapter, ServerTlsOptions } from "../../adapters/types.ts";
import type { ListenConfig } from "./config.ts";

export async function openListeners(
  net: NetAdapter,
  listens: readonly ListenConfig[],
  tls: () => ServerTlsOptions,
  onConnection: (conn: Connection, directTls: boolean) => void,
): Promise<Listener[]> {
  const listeners: Listener[] = [];
  try {
    for (const listen of listens) {
      const direct = listen.tls === "direct";
      listeners.push(
        await net.listen(
          {
            hostname: listen.address,
            port: listen.port,
            tls: direct ? liveTls(tls) : undefined,
          },
          (conn) => onConnection(conn, direct),
        ),
      );
    }
  } catch (error) {
    for (const listener of listeners) await listener.close();
    throw error;
  }
  return listeners;
}

/**
 * TLS options that read the current certificates at each handshake: the adapters keep the object
 * a listener was opened with, and a copy would pin the certificates of the first load, so a
 * reload (CONFIG_RELOADED) would never reach direct TLS.
 */
function liveTls(tls: () => ServerTlsOptions): ServerTlsOptions {
  return {
    get default() {
      return tls().default;
    },
    get byName() {
      return tls().byName;
    },
    alpnProtocols: ["xmpp-client"],
  };
}
