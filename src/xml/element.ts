/** An XML element tree: build, query and serialize the elements that travel as XMPP stanzas. */

/** A child of an element: another element or a run of text (unescaped). */
export type XmlNode = Element | string;

/** Attributes as written, including `xmlns` and `xmlns:prefix` declarations. */
export type Attributes = Record<string, string>;

/**
 * One XML element. `name` is the qualified name as written (`stream:features`), `attrs` are the
 * attributes as written, and `ns` is the resolved namespace: the parser fills it in from the
 * enclosing declarations, and a built element derives it from its own or its parent's `xmlns`.
 *
 * Elements are mutable while being built; once a packet is delivered it is shared by every
 * recipient and must not change (build a new one, or `clone()`).
 */
export class Element {
  name: string;
  attrs: Attributes;
  children: XmlNode[];
  /** The element this one was appended to while building (used by `up()` and `ns`). */
  parent: Element | undefined;
  /** The namespace the parser resolved, when known; otherwise derived on demand. */
  #ns: string | undefined;

  constructor(name: string, attrs: Attributes = {}, children: XmlNode[] = [], ns?: string) {
    this.name = name;
    this.attrs = attrs;
    this.children = children;
    this.parent = undefined;
    this.#ns = ns;
    for (const child of children) if (typeof child !== "string") child.parent ??= this;
  }

  /** The local part of the name (`features` for `stream:features`). */
  get local(): string {
    const colon = this.name.indexOf(":");
    return colon < 0 ? this.name : this.name.slice(colon + 1);
  }

  /** The prefix of the name, or "" when unprefixed. */
  get prefix(): string {
    const colon = this.name.indexOf(":");
    return colon < 0 ? "" : this.name.slice(0, colon);
  }

