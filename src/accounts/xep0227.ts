/**
 * XEP-0227 (Portable Import/Export Format for XMPP-IM Servers, `urn:xmpp:pie:0`): reads the files
 * ejabberd (`ejabberdctl export_piefxis`) and Prosody (`prosody-migrator` to `xep0227`) write, and
 * writes the same format, one `<user>` at a time.
 *
 * What the real tools write (the fixtures under `tests/fixtures/xep0227/` were made by them):
 * - Prosody 0.12 writes one file per user, `<server-data><host jid><user name>` with
 *   `<scram-credentials xmlns="urn:xmpp:pie:0#scram" mechanism="SCRAM-SHA-1">` holding
 *   `<iter-count>`, `<salt>`, `<server-key>` and `<stored-key>` in base64, a roster `<query>`
 *   with `version`, pending inbound requests as `<presence type="subscribe" from>` children of
 *   `<user>`, the vCard, and private XML. A plain-text store gives `password="…"` instead.
 * - ejabberd 23.01 writes a main file of `<xi:include href>` (XInclude) pointing at one file per
 *   host whose root is `<host>`. A host with `auth_password_format: scram` gets the same
 *   `<scram-credentials>` element, but with every value base64-encoded twice (ejabberd keeps the
 *   values base64-encoded internally and encodes them again on export); a plain host gets
 *   `password="…"`. Older ejabberd releases wrote `password="scram:StoredKey,ServerKey,Salt,
 *   Iterations"` (again double-encoded; newer ones put `sha256,` after `scram:` for SHA-256).
 *   Offline messages come as `<offline-messages>` of `jabber:client` messages with `<delay>`.
 * Both encodings are accepted: a value is taken as double-encoded exactly when its first
 * decoding is not a key of the hash's length but its second one is.
 *
 * The reader parses each file whole with `parseDocument` (saxes): a 10,000-account file is a
 * few megabytes, which is fine; users are then handed out one at a time.
 */
import { parseDocument } from "../xml/document.ts";
import { Element, escapeAttr } from "../xml/element.ts";
import type { ScramCredential, ScramHash } from "./credentials.ts";

export const NS_PIE = "urn:xmpp:pie:0";
/** The namespace of XEP-0227 before version 1.0, which old ejabberd releases still write. */
export const NS_PIE_OLD = "http://www.xmpp.org/extensions/xep-0227.html#ns";
export const NS_PIE_SCRAM = "urn:xmpp:pie:0#scram";
export const NS_XINCLUDE = "http://www.w3.org/2001/XInclude";

const NS_ROSTER = "jabber:iq:roster";
const NS_VCARD = "vcard-temp";
const NS_PRIVATE = "jabber:iq:private";
const NS_CLIENT = "jabber:client";

/** One account of a XEP-0227 file, in terms the server stores. */
export interface PieUser {
  /** The host (`<host jid>`). */
  host: string;
  /** The localpart (`<user name>`). */
  name: string;
  /** A plain-text password from the file, if it had one (never written back out). */
  password?: string;
  /** SCRAM credentials from the file. */
  scram: ScramCredential[];
  /** Roster items (`<item jid subscription ask? name?><group/>…`), as in `jabber:iq:roster`. */
  rosterItems: Element[];
  /** Bare JIDs whose subscription requests wait for an answer. */
  pendingIn: string[];
  /** `<vCard xmlns="vcard-temp">`. */
  vcard?: Element;
  /** The elements of private XML storage (XEP-0049), each with its own namespace. */
  privateXml: Element[];
  /** Offline messages (`jabber:client`), oldest first. */
  offline: Element[];
  /** Children of `<user>` this server does not import (for example privacy lists, PEP). */
  ignored: string[];
}

/** What the reader needs from outside: files (for XInclude) and a place for warnings. */
export interface PieReadIo {
  readTextFile(path: string): Promise<string>;
  /** A problem that skips part of the file; the rest is still read. */
  warn(message: string): void;
}

/** XInclude nesting deeper than this is taken for a loop. */
const MAX_INCLUDE_DEPTH = 8;

/**
 * Reads a XEP-0227 file (and the files it includes with XInclude, relative to its folder) and
 * yields its users in document order. Throws `XmlError` for a file that is not well-formed.
 */
export async function* readPie(file: string, io: PieReadIo): AsyncGenerator<PieUser> {
  yield* readFile(file, io, [], undefined);
}

async function* readFile(
  file: string,
  io: PieReadIo,
  including: string[],
  host: string | undefined,
): AsyncGenerator<PieUser> {
  if (including.includes(file) || including.length >= MAX_INCLUDE_DEPTH) {
    throw new Error(`${file} includes itself (through ${including.join(" → ")})`);
  }
  const { root } = parseDocument(await io.readTextFile(file), file);
  yield* readElement(root, file, io, [...including, file], host);
}

