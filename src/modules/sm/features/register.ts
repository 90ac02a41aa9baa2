/**
 * XEP-0077 In-Band Registration after authentication (§3.2–3.3): the form shows the account as
 * registered; `<username/><password/>` changes the password (SCRAM credentials through
 * `src/accounts/store.ts`); `<remove/>` deletes the account and everything it owns, then ends
 * every session of the user. Registering before authentication is the c2s's job.
 */
import { deleteAccount, setPassword } from "../../../accounts/store.ts";
import { StanzaError } from "../../../util/errors.ts";
import { NS_REGISTER } from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { Session, SmFeature, StanzaEvent } from "../types.ts";

export const register: SmFeature = {
  name: "register",
  register(sm) {
    const { api } = sm;
    const fail = (stanza: Element) => (error: unknown) => {
      if (!(error instanceof StanzaError)) api.log.error(`Registration failed: ${error}`);
      sm.replyError(
        stanza,
        error instanceof StanzaError ? error : new StanzaError("internal-server-error"),
      );
    };
    const form = ({ stanza, origin }: StanzaEvent) => {
      if (!origin) return sm.replyError(stanza, new StanzaError("not-allowed")), true;
      const query = xml("query", { xmlns: NS_REGISTER }, xml("registered"));
      query.append(xml("username", {}, origin.jid.local), xml("password"));
      sm.reply(stanza, query);
      return true;
    };
    const change = ({ stanza, origin }: StanzaEvent) => {
      if (!origin) return sm.replyError(stanza, new StanzaError("not-allowed")), true;
      const query = stanza.getChild("query", NS_REGISTER)!;
      const owner = origin.jid.bare;
      (async () => {
        if (query.getChild("remove")) {
          await deleteAccount(api.xdb, owner);
          sm.reply(stanza);
          api.fire("user-deleted", { jid: owner });
          const sessions: readonly Session[] = sm.sessions.ofUser(owner.toString());
          for (const session of sessions) {
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
      })().catch(fail(stanza));
      return true;
    };
    for (const kind of ["self", "host"]) {
      api.hook(`iq-get/${kind}/${NS_REGISTER}:query`, form);
      api.hook(`iq-set/${kind}/${NS_REGISTER}:query`, change);
    }
  },
};
