/**
 * XMPP addresses: parsing, validation and normalization of JIDs per RFC 7622 (localpart by the
 * PRECIS UsernameCaseMapped profile, resourcepart by OpaqueString, domainpart by IDNA2008 rules
 * or as an IP literal), using the PRECIS code in `precis.ts`.
 *
 * Plain ASCII parts take a fast path that skips Unicode work: ASCII is NFC-stable, has no
 * right-to-left characters, and its PRECIS properties are fixed.
 */

import { domainToASCII, domainToUnicode } from "node:url";
import {
  bidiRuleViolation,
  checkClass,
  codePointName,
  codePoints,
  hasRtl,
  opaqueString,
  PrecisError,
  usernameCaseMapped,
  utf8Length,
  widthMap,
} from "./precis.ts";

/** A malformed address; rendered by callers as the `jid-malformed` stanza or stream error. */
export class JidError extends Error {
  readonly condition = "jid-malformed" as const;
  constructor(message: string) {
    super(message);
    this.name = "JidError";
  }
}

/** RFC 7622 §3.1: each part is at most 1023 octets of UTF-8. */
const MAX_PART_OCTETS = 1023;

/** RFC 7622 §3.3.1: besides what PRECIS disallows, these may not appear in a localpart. */
const LOCAL_FORBIDDEN = /["&'/:<>@]/;

function checkLength(part: string, value: string): void {
  const n = value.length <= MAX_PART_OCTETS / 3 ? value.length : utf8Length(value);
  if (n > MAX_PART_OCTETS) {
    throw new JidError(`${part} is longer than ${MAX_PART_OCTETS} octets`);
  }
}

function normalizeLocal(local: string): string {
  if (local === "") return "";
  let out: string;
  try {
    out = usernameCaseMapped(local);
  } catch (e) {
    if (e instanceof PrecisError) throw new JidError(`Localpart ${e.reason}`);
    throw e;
  }
  const bad = LOCAL_FORBIDDEN.exec(out);
  if (bad) throw new JidError(`Localpart contains the forbidden character '${bad[0]}'`);
  checkLength("Localpart", out);
  return out;
}

function normalizeResource(resource: string): string {
  if (resource === "") return "";
  let out: string;
  try {
    out = opaqueString(resource);
  } catch (e) {
    if (e instanceof PrecisError) throw new JidError(`Resourcepart ${e.reason}`);
    throw e;
  }
  checkLength("Resourcepart", out);
  return out;
}

// --- Domainpart --------------------------------------------------------------------------------

/** A lower-case LDH hostname whose labels are 1-63 octets with no hyphen at either end. */
const LDH_HOSTNAME =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Labels with "--" in the third and fourth place are reserved (RFC 5890 §2.3.1 R-LDH). */
const RESERVED_LABEL = /(?:^|\.)[a-z0-9]{2}--/;
const ALL_NUMERIC = /^[0-9.]+$/;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const IDEOGRAPHIC_DOTS = /[\u3002\uff0e\uff61]/g;
const IPV6_TEXT = /^[0-9a-f:.]+$/;

/**
 * Normalize a domainpart (RFC 7622 §3.2): strip one trailing dot, map ideographic full stops,
 * width-map, lower-case, NFC, turn A-labels into U-labels, and check it is a valid IDNA2008
 * hostname, a dotted-quad IPv4 address or a bracketed IPv6 address.
 */
export function normalizeDomain(input: string): string {
  let d = input;
  if (d.endsWith(".")) d = d.slice(0, -1);
  if (d === "") throw new JidError("Domainpart is empty");
  if (d.charCodeAt(0) === 0x5b /* [ */) return normalizeIpv6(d);
  // Fast path: an already lower-case LDH name, the overwhelmingly common case.
  if (LDH_HOSTNAME.test(d) && !RESERVED_LABEL.test(d)) {
    if (ALL_NUMERIC.test(d)) checkIpv4(d);
    checkLength("Domainpart", d);
    return d;
  }
  let mapped = d.replace(IDEOGRAPHIC_DOTS, ".");
  mapped = widthMap(mapped).toLowerCase().normalize("NFC");
  if (mapped !== d && mapped.endsWith(".")) mapped = mapped.slice(0, -1);
  if (mapped === "") throw new JidError("Domainpart is empty");
  if (ALL_NUMERIC.test(mapped)) {
    checkIpv4(mapped);
    return mapped;
  }
  const labels = mapped.split(".").map(normalizeLabel);
  const cpsList = labels.map(codePoints);
  // RFC 5893 §1.4: the Bidi Rule applies to every label once any label is right-to-left.
  if (cpsList.some(hasRtl)) {
    for (let i = 0; i < labels.length; i++) {
      const why = bidiRuleViolation(cpsList[i]);
      if (why) {
        throw new JidError(`Domainpart label "${labels[i]}" breaks the Bidi Rule: it ${why}`);
      }
    }
  }
  for (const label of labels) {
    if (LDH_LABEL.test(label)) continue;
    // The 63-octet limit counts the A-label; UTS #46 also catches what the checks above do not.
    const ascii = domainToASCII(label);
    if (ascii === "") throw new JidError(`Domainpart label "${label}" is not a valid IDNA label`);
    if (ascii.length > 63) {
      throw new JidError(`Domainpart label "${label}" is longer than 63 octets as an A-label`);
    }
  }
  const out = labels.join(".");
  checkLength("Domainpart", out);
  return out;
}

function normalizeLabel(label: string): string {
  if (label === "") throw new JidError("Domainpart contains an empty label");
  if (label.startsWith("xn--")) {
    // An A-label: RFC 7622 §3.2.1 wants it as its U-label, which must round-trip exactly.
    if (!LDH_LABEL.test(label)) throw new JidError(`Domainpart label "${label}" is malformed`);
    const ulabel = domainToUnicode(label);
    if (ulabel === "" || ulabel.includes("\ufffd") || domainToASCII(ulabel) !== label) {
      throw new JidError(`Domainpart label "${label}" is not a valid A-label`);
    }
    if (LDH_LABEL.test(ulabel)) {
      throw new JidError(`Domainpart label "${label}" encodes only ASCII`);
    }
    checkULabel(ulabel);
    if (ulabel !== ulabel.toLowerCase().normalize("NFC")) {
      throw new JidError(`Domainpart label "${label}" is not in normalized form`);
    }
    return ulabel;
  }
  if (LDH_LABEL.test(label)) {
    if (label.length > 63) throw new JidError("Domainpart label is longer than 63 octets");
    if (label.slice(2, 4) === "--") {
      throw new JidError(`Domainpart label "${label}" has a reserved "--" in third place`);
    }
    return label;
  }
  checkULabel(label);
  return label;
}

const NON_SPACING_START = /^\p{M}/u;

/** RFC 5891 §4.2.3 and RFC 5892 checks on one non-ASCII label (already mapped). */
function checkULabel(label: string): void {
  if (label.startsWith("-") || label.endsWith("-")) {
    throw new JidError(`Domainpart label "${label}" starts or ends with a hyphen`);
  }
  if (label.slice(2, 4) === "--") {
    throw new JidError(`Domainpart label "${label}" has a reserved "--" in third place`);
  }
  if (NON_SPACING_START.test(label)) {
    throw new JidError(`Domainpart label "${label}" starts with a combining mark`);
  }
  const cps = codePoints(label);
  for (const cp of cps) {
    if (cp < 0x80) {
      if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39) || cp === 0x2d) continue;
      throw new JidError(
        `Domainpart contains the disallowed character '${String.fromCodePoint(cp)}'`,
      );
    }
    // IDNA2008 (RFC 5892 §2.2 Unstable) refuses what NFKC and case folding would change; the
    // rest of its derivation matches the PRECIS IdentifierClass checked below.
    const c = String.fromCodePoint(cp);
    if (c.normalize("NFKC").toLowerCase() !== c) {
      throw new JidError(`Domainpart contains the disallowed code point ${codePointName(cp)}`);
    }
  }
  try {
    checkClass(cps, false);
  } catch (e) {
    if (e instanceof PrecisError) throw new JidError(`Domainpart ${e.reason}`);
    throw e;
  }
}