  /** The resolved namespace URI of this element ("" when none is declared). */
  get ns(): string {
    if (this.#ns !== undefined) return this.#ns;
    return this.lookupNamespace(this.prefix) ?? "";
  }

  /** Fixes the resolved namespace (the parser uses this; a stanza keeps it when detached). */
  set ns(value: string) {
    this.#ns = value;
  }

  /** Finds the namespace bound to `prefix` ("" = default) here or in an ancestor. */
  lookupNamespace(prefix: string): string | undefined {
    const key = prefix === "" ? "xmlns" : `xmlns:${prefix}`;
    // deno-lint-ignore no-this-alias
    for (let el: Element | undefined = this; el; el = el.parent) {
      const value = el.attrs[key];
      if (value !== undefined) return value;
      if (el.#ns !== undefined && el.prefix === prefix) return el.#ns;
    }
    return undefined;
  }

  /** True when this element has the local name and (if given) the namespace. */
  is(local: string, ns?: string): boolean {
    return this.local === local && (ns === undefined || this.ns === ns);
  }

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  /** Sets (or with `undefined`, removes) an attribute; returns this for chaining. */
  setAttr(name: string, value: string | undefined): this {
    if (value === undefined) delete this.attrs[name];
    else this.attrs[name] = value;
    return this;
  }

  /** Child elements (not text). */
  get elements(): Element[] {
    const out: Element[] = [];
    for (const child of this.children) if (typeof child !== "string") out.push(child);
    return out;
  }

  /** The first child element, or undefined (no array made, unlike `elements[0]`). */
  firstElement(): Element | undefined {
    for (const child of this.children) if (typeof child !== "string") return child;
    return undefined;
  }

  /** The first child element with this local name (and namespace, when given). */
  getChild(local: string, ns?: string): Element | undefined {
    for (const child of this.children) {
      if (typeof child !== "string" && child.is(local, ns)) return child;
    }
    return undefined;
  }

  /** Every child element with this local name (and namespace, when given). */
  getChildren(local: string, ns?: string): Element[] {
    const out: Element[] = [];
    for (const child of this.children) {
      if (typeof child !== "string" && child.is(local, ns)) out.push(child);
    }
    return out;
  }

  /** The first child element in this namespace, whatever its name (`<query xmlns=…>`). */
  getChildByNs(ns: string): Element | undefined {
    for (const child of this.children) {
      if (typeof child !== "string" && child.ns === ns) return child;
    }
    return undefined;
  }

  /** The text of the first matching child, or undefined when there is no such child. */
  getChildText(local: string, ns?: string): string | undefined {
    return this.getChild(local, ns)?.text();
  }

  /** The concatenated text directly inside this element. */
  text(): string {
    let out = "";
    for (const child of this.children) if (typeof child === "string") out += child;
    return out;
  }

  /** Appends a child element or text and returns this. */
  append(...nodes: XmlNode[]): this {
    for (const node of nodes) {
      if (typeof node !== "string") node.parent = this;
      this.children.push(node);
    }
    return this;
  }

  /** Builder: appends a new child element and returns it (`el.c("body").t("hi").up()`). */
  c(name: string, attrs: Attributes = {}): Element {
    const child = new Element(name, attrs);
    this.append(child);
    return child;
  }

  /** Builder: appends text and returns this. */
  t(text: string): this {
    if (text !== "") this.children.push(text);
    return this;
  }

  /** Builder: returns the parent (or this element at the root). */
  up(): Element {
    return this.parent ?? this;
  }

  /** Removes the matching child elements; returns this. */
  remove(local: string, ns?: string): this {
    this.children = this.children.filter((child) =>
      typeof child === "string" || !child.is(local, ns)
    );
    return this;
  }

  /**
   * A deep copy detached from any parent. The copy keeps the resolved namespace, so a stanza
   * cloned out of a stream still knows it is `jabber:client`.
   */
  clone(): Element {
    const copy = new Element(this.name, { ...this.attrs }, [], this.ns);
    for (const child of this.children) {
      copy.append(typeof child === "string" ? child : child.clone());
    }
    return copy;
  }

  /** Serializes the element, escaping text and attribute values. */
  toString(): string {
    return serialize(this);
  }
}

// A parser turns a literal CR into LF and TAB/LF/CR in attribute values into spaces (XML 1.0
// §2.11, §3.3.3): writing them as character references is what makes them survive a round trip.
const TEXT_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\r": "&#13;",
};
const ATTR_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\t": "&#9;",
  "\n": "&#10;",
  "\r": "&#13;",
};
const TEXT_SPECIAL = /[&<>\r]/g;
const ATTR_SPECIAL = /[&<>"'\t\n\r]/g;

/** Escapes character data for use between tags. */
export function escapeText(text: string): string {
  TEXT_SPECIAL.lastIndex = 0;
  return TEXT_SPECIAL.test(text) ? text.replace(TEXT_SPECIAL, (ch) => TEXT_ESCAPES[ch]) : text;
}

/** Escapes an attribute value for use inside single or double quotes. */
export function escapeAttr(value: string): string {
  ATTR_SPECIAL.lastIndex = 0;
  return ATTR_SPECIAL.test(value) ? value.replace(ATTR_SPECIAL, (ch) => ATTR_ESCAPES[ch]) : value;
}

/** The start tag of an element without closing it (`<stream:stream …>`), as streams open. */
export function startTag(el: Element): string {
  let out = "<" + el.name;
  for (const key in el.attrs) out += " " + key + "='" + escapeAttr(el.attrs[key]) + "'";
  return out + ">";
}

function serialize(el: Element): string {
  let out = "<" + el.name;
  for (const key in el.attrs) out += " " + key + "='" + escapeAttr(el.attrs[key]) + "'";
  if (el.children.length === 0) return out + "/>";
  out += ">";
  for (const child of el.children) {
    out += typeof child === "string" ? escapeText(child) : serialize(child);
  }
  return out + "</" + el.name + ">";
}

/** Shorthand to build an element: `xml("message", { to }, xml("body", {}, "hi"))`. */
export function xml(name: string, attrs: Attributes = {}, ...children: XmlNode[]): Element {
  const el = new Element(name, attrs);
  for (const child of children) {
    if (typeof child === "string") el.t(child);
    else el.append(child);
  }
  return el;
}
