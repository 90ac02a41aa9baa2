/**
 * What c2s checks of every `jabber:client` element before a step takes it: that it is a stanza
 * (RFC 6120 §8), and for an iq a known type, an id (§8.1.3) and exactly one payload for a get or
 * set (§8.2.3). A faulty iq is answered `bad-request` without reaching the session manager, as
 * Prosody answers it; the reply has no id either, since there is none to copy.
 */
import { StanzaError, StreamError } from "../../util/errors.ts";
import type { Element } from "../../xml/element.ts";

export type StanzaName = "iq" | "message" | "presence";

/** The stanza's name; `unsupported-stanza-type` for any other element. */
export function stanzaName(stanza: Element): StanzaName {
  const local = stanza.local;
  if (local === "iq" || local === "message" || local === "presence") return local;
  throw new StreamError("unsupported-stanza-type", `<${local}> is not a stanza`);
}

/**
 * Throws `bad-request` for an iq RFC 6120 §8.2.3 forbids. (For an iq result or error without
 * id, `errorReply()` then writes nothing: an error is never answered, a result never is.)
 */
export function checkIq(iq: Element): void {
  const type = iq.attrs.type;
  if (type !== "get" && type !== "set" && type !== "result" && type !== "error") {
    throw new StanzaError("bad-request", "The iq type must be get, set, result or error");
  }
  if (iq.attrs.id === undefined) {
    throw new StanzaError("bad-request", "An iq needs an id attribute");
  }
  if ((type === "get" || type === "set") && iq.elements.length !== 1) {
    throw new StanzaError("bad-request", "An iq get or set carries exactly one child element");
  }
}
