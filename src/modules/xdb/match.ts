/**
 * The `match` of an XDB insert or remove (DESIGN "Packets between components", xdb): which child
 * item of the stored element a request replaces or removes.
 *
 * Syntax: `name` or `name?attr=value` or `name?a=1&b=2`.
 * - `name` is the child's local name (a prefix in the stored name is ignored); `*` is any name.
 * - every `attr=value` must hold (exact, case-sensitive comparison); `attr=` matches an empty
 *   value, while a missing attribute never matches.
 * - names and values are percent-decoded, so a value holding `&`, `=` or `%` is written `%26`,
 *   `%3D`, `%25` (JID resources may hold them); `xdbMatch()` beside the XDB client
 *   (`src/server/xdb_client.ts`) writes that form.
 * - the FIRST child element that matches is the one selected.
 */

/** A parsed match: a local name (or `*`) and the attribute values that must all hold. */
export interface XdbMatch {
  readonly name: string;
  readonly attrs: readonly (readonly [string, string])[];
}

/** Parses a match string; throws an error whose message tells how to write it. */
export function parseMatch(text: string): XdbMatch {
  const question = text.indexOf("?");
  const name = decode(question < 0 ? text : text.slice(0, question), text);
  if (name === "" || /[\s<>&='"]/.test(name)) {
    throw new Error(
      `Match "${text}" needs an element name first; write it like item or item?jid=bob@example.org`,
    );
  }
  const attrs: [string, string][] = [];
  if (question >= 0) {
    for (const part of text.slice(question + 1).split("&")) {
      const equals = part.indexOf("=");
      if (equals <= 0) {
        throw new Error(
          `Match "${text}" has a condition "${part}" without attr=value; ` +
            `write it like item?jid=bob@example.org`,
        );
      }
      attrs.push([decode(part.slice(0, equals), text), decode(part.slice(equals + 1), text)]);
    }
  }
  return { name, attrs };
}

/** True when an element with this name and these attributes is selected by the match. */
export function matches(
  match: XdbMatch,
  name: string,
  attrs: Readonly<Record<string, string>>,
): boolean {
  if (match.name !== "*") {
    const colon = name.indexOf(":");
    if ((colon < 0 ? name : name.slice(colon + 1)) !== match.name) return false;
  }
  for (const [attr, value] of match.attrs) {
    if (attrs[attr] !== value) return false;
  }
  return true;
}

function decode(part: string, whole: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error(
      `Match "${whole}" has a broken percent escape in "${part}"; write % itself as %25`,
    );
  }
}
