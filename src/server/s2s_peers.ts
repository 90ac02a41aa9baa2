/**
 * What s2s offers the other sections (`api.offer(S2S_PEERS, peers)`): the live federation peers,
 * which the admin API, the status page and `jabberd status` show (RFC 6120 §13 server streams).
 */

/** The name of the offer: `api.offered<() => Peer[]>(S2S_PEERS)`. */
export const S2S_PEERS = "s2s-peers";

/** One live peer, as disco#items of the s2s id lists it. */
export interface Peer {
  domain: string;
  direction: "outbound" | "inbound";
  /** Local domains authenticated to it (outbound), or empty (inbound). */
  locals: string[];
}
