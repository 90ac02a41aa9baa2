/**
 * Resource binding (RFC 6120 §7): the address a bind request asks for, which the session
 * manager then confirms or changes, and the old session iq (RFC 3921 §3) answered as a no-op.
 */
import { StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { Element } from "../../xml/element.ts";
import { NS_BIND, NS_SESSION } from "./features.ts";

/** True for a `<bind/>` set (RFC 6120 §7.6). */
export function isBind(iq: Element): boolean {
  return iq.attrs.type === "set" && iq.getChild("bind", NS_BIND) !== undefined;
}

/** True for the RFC 3921 session set that RFC 6121 dropped and old clients still send. */
export function isLegacySession(iq: Element): boolean {
  return iq.attrs.type === "set" && iq.getChild("session", NS_SESSION) !== undefined;
}

/**
 * The full JID a bind request asks for: the client's resource, or one made up when it sent none
 * (RFC 6120 §7.6.2.1). Throws `bad-request` for more than one resource or one that is not valid.
 */
export function requestedJid(iq: Element, username: string, domain: string): JID {
  const resources = iq.getChild("bind", NS_BIND)!.getChildren("resource");
  if (resources.length > 1) throw new StanzaError("bad-request", "Ask for one resource");
  const requested = resources[0]?.text().trim() ?? "";
  try {
    return new JID(username, domain, requested || madeUpResource());
  } catch {
    throw new StanzaError("bad-request", "That resource is not valid");
  }
}

/** The result of a bind request with the address the session manager bound. */
export function bindResult(iq: Element, jid: string): Element {
  const bind = new Element("bind", { xmlns: NS_BIND });
  bind.c("jid").t(jid);
  return emptyResult(iq, bind);
}

/** `<iq type='result'/>` to `iq`, with `payload` if given. */
export function emptyResult(iq: Element, payload?: Element): Element {
  const attrs: Record<string, string> = { type: "result" };
  if (iq.attrs.id !== undefined) attrs.id = iq.attrs.id;
  return new Element("iq", attrs, payload ? [payload] : []);
}

function madeUpResource(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return `jabberd-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
