/**
 * XEP-0199 XMPP Ping: the server answers a ping to one of its hosts (§4.2) and, on the
 * account's behalf, a ping to a user's bare JID (§4.1, as Prosody and ejabberd do: the server
 * answers for the account whether or not a client is online), the user's own included. Pinging
 * silent clients is idle_ping.ts.
 */
import { NS_PING } from "../../../util/ns.ts";
import type { SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

export const ping: SmFeature = {
  name: "ping",
  register(sm) {
    const answer = ({ stanza }: StanzaEvent) => {
      sm.reply(stanza);
      return true;
    };
    advertise(sm, "host", NS_PING);
    for (const to of ["host", "self", "bare"]) sm.api.hook(`iq-get/${to}/${NS_PING}:ping`, answer);
  },
};