/** A dotted-quad IPv4 address (RFC 3986 IPv4address: no leading zeros, each octet ≤ 255). */
function checkIpv4(d: string): void {
  const parts = d.split(".");
  const ok = parts.length === 4 &&
    parts.every((p) => p !== "" && p.length <= 3 && (p === "0" || p[0] !== "0") && +p <= 255);
  if (!ok) throw new JidError(`Domainpart "${d}" is not a valid IPv4 address`);
}

/** A bracketed IPv6 address, returned in its RFC 5952 canonical text form. */
function normalizeIpv6(d: string): string {
  const inner = d.endsWith("]") ? d.slice(1, -1).toLowerCase() : "";
  if (IPV6_TEXT.test(inner)) {
    // The WHATWG URL host parser is a strict RFC 4291 parser whose serializer is RFC 5952's
    // canonical form (lower case, longest zero run compressed); it touches no network.
    try {
      const host = new URL(`http://[${inner}]/`).hostname;
      if (host.startsWith("[")) return host;
    } catch {
      // fall through to the error below
    }
  }
  throw new JidError(`Domainpart "${d}" is not a valid IPv6 address`);
}

// --- JID --------------------------------------------------------------------------------------

/** An XMPP address (RFC 7622), always held in normalized form so equal JIDs compare equal. */
export class JID {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;