async function* readElement(
  element: Element,
  file: string,
  io: PieReadIo,
  including: string[],
  host: string | undefined,
): AsyncGenerator<PieUser> {
  if (element.is("include", NS_XINCLUDE)) {
    const href = element.attrs.href;
    if (!href || /^[a-z][a-z0-9+.-]*:/i.test(href)) {
      io.warn(`${file}: skipped <xi:include href="${href ?? ""}">: only relative files are read`);
      return;
    }
    yield* readFile(resolveHref(file, href), io, including, host);
    return;
  }
  if (!isPie(element)) {
    io.warn(`${file}: skipped <${element.name}> (namespace "${element.ns}"): not XEP-0227`);
    return;
  }
  switch (element.local) {
    case "server-data":
      for (const child of element.elements) {
        yield* readElement(child, file, io, including, undefined);
      }
      return;
    case "host": {
      const jid = element.attrs.jid;
      if (!jid) {
        io.warn(`${file}: skipped a <host> without jid`);
        return;
      }
      for (const child of element.elements) yield* readElement(child, file, io, including, jid);
      return;
    }
    case "user": {
      if (host === undefined) {
        io.warn(`${file}: skipped a <user> outside <host>`);
        return;
      }
      const user = readUser(element, host, file, io);
      if (user) yield user;
      return;
    }
    default:
      io.warn(`${file}: skipped <${element.local}>: not a XEP-0227 element`);
  }
}

function isPie(element: Element): boolean {
  return element.ns === NS_PIE || element.ns === NS_PIE_OLD;
}

/** A path relative to the including file's folder (or absolute). */
function resolveHref(file: string, href: string): string {
  if (href.startsWith("/")) return href;
  const slash = file.lastIndexOf("/");
  return slash < 0 ? href : file.slice(0, slash + 1) + href;
}

/** Reads one `<user>`; undefined (after a warning) when it cannot be imported. */
export function readUser(
  element: Element,
  host: string,
  file: string,
  io: Pick<PieReadIo, "warn">,
): PieUser | undefined {
  const name = element.attrs.name;
  if (!name) {
    io.warn(`${file}: skipped a <user> of ${host} without name`);
    return undefined;
  }
  const where = `${file}: ${name}@${host}`;
  const user: PieUser = {
    host,
    name,
    scram: [],
    rosterItems: [],
    pendingIn: [],
    privateXml: [],
    offline: [],
    ignored: [],
  };
  const password = element.attrs.password;
  if (password !== undefined && password !== "") {
    if (password.startsWith("scram:")) {
      const credential = parseEjabberdScram(password);
      if (credential) user.scram.push(credential);
      else io.warn(`${where}: ignored a password="scram:…" that does not parse`);
    } else user.password = password;
  }
  for (const child of element.elements) {
    if (child.is("scram-credentials", NS_PIE_SCRAM)) {
      const credential = parseScramCredentials(child);
      if (credential) user.scram.push(credential);
      else io.warn(`${where}: ignored <scram-credentials> that do not parse`);
    } else if (child.is("query", NS_ROSTER)) {
      user.rosterItems.push(...child.getChildren("item", NS_ROSTER).map(detach));
    } else if (child.local === "presence" && child.attrs.type === "subscribe") {
      // Prosody's pending inbound requests; it writes them in jabber:client or unqualified.
      const from = child.attrs.from;
      if (from && !user.pendingIn.includes(from)) user.pendingIn.push(from);
    } else if (child.is("vCard", NS_VCARD)) {
      user.vcard = detach(child);
    } else if (child.is("query", NS_PRIVATE)) {
      user.privateXml.push(...child.elements.map(detach));
    } else if (child.local === "offline-messages") {
      user.offline.push(...child.getChildren("message").map(detach));
    } else {
      user.ignored.push(`<${child.local} xmlns="${child.ns}">`);
    }
  }
  return user;
}

/**
 * A copy of `element` that keeps its namespace once out of the document: `xmlns` is written on
 * it when it only inherited the namespace from an ancestor.
 */
function detach(element: Element): Element {
  const copy = element.clone();
  if (copy.attrs.xmlns === undefined && copy.prefix === "") copy.attrs.xmlns = element.ns;
  return copy;
}

const KEY_LENGTHS: Record<ScramHash, number> = { "SHA-1": 20, "SHA-256": 32 };

