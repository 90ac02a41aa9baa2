/**
 * What c2s offers the other sections (`api.offer(C2S_STREAMS, …)`): its stream acceptor, so the
 * http component runs WebSocket (RFC 7395) and BOSH (XEP-0206) clients through this same c2s
 * protocol (SASL, binding, limits, stream errors), plus what the admin API and metrics read.
 */
import type { Connection, ServerTlsOptions } from "../adapters/types.ts";

export const C2S_STREAMS = "c2s-streams";

/** One client connection as the admin API lists it. */
export interface C2sStreamInfo {
  /** `c2s-id/connection-id`: the route address of the connection. */
  readonly route: string;
  /** The bound full JID, once bound. */
  readonly jid: string | undefined;
  readonly remote: string;
  /** `tcp`, `tcp-tls`, `websocket` or `bosh`. */
  readonly transport: string;
  /** When it connected (ms since the epoch, the module's clock). */
  readonly since: number;
}

/** Counters of one c2s section since it started. */
export interface C2sCounters {
  logins: number;
  loginFailures: number;
  /** Connections refused by `<limits connections-per-ip>`. */
  refused: number;
}

export interface C2sStreams {
  /** The c2s section's id. */
  readonly id: string;
  /** The domains its clients may log in to. */
  readonly domains: readonly string[];
  /** The largest stanza a client may send (BOSH bounds its request bodies with it). */
  readonly stanzaSize: number;
  /**
   * Runs the c2s protocol on a connection of another transport: each `onData` chunk is one
   * complete element (`<open/>`, a stanza, `<close/>`, RFC 7395 §3.3), and so is each write.
   */
  accept(conn: Connection, transport: "websocket" | "bosh"): void;
  /** c2s's certificates (configured or made at first start), for https and wss. */
  tls(): ServerTlsOptions;
  streams(): C2sStreamInfo[];
  /** Ends the streams bound to `jid` (full, or bare for all its resources); how many ended. */
  kick(jid: string, text: string): number;
  readonly counters: Readonly<C2sCounters>;
}