  /** Validate and normalize the parts; "" means absent for `local` and `resource`. */
  constructor(local: string, domain: string, resource = "") {
    this.local = normalizeLocal(local);
    this.domain = normalizeDomain(domain);
    this.resource = normalizeResource(resource);
  }

  /**
   * Parse "local@domain/resource" (RFC 7622 §3.1); throws JidError when malformed. A JID is
   * immutable, so the same few thousand addresses a server sees on every stanza are parsed
   * (PRECIS, IDNA checks) once and then shared from a bounded cache.
   */
  static parse(text: string): JID {
    const known = PARSED.get(text);
    if (known) return known;
    const jid = JID.#parse(text);
    if (PARSED.size >= PARSED_MAX) PARSED.clear();
    PARSED.set(text, jid);
    return jid;
  }

  static #parse(text: string): JID {
    // The resourcepart starts at the first '/', and may itself contain '@' and '/'.
    const slash = text.indexOf("/");
    const head = slash === -1 ? text : text.slice(0, slash);
    const resource = slash === -1 ? "" : text.slice(slash + 1);
    // The domainpart is what follows the first '@' before that '/' (RFC 7622 §3.2).
    const at = head.indexOf("@");
    const local = at === -1 ? "" : head.slice(0, at);
    const domain = at === -1 ? head : head.slice(at + 1);
    if (at === 0) throw new JidError("Localpart is empty although '@' is present");
    if (slash !== -1 && resource === "") {
      throw new JidError("Resourcepart is empty although '/' is present");
    }
    if (domain === "") throw new JidError("Domainpart is empty");
    return new JID(local, domain, resource);
  }

  /** Like parse, but undefined instead of an error. */
  static tryParse(text: string): JID | undefined {
    try {
      return JID.parse(text);
    } catch (e) {
      if (e instanceof JidError) return undefined;
      throw e;
    }
  }

  /** Build from parts already normalized, skipping validation. */
  static #trusted(local: string, domain: string, resource: string): JID {
    const jid = Object.create(JID.prototype) as { -readonly [K in keyof JID]: JID[K] };
    jid.local = local;
    jid.domain = domain;
    jid.resource = resource;
    return jid as JID;
  }

  /** This address without its resourcepart. */
  get bare(): JID {
    return this.resource === "" ? this : JID.#trusted(this.local, this.domain, "");
  }

  get isBare(): boolean {
    return this.resource === "";
  }

  /** The same bare address with another resourcepart ("" for none). */
  withResource(resource: string): JID {
    return JID.#trusted(this.local, this.domain, normalizeResource(resource));
  }

  bareString(): string {
    return this.local === "" ? this.domain : `${this.local}@${this.domain}`;
  }

  toString(): string {
    const bare = this.bareString();
    return this.resource === "" ? bare : `${bare}/${this.resource}`;
  }

  equals(other: JID): boolean {
    return this.domain === other.domain && this.local === other.local &&
      this.resource === other.resource;
  }
}

const PLAIN_DOMAIN = /^[a-z0-9.-]*$/;

/** Addresses already parsed (see `JID.parse`); cleared whole when full, which is cheap. */
const PARSED = new Map<string, JID>();
const PARSED_MAX = 20_000;

/**
 * Fast path for routing: the domain of a JID string without full validation (lower-cased,
 * trailing dot removed). Internationalized names (non-ASCII or with an "xn--" label) get the
 * full domainpart normalization when it succeeds, so the result matches `JID.parse` for every
 * valid JID.
 */
export function domainOf(jid: string): string {
  const slash = jid.indexOf("/");
  const head = slash === -1 ? jid : jid.slice(0, slash);
  let domain = head.slice(head.indexOf("@") + 1).toLowerCase();
  if (domain.endsWith(".")) domain = domain.slice(0, -1);
  if (PLAIN_DOMAIN.test(domain) && !domain.includes("xn--")) return domain;
  try {
    return normalizeDomain(domain);
  } catch {
    return domain;
  }
}

/**
 * The normalized bare JID of a JID string (`Juliet@Example.org/balcony` → `juliet@example.org`),
 * or undefined when absent or not a valid JID. Parsing goes through `JID.parse`'s cache, so a
 * second call for the same address costs a map lookup; never cut a resource off with a regex,
 * which would skip normalization.
 */
export function bareOf(jid: string | undefined): string | undefined {
  return jid === undefined ? undefined : JID.tryParse(jid)?.bareString();
}