/** Reads `<scram-credentials mechanism="SCRAM-SHA-1|SCRAM-SHA-256">`; undefined if unusable. */
export function parseScramCredentials(element: Element): ScramCredential | undefined {
  const mechanism = element.attrs.mechanism;
  const hash = mechanism === "SCRAM-SHA-1"
    ? "SHA-1"
    : mechanism === "SCRAM-SHA-256"
    ? "SHA-256"
    : undefined;
  if (!hash) return undefined;
  const text = (local: string) => element.getChildText(local)?.trim() ?? "";
  return credential(
    hash,
    text("iter-count"),
    text("salt"),
    text("stored-key"),
    text("server-key"),
  );
}

/** Reads ejabberd's `scram:[sha256,]StoredKey,ServerKey,Salt,Iterations`; undefined if unusable. */
export function parseEjabberdScram(password: string): ScramCredential | undefined {
  const fields = password.slice("scram:".length).split(",");
  let hash: ScramHash = "SHA-1";
  if (fields.length === 5) {
    const name = fields.shift()!.toLowerCase();
    if (name === "sha256") hash = "SHA-256";
    else if (name !== "sha") return undefined;
  }
  if (fields.length !== 4) return undefined;
  const [storedKey, serverKey, salt, iterations] = fields;
  return credential(hash, iterations, salt, storedKey, serverKey);
}

function credential(
  hash: ScramHash,
  iterationsText: string,
  saltText: string,
  storedKeyText: string,
  serverKeyText: string,
): ScramCredential | undefined {
  const iterations = Number(iterationsText);
  if (!/^\d+$/.test(iterationsText) || !Number.isSafeInteger(iterations) || iterations < 1) {
    return undefined;
  }
  const length = KEY_LENGTHS[hash];
  const once = (text: string) => base64(text);
  const twice = (text: string) => {
    const first = base64(text);
    return first && base64(new TextDecoder().decode(first));
  };
  let decode = once;
  let storedKey = once(storedKeyText);
  if (storedKey?.length !== length) {
    decode = twice;
    storedKey = twice(storedKeyText);
  }
  const serverKey = decode(serverKeyText);
  const salt = decode(saltText);
  if (storedKey?.length !== length || serverKey?.length !== length || !salt?.length) {
    return undefined;
  }
  return { hash, iterations, salt, storedKey, serverKey };
}

function base64(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.fromBase64(text.replace(/\s+/g, ""));
  } catch {
    return undefined;
  }
}

/** The start of a file: the XML declaration and `<server-data>`. */
export function pieHead(): string {
  return `<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='${NS_PIE}'>\n`;
}

export function pieTail(): string {
  return "</server-data>\n";
}

export function hostStart(host: string): string {
  return `<host jid='${escapeAttr(host)}'>\n`;
}

export function hostEnd(): string {
  return "</host>\n";
}

/**
 * One `<user>` as Prosody writes it: SCRAM credentials (never a password), roster, pending
 * requests, vCard, private XML, and offline messages as ejabberd writes them.
 */
export function userElement(user: Omit<PieUser, "password" | "ignored">): Element {
  const element = new Element("user", { name: user.name });
  for (const entry of user.scram) {
    element.c("scram-credentials", { xmlns: NS_PIE_SCRAM, mechanism: `SCRAM-${entry.hash}` })
      .c("iter-count").t(String(entry.iterations)).up()
      .c("salt").t(entry.salt.toBase64()).up()
      .c("server-key").t(entry.serverKey.toBase64()).up()
      .c("stored-key").t(entry.storedKey.toBase64()).up()
      .up();
  }
  if (user.rosterItems.length > 0) {
    const query = element.c("query", { xmlns: NS_ROSTER });
    for (const item of user.rosterItems) {
      const copy = item.clone();
      delete copy.attrs.xmlns;
      query.append(copy);
    }
  }
  for (const from of user.pendingIn) {
    element.append(new Element("presence", { xmlns: NS_CLIENT, type: "subscribe", from }));
  }
  if (user.vcard) element.append(withXmlns(user.vcard, NS_VCARD));
  if (user.privateXml.length > 0) {
    element.c("query", { xmlns: NS_PRIVATE }).append(...user.privateXml.map((e) => withXmlns(e)));
  }
  if (user.offline.length > 0) {
    element.c("offline-messages").append(...user.offline.map((m) => withXmlns(m, NS_CLIENT)));
  }
  return element;
}

/** A copy with `xmlns` written on it (its own resolved namespace unless one is given). */
function withXmlns(element: Element, ns = element.ns): Element {
  const copy = element.clone();
  if (copy.prefix === "") copy.attrs.xmlns = copy.attrs.xmlns ?? ns;
  return copy;
}
