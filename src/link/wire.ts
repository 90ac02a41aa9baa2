/**
 * Packets on a link stream (ROUTING.md "Links to other processes"; XEP-0114 §3 for component
 * links): one way to write a packet of any kind (`<xdb>`, `<log>`, `<route>` with its stanza, a
 * stanza) into an XML stream and to read it back, with the hop count (R22) carried on node links.
 *
 * The hop count travels as a `jabberd:hops` attribute on the packet's top element, the prefix
 * bound to `jabberd:link` on the stream header (`linkHeaderAttrs`). The receiver reads and strips
 * it, so a loop between two nodes is stopped like a loop inside one. Component links never carry
 * it: a component speaks plain XEP-0114.
 */
import { Packet } from "../tree/packet.ts";
import {
  NS_CLIENT,
  NS_COMPONENT_ACCEPT,
  NS_COMPONENT_CONNECT,
  NS_COMPONENT_EXEC,
  NS_SERVER,
} from "../util/ns.ts";
import { Element } from "../xml/element.ts";

/** The namespace of our own attributes on link streams (the hop count). */
export const NS_LINK = "jabberd:link";
/** The default namespace of a stream between two of our nodes (a node link). */
export const NS_NODE_LINK = "jabberd:link:node";
/** The attribute carrying the hop count on a node link. */
export const HOPS_ATTR = "jabberd:hops";

/**
 * Stanza namespaces a packet's top element may carry from the stream it was read from; they are
 * dropped on the wire so the element takes the link stream's own default namespace.
 */
const STANZA_NAMESPACES = new Set([
  NS_CLIENT,
  NS_SERVER,
  NS_COMPONENT_ACCEPT,
  NS_COMPONENT_CONNECT,
  NS_COMPONENT_EXEC,
  NS_NODE_LINK,
]);

/** Extra attributes for the `<stream:stream>` header of a link that carries hop counts. */
export function linkHeaderAttrs(): Record<string, string> {
  return { "xmlns:jabberd": NS_LINK };
}

/**
 * Serializes a packet for a link stream. With `carryHops` (node links) the packet's hop count
 * rides along. The packet is not changed: a shallow copy of its top element gets the attributes.
 */
export function encodePacket(packet: Packet, carryHops: boolean): string {
  const element = packet.element;
  const attrs: Record<string, string> = {};
  for (const key in element.attrs) {
    if (key === HOPS_ATTR) continue;
    if (key === "xmlns" && STANZA_NAMESPACES.has(element.attrs[key])) continue;
    attrs[key] = element.attrs[key];
  }
  // A prefix bound on the stream it came from (`db:result` of s2s) must be bound here again.
  const prefix = element.prefix;
  if (prefix !== "" && attrs[`xmlns:${prefix}`] === undefined) {
    attrs[`xmlns:${prefix}`] = element.ns;
  }
  // A namespace other than a stanza namespace, known only by resolution, is written out.
  if (prefix === "" && attrs.xmlns === undefined && element.ns !== "") {
    if (!STANZA_NAMESPACES.has(element.ns)) attrs.xmlns = element.ns;
  }
  if (carryHops) attrs[HOPS_ATTR] = String(packet.hops);
  // The children are shared, not copied: the constructor keeps their existing parents.
  return new Element(element.name, attrs, element.children).toString();
}

/**
 * Turns an element read from a link stream into a packet. On a node link the hop count is read
 * and stripped, plus one for the crossing (a missing or malformed one counts as 0); on a component link a `jabberd:hops`
 * attribute is stripped and ignored, so a component cannot reset or forge it.
 */
export function decodePacket(element: Element, carryHops: boolean): Packet {
  const written = element.attrs[HOPS_ATTR];
  let hops = 0;
  if (written !== undefined) {
    delete element.attrs[HOPS_ATTR];
    // Crossing the link is one more delivery, so one more hop.
    if (carryHops && /^\d{1,6}$/.test(written)) hops = Number(written) + 1;
  }
  return new Packet(element, { hops });
}
