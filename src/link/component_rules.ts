/**
 * What may cross a component link (XEP-0114 §3; ROUTING.md "Links to other processes"): only
 * `<message>`, `<presence>` and `<iq>`, and from a component only addresses of its own hosts.
 */
import { StreamError } from "../util/errors.ts";
import { patternCovers } from "../tree/delivery_tree.ts";
import { domainOf } from "../util/jid.ts";
import type { Element } from "../xml/element.ts";

const STANZAS = new Set(["message", "presence", "iq"]);

/** Throws `unsupported-stanza-type` for anything but a stanza (no xdb, log or route). */
export function checkComponentStanza(element: Element): void {
  if (!STANZAS.has(element.local)) {
    throw new StreamError(
      "unsupported-stanza-type",
      `A component link carries message, presence and iq only, not <${element.name}>`,
    );
  }
}

/** Whether the domain of `address` is covered by one of the patterns. */
export function addressAllowed(address: string, patterns: readonly string[]): boolean {
  const domain = domainOf(address);
  if (domain === "") return false;
  return patterns.some((pattern) => patternCovers(pattern, domain));
}
