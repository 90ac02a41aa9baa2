/**
 * XEP-0115 Entity Capabilities for PEP (XEP-0163 §4.3.2 "filtered notifications"): the
 * verification string and hash of a disco#info answer (§5.1, §5.4), and the cache of what each
 * `ver` stands for. A `ver` whose answer hashes to it is cached by hash and shared by every
 * client that sends it; an answer that does not hash to its `ver` (a buggy client, or a lie) is
 * kept for that one full JID only, so it cannot poison what other clients are taken to want.
 */
import { NS_CAPS, NS_DATA_FORMS } from "../../../../util/ns.ts";
import type { Element } from "../../../../xml/element.ts";

/** The `<c/>` of a presence: whose software and which version of its features. */
export interface CapsRef {
  node: string;
  ver: string;
  hash: string;
}

/** The caps a presence carries, if any (legacy `<c/>` without `hash`, §1.2, is ignored). */
export function capsOf(presence: Element): CapsRef | undefined {
  const c = presence.getChild("c", NS_CAPS);
  const { node, ver, hash } = c?.attrs ?? {};
  if (!node || !ver || !hash) return undefined;
  return { node, ver, hash };
}

/** The cache key of a `ver`: a hash name and its value, as a `ver` is unique only with its hash. */
export function capsKey(caps: CapsRef): string {
  return `${caps.hash} ${caps.ver}`;
}

const byOctets = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** §5.1: the string a `ver` hashes, from the `<query/>` of a disco#info answer. */
export function verificationString(query: Element): string {
  const identities = query.getChildren("identity").map((identity) => {
    const { category = "", type = "", name = "" } = identity.attrs;
    return `${category}/${type}/${identity.attrs["xml:lang"] ?? ""}/${name}`;
  });
  let text = identities.sort(byOctets).map((identity) => identity + "<").join("");
  const features = query.getChildren("feature").map((feature) => feature.attrs.var ?? "");
  text += features.sort(byOctets).map((feature) => feature + "<").join("");
  const forms = query.getChildren("x", NS_DATA_FORMS).map((form) => {
    const fields = form.getChildren("field");
    const formType = fields.find((field) => field.attrs.var === "FORM_TYPE")?.getChildText(
      "value",
    ) ?? "";
    const rest = fields.filter((field) => field.attrs.var !== "FORM_TYPE")
      .sort((a, b) => byOctets(a.attrs.var ?? "", b.attrs.var ?? ""))
      .map((field) => {
        const values = field.getChildren("value").map((value) => value.text()).sort(byOctets);
        return `${field.attrs.var ?? ""}<` + values.map((value) => value + "<").join("");
      });
    return { formType, text: `${formType}<` + rest.join("") };
  });
  text += forms.sort((a, b) => byOctets(a.formType, b.formType)).map((form) => form.text).join(
    "",
  );
  return text;
}

/** The Web Crypto names of the hash functions of §5.4 that may name a `ver` (IANA names). */
const HASHES: Record<string, string> = {
  "sha-1": "SHA-1",
  "sha-256": "SHA-256",
  "sha-384": "SHA-384",
  "sha-512": "SHA-512",
};

/** §5.4 step 3: the `ver` of a disco#info answer, or undefined for a hash we do not know. */
export async function verOf(query: Element, hash: string): Promise<string | undefined> {
  const algorithm = HASHES[hash.toLowerCase()];
  if (!algorithm) return undefined;
  const bytes = new TextEncoder().encode(verificationString(query));
  const digest = new Uint8Array(await crypto.subtle.digest(algorithm, bytes));
  return btoa(String.fromCharCode(...digest));
}

/** The features each `ver` stands for, and the queries out for those not known yet. */
export class CapsCache {
  /** Verified: by caps key. */
  readonly #shared = new Map<string, ReadonlySet<string>>();
  /** Unverified: by full JID, as that client answered (§5.4 step 3.8: not cached for others). */
  readonly #own = new Map<string, ReadonlySet<string>>();
  /** Full JID → the caps asked of it and when, so one client is asked once at a time. */
  readonly #asking = new Map<string, { caps: CapsRef; since: number }>();
  /** Most cached verified `ver`s kept; the oldest goes first (a map keeps insertion order). */
  readonly #limit: number;

  constructor(limit = 1000) {
    this.#limit = limit;
  }

  /** The features behind `caps` as sent by `full`, if known. */
  features(caps: CapsRef | undefined, full: string): ReadonlySet<string> | undefined {
    if (!caps) return undefined;
    return this.#shared.get(capsKey(caps)) ?? this.#own.get(full);
  }

  /**
   * True when `full` should be asked for `caps` now: not known, and not asked in the last
   * `retryMs` (an answer that never comes is asked for again on a later presence).
   */
  shouldAsk(caps: CapsRef, full: string, now: number, retryMs = 60_000): boolean {
    if (this.features(caps, full)) return false;
    const asked = this.#asking.get(full);
    if (asked && capsKey(asked.caps) === capsKey(caps) && now - asked.since < retryMs) {
      return false;
    }
    this.#asking.set(full, { caps, since: now });
    return true;
  }

  /**
   * Takes `full`'s answer to our query: verified against the `ver` asked, cached by key, or
   * kept for that JID alone. Answers the caps it was for, or undefined when nothing was asked.
   */
  async answered(full: string, query: Element): Promise<CapsRef | undefined> {
    const asked = this.#asking.get(full);
    if (!asked) return undefined;
    this.#asking.delete(full);
    const features = new Set(
      query.getChildren("feature").map((feature) => feature.attrs.var ?? ""),
    );
    if (await verOf(query, asked.caps.hash) === asked.caps.ver) {
      if (this.#shared.size >= this.#limit) {
        this.#shared.delete(this.#shared.keys().next().value!);
      }
      this.#shared.set(capsKey(asked.caps), features);
    } else this.#own.set(full, features);
    return asked.caps;
  }

  /** The query to `full` failed: forget it, so a later presence asks again. */
  failed(full: string): void {
    this.#asking.delete(full);
  }

  /** `full` went away: its unverified answer and any query out go too. */
  forget(full: string): void {
    this.#own.delete(full);
    this.#asking.delete(full);
  }
}
