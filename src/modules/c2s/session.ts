/**
 * A bound session's stanzas (RFC 6120 §8.1.2.1, src/tree/ROUTING.md "route"): each client
 * stanza gets the session's address as `from` and travels to the session manager wrapped in a
 * `<route>`; a `<route type="error">` from the session manager ends the session with the stream
 * error that tells the client why.
 */
import { StreamError, type StreamErrorCondition } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { Element } from "../../xml/element.ts";

/**
 * The route packet that carries a client's stanza to the session manager. A `from` other than
 * the client's own full or bare address is the `invalid-from` stream error (RFC 6120 §8.1.2.1).
 */
export function routeToSm(stanza: Element, jid: string, route: string): Element {
  const from = stanza.attrs.from;
  if (from !== undefined) {
    const parsed = JID.tryParse(from);
    const own = JID.parse(jid);
    if (!parsed || !(parsed.equals(own) || (parsed.isBare && parsed.equals(own.bare)))) {
      throw new StreamError("invalid-from", "The from address is not yours");
    }
  }
  stanza.attrs.from = jid;
  return new Element("route", { to: jid, from: route }, [stanza]);
}

/**
 * The route packet that tells the session manager the session `jid` of `route` ended, handing
 * back the stanzas the client never acknowledged (XEP-0198) to be routed again (ROUTING.md R39).
 */
export function sessionEnded(jid: string, route: string, unacked: Element[] = []): Element {
  return new Element("route", { type: "error", to: jid, from: route }, unacked);
}

/**
 * The stream error that tells a client why the session manager ended its session: a newer login
 * took the resource (`conflict`), the account went away (`not-authorized`), the client did not
 * answer the server's ping (`remote-server-timeout`), or the session manager is gone or stopping
 * (`service-unavailable`, or a route the router bounced, which carries no condition at all).
 */
export function sessionEndError(
  condition: string | undefined,
  text: string | undefined,
): [StreamErrorCondition, string] {
  switch (condition) {
    case "conflict":
      return ["conflict", "Replaced by a new login"];
    case "not-authorized":
    case "forbidden":
      return ["not-authorized", text ?? "The account can no longer log in"];
    case "remote-server-timeout":
      return ["connection-timeout", text ?? "No answer to the server's ping"];
    case "service-unavailable":
    case undefined:
      return ["system-shutdown", text ?? "The session manager is not available"];
    default:
      return ["undefined-condition", text ?? "The session ended"];
  }
}
