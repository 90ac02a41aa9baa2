/**
 * Admin announcements and the message of the day (Prosody's mod_announce and mod_motd, jabberd
 * 1.4's announce): a message from an admin to `{host}/announce/online` goes to every online
 * session; to `{host}/announce/motd` it becomes the MOTD (stored for the host under ns
 * `jabberd:motd`) and goes to the online sessions; `/announce/motd/update` stores it without
 * sending; `/announce/motd/delete` stores an empty MOTD. Others get forbidden. Each session gets
 * the MOTD once, on its first `session-available`. The `<motd>` text of the config is the MOTD
 * until an admin sets or deletes one: the admin's latest word wins over the file.
 */
import { describe, StanzaError } from "../../../util/errors.ts";
import { type Element, xml } from "../../../xml/element.ts";
import { readSmConfig } from "../config.ts";
import type { Session, SessionEvent, SmFeature, StanzaEvent } from "../types.ts";

export const NS_MOTD = "jabberd:motd";
const SEEN = "motd-seen";

export const announce: SmFeature = {
  name: "announce",
  register(sm) {
    const { api } = sm;
    const fallback = readSmConfig(api.config).motd ?? "";
    /** The MOTD per host once read ("" for none). */
    const motds = new Map<string, string>();
    const motdOf = async (host: string) => {
      if (!motds.has(host)) {
        const stored = await api.xdb.get(host, NS_MOTD);
        motds.set(host, stored ? stored.text() : fallback);
      }
      return motds.get(host)!;
    };
    const send = (session: Session, from: string, children: Element[]) => {
      const message = xml("message", { from, to: session.jid.toString() });
      for (const child of children) message.append(child.clone());
      sm.sendToSession(session, message);
    };
    const motdFor = (session: Session, text: string) => {
      session.data.set(SEEN, true);
      if (text) send(session, session.jid.domain, [xml("body", {}, text)]);
    };

    // The dispatcher answers what this throws.
    const command = ({ stanza, to, from }: StanzaEvent) => {
      if (to.local !== "" || !to.resource.startsWith("announce/")) return;
      if (stanza.attrs.type === "error") return true;
      if (!from || !sm.isAdmin(from)) {
        throw new StanzaError("forbidden", "Only admins make announcements");
      }
      const host = to.domain;
      const payload = stanza.elements.filter((e) => e.is("body") || e.is("subject"));
      const text = stanza.getChildText("body") ?? "";
      const online = () =>
        [...sm.sessions.all()].filter((s) => s.available && s.jid.domain === host);
      switch (to.resource) {
        case "announce/online":
          for (const session of online()) send(session, host, payload);
          return true;
        case "announce/motd":
        case "announce/motd/update":
        case "announce/motd/delete": {
          const motd = to.resource.endsWith("delete") ? "" : text;
          motds.set(host, motd);
          if (to.resource === "announce/motd") { for (const s of online()) motdFor(s, motd); }
          // Stored before the admin's next command is handled (ROUTING.md R34).
          return api.xdb.set(host, NS_MOTD, xml("motd", { xmlns: NS_MOTD }, motd));
        }
      }
      throw new StanzaError("item-not-found", "Unknown announce command");
    };
    api.hook("message/host", command, 10);
    api.hook("message/full", command, 10);

    // The presence feature fires session-available once a session's available presence is
    // handled (RFC 6121 §4.2); the first one brings the MOTD.
    api.hook<SessionEvent>("session-available", ({ session }) => {
      if (session.data.get(SEEN)) return;
      session.data.set(SEEN, true);
      motdOf(session.jid.domain).then((text) => motdFor(session, text))
        .catch((error) => api.log.warn(`Cannot read the MOTD: ${describe(error)}`));
    });
  },
};
