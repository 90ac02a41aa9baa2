/**
 * XEP-0077 In-Band Registration after authentication (§3.2–3.3): the form shows the account as
 * registered; `<username/><password/>` changes the password (SCRAM credentials through
 * `src/accounts/store.ts`); `<remove/>` deletes the account and everything it owns, then ends
 * every session of the user. Registering before authentication is the c2s's job.
 */
import { deleteAccount, setPassword } from "../../../accounts/store.ts";
import { StanzaError } from "../../../util/errors.ts";
import { NS_REGISTER } from "../../../util/ns.ts";
import { xml } from "../../../xml/element.ts";
import type { SmFeature, StanzaEvent } from "../types.ts";

export const register: SmFeature = {
  name: "register",
  register(sm) {
    const { api } = sm;
    // The dispatcher answers what these throw.
    const form = ({ stanza, origin }: StanzaEvent) => {
      if (!origin) throw new StanzaError("not-allowed");
      const query = xml("query", { xmlns: NS_REGISTER }, xml("registered"));
      query.append(xml("username", {}, origin.jid.local), xml("password"));
      sm.reply(stanza, query);
      return true;
    };
    const change = async ({ stanza, origin }: StanzaEvent) => {
      if (!origin) throw new StanzaError("not-allowed");
      const query = stanza.getChild("query", NS_REGISTER)!;
      const owner = origin.jid.bare;
      if (query.getChild("remove")) {
        await deleteAccount(api.xdb, owner);
        // Straight to the session, ahead of the route error that ends it (XEP-0077 §3.2: the
        // result, then the stream closes): a reply through the sm's queue would come after it.
        sm.sendToSession(origin, xml("iq", { type: "result", id: stanza.attrs.id ?? "" }));
        api.fire("user-deleted", { jid: owner });
        for (const session of sm.sessions.ofUser(owner.toString())) {
          sm.endSession(session, "account-removed", new StanzaError("not-authorized"));
        }
        return;
      }
      const username = query.getChildText("username");
      const password = query.getChildText("password");
      if (!password || (username !== undefined && username !== owner.local)) {
        throw new StanzaError("bad-request", "Send your own username and a new password");
      }
      await setPassword(api.xdb, owner, password);
      sm.reply(stanza);
    };
    for (const kind of ["self", "host"]) {
      api.hook(`iq-get/${kind}/${NS_REGISTER}:query`, form);
      api.hook(`iq-set/${kind}/${NS_REGISTER}:query`, change);
    }
  },
};
