/**
 * An incremental, strict XML parser for XMPP streams (RFC 6120 §4 streams, §11 XML usage).
 *
 * Why our own tokenizer: this is the hot path of the whole server, and neither library fits.
 * ltx (what xmpp.js uses) is fast but not a conforming parser: it accepts mismatched tags,
 * duplicate attributes, `<` in attribute values, unbound prefixes and silently skips comments,
 * processing instructions and DTDs, which RFC 6120 §11 requires us to refuse. saxes is strict but
 * walks the input one code point at a time through a state function per character and builds
 * namespace maps per element, which makes it about half as fast. This tokenizer scans the
 * decoded string with `charCodeAt`/`indexOf`, parses each tag in one pass when it is complete in
 * the buffer, allocates only the strings and objects the element tree keeps, and still checks
 * everything XML 1.0 (Fifth Edition) and Namespaces in XML 1.0 require of a document.
 *
 * Decisions worth knowing:
 * - CDATA sections are allowed: RFC 6120 §11.1 forbids comments, processing instructions, DTDs
 *   and entity references other than the predefined ones, and nothing else. An XML declaration
 *   is allowed only at the very start of a stream (after a `reset()` too); anywhere else it is a
 *   processing instruction and `restricted-xml`.
 * - A byte order mark is U+FEFF, a zero-width no-break space (RFC 6120 §11.6), hence text
 *   outside the root: `not-well-formed`.
 * - Character data directly inside `<stream:stream>` (between stanzas) is checked and dropped:
 *   whitespace there is a keepalive, and nothing else there has a meaning.
 * - `maxStanzaBytes` is counted in UTF-16 code units of decoded text. That is the byte count for
 *   ASCII and bounds the memory a stanza holds either way (a JS string takes one or two bytes per
 *   unit); a stanza of non-ASCII text may be up to three times larger on the wire.
 * - `maxDepth` (default 32) counts the stanza as depth 1. Real traffic (a carbon of a MAM result
 *   of a message with XHTML-IM) stays well under 20; the limit stops stack-deep recursion in the
 *   serializer and in handlers that walk trees.
 * - An entity or character reference is decided on the characters read so far, so every way of
 *   splitting the input gives the same result: `&foo;` is `restricted-xml` from the `f`, and a
 *   character reference may have at most 16 digits.
 * - A second `<stream:stream>` inside the open stream is `invalid-xml` at its start tag: it is
 *   well-formed, but no stanza, and as an element it would end only with the stream itself.
 * - Calling `reset()` from inside a callback discards the rest of the chunk being parsed: data a
 *   client sent after `<starttls/>` must never be read as part of the new stream.
 */

import { type Attributes, Element } from "./element.ts";
import {
  ASCII_NAME,
  isLowSurrogate,
  isNameHighSurrogate,
  isNonAsciiNameChar,
  isNonAsciiNameStart,
  isSpace,
  isXmlChar,
  NAME_START,
} from "./names.ts";
import { Utf8Decoder } from "./utf8.ts";
import { XmlError, type XmlErrorCondition } from "./xml_error.ts";

export { XmlError } from "./xml_error.ts";
export type { XmlErrorCondition } from "./xml_error.ts";

/** The namespace of `<stream:stream>` (RFC 6120 §4.8.1). */
export const NS_STREAMS = "http://etherx.jabber.org/streams";
const NS_XML = "http://www.w3.org/XML/1998/namespace";
const NS_XMLNS = "http://www.w3.org/2000/xmlns/";

/**
 * The names a stream header declares, kept for the whole stream. What the parser slices out of
 * its input is a V8 sliced string that keeps the whole chunk it came from alive (the header chunk,
 * about 150 bytes, for every connection's life); the literal here is shared by all connections.
 */
const HEADER_STRINGS = new Map(
  [NS_STREAMS, "jabber:client", "jabber:server", "jabber:server:dialback", "stream:stream"]
    .map((s) => [s, s]),
);

function shared(s: string): string {
  return HEADER_STRINGS.get(s) ?? s;
}

export interface StreamParserOptions {
  /** Largest stanza accepted, in UTF-16 code units of decoded text (default 256 KiB). */
  maxStanzaBytes?: number;
  /** Deepest element nesting inside a stanza, the stanza itself being 1 (default 32). */
  maxDepth?: number;
}

export interface StreamParserEvents {
  /** The `<stream:stream …>` open tag, as an element without children. */
  onStreamStart(header: Element): void;
  /** Each complete child of the stream root, every element's `ns` resolved. */
  onStanza(stanza: Element): void;
  /** `</stream:stream>`. */
  onStreamEnd(): void;
  /** The first fault; the parser ignores all input after it until `reset()`. */
  onError(error: XmlError): void;
}

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const QUOT = 0x22;
const APOS = 0x27;
const SEMICOLON = 0x3b;
const HASH = 0x23;
const COLON = 0x3a;
const RSQB = 0x5d;
const SP = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** Where the parser is in the document. */
const PROLOG = 0;
const ROOT = 1;
const EPILOG = 2;
const FAILED = 3;

/** A construct returned "need more input". */
const INCOMPLETE = -1;

const PREDEFINED_NAMES = ["amp", "lt", "gt", "quot", "apos"];
const PREDEFINED_VALUES = ["&", "<", ">", '"', "'"];
const CRLF = /\r\n?/g;

/** Marks the internal option that turns a stream parser into a one-element parser. */
const FRAGMENT = Symbol("fragment");
type InternalOptions = StreamParserOptions & { [FRAGMENT]?: boolean };

/** Incremental parser of one XML stream; feed it bytes as they arrive. */
export class StreamParser {
  readonly #events: StreamParserEvents;
  readonly #maxStanza: number;
  readonly #maxDepth: number;
  readonly #fragment: boolean;

  #decoder!: Utf8Decoder;
  /** Decoded input not consumed yet starts at `#pos` of `#buf`. */
  #buf = "";
  #pos = 0;
  /** Absolute offset (in code units since the stream start) of `#buf[0]`. */
  #offset = 0;
  /** Set by a construct that returned INCOMPLETE: where the unconsumed input starts. */
  #holdAt = 0;
  /** Waiting for the `>` that ends a tag split over chunks; the chunks are kept in `#parts`. */
  #waitTag = false;
  #parts: string[] = [];
  #partsLength = 0;
  #quote = 0;
  #inCdata = false;
  #phase = PROLOG;
  #rootName = "";
  /** Open elements of the current stanza (`#stack[0]` is the stanza). */
  #stack: Element[] = [];
  /** Text read for the innermost open element and not yet appended to it. */
  #text = "";
  #stanzaStart = 0;
  /**
   * Namespace bindings in scope, prefix to URI ("" for the default namespace). A map, not a
   * list searched from the innermost end: a start tag may declare thousands of prefixes, and
   * every name after it would pay for each of them (a few bytes of input costing a long scan).
   */
  #ns = new Map<string, string>();
  /** Undo log of the declarations in scope, innermost last: each prefix and its earlier URI. */
  #nsPrefixes: string[] = [];
  #nsEarlier: (string | undefined)[] = [];
  /** Per open element (the stream root first), the length of the undo log before its tag. */
  #nsMarks: number[] = [];
  /** Scratch results of the scanners (a second return value without allocating). */
  #colon = -1;
  #entityEnd = 0;
  /** Counts resets, so a callback that resets makes the running loop stop. */
  #generation = 0;
  /** Stream headers and stanzas finished (see `completed`). */
  #completed = 0;
  /** The error this parser threw, to tell it from errors thrown by callbacks. */
  #raised: XmlError | undefined;

  constructor(events: StreamParserEvents, options: StreamParserOptions = {}) {
    this.#events = events;
    this.#maxStanza = options.maxStanzaBytes ?? 256 * 1024;
    this.#maxDepth = options.maxDepth ?? 32;
    this.#fragment = (options as InternalOptions)[FRAGMENT] === true;
    this.reset();
  }

  /** Forgets everything read so far; the next input starts a new stream (RFC 6120 §4.3.3). */
  reset(): void {
    this.#generation++;
    this.#decoder = new Utf8Decoder();
    this.#buf = "";
    this.#pos = 0;
    this.#offset = 0;
    this.#waitTag = false;
    this.#parts = [];
    this.#partsLength = 0;
    this.#quote = 0;
    this.#inCdata = false;
    this.#phase = PROLOG;
    this.#rootName = "";
    this.#stack = [];
    this.#text = "";
    this.#ns = new Map([["xml", NS_XML], ["xmlns", NS_XMLNS]]);
    this.#nsPrefixes = [];
    this.#nsEarlier = [];
    this.#nsMarks = [];
    this.#raised = undefined;
  }

  /**
   * True while the input read so far ends inside a stanza or a tag (the stream header too):
   * what finishes it, or proves it too large, is at most `maxStanzaBytes` away. A reader that
   * throttles the connection should go on to there, so a size bomb is refused at once.
   */
  get inStanza(): boolean {
    return this.#phase !== FAILED && (this.#stack.length > 0 || this.#waitTag);
  }

  /**
   * How many stream headers and stanzas the parser has finished since it was made (resets do
   * not count from zero again): with `inStanza`, tells one unfinished stanza from the next.
   */
  get completed(): number {
    return this.#completed;
  }

  /** Parses the next piece of the stream; chunks may split anything, even a UTF-8 sequence. */
  write(chunk: Uint8Array | string): void {
    if (this.#phase === FAILED) return;
    if (typeof chunk === "string") {
      if (chunk.length > 0) this.#guard(chunk);
      return;
    }
    const decoder = this.#decoder;
    const text = decoder.decode(chunk);
    if (text.length > 0) this.#guard(text);
    if (decoder.failed && this.#phase !== FAILED && decoder === this.#decoder) {
      this.#fail(new XmlError("unsupported-encoding", "The stream is not valid UTF-8"));
    }
  }

  /** Marks the end of input; reports `not-well-formed` if the stream was left open. */
  end(): void {
    if (this.#phase === FAILED) return;
    if (this.#decoder.pending) {
      this.#fail(new XmlError("unsupported-encoding", "The stream ends inside a UTF-8 sequence"));
      return;
    }
    if (
      this.#phase !== EPILOG || this.#waitTag || this.#inCdata || this.#pos < this.#buf.length
    ) {
      this.#fail(new XmlError("not-well-formed", "The input ended before the root element closed"));
    }
  }

  /** Runs the parser on new text, turning our own thrown errors into one `onError`. */
  #guard(text: string): void {
    try {
      this.#feed(text);
    } catch (error) {
      if (error === this.#raised && error instanceof XmlError) {
        this.#fail(error);
      } else {
        this.#phase = FAILED;
        throw error;
      }
    }
  }

  #fail(error: XmlError): void {
    this.#phase = FAILED;
    this.#buf = "";
    this.#parts = [];
    this.#stack = [];
    this.#text = "";
    this.#events.onError(error);
  }

  #error(condition: XmlErrorCondition, message: string): XmlError {
    const error = new XmlError(condition, message);
    this.#raised = error;
    return error;
  }

  #feed(text: string): void {
    if (this.#waitTag) {
      const found = this.#scanTagEnd(text);
      this.#parts.push(text);
      this.#partsLength += text.length;
      if (!found) {
        this.#checkHeld(this.#partsLength);
        return;
      }
      this.#buf = this.#parts.length === 1 ? this.#parts[0] : this.#parts.join("");
      this.#parts = [];
      this.#partsLength = 0;
      this.#waitTag = false;
    } else if (this.#pos < this.#buf.length) {
      this.#offset += this.#pos;
      this.#buf = this.#buf.slice(this.#pos) + text;
    } else {
      this.#offset += this.#buf.length;
      this.#buf = text;
    }
    this.#pos = 0;
    this.#run();
  }

  /** Continues the search for the `>` closing a split tag, outside quoted values. */
  #scanTagEnd(text: string): boolean {
    let quote = this.#quote;
    const n = text.length;
    for (let k = 0; k < n; k++) {
      if (quote !== 0) {
        k = text.indexOf(quote === QUOT ? '"' : "'", k);
        if (k < 0) break;
        quote = 0;
        continue;
      }
      const c = text.charCodeAt(k);
      if (c === GT) {
        this.#quote = 0;
        return true;
      }
      if (c === QUOT || c === APOS) quote = c;
    }
    this.#quote = quote;
    return false;
  }

  /** Refuses a stanza (or a lone tag outside one) that grew past the limit while incomplete. */
  #checkHeld(heldLength: number): void {
    const size = this.#stack.length > 0
      ? this.#offset + (this.#waitTag ? this.#partsLength : this.#buf.length) - this.#stanzaStart
      : heldLength;
    if (size > this.#maxStanza) throw this.#tooLarge();
  }

  #tooLarge(): XmlError {
    return this.#error(
      "policy-violation",
      `A stanza exceeds the limit of ${this.#maxStanza} bytes`,
    );
  }

  #run(): void {
    const s = this.#buf;
    const n = s.length;
    const generation = this.#generation;
    let i = this.#pos;
    while (i < n) {
      let j: number;
      if (this.#inCdata) j = this.#cdata(s, i, n);
      else if (s.charCodeAt(i) === LT) j = this.#markup(s, i, n);
      else j = this.#textRun(s, i, n);
      if (generation !== this.#generation) return;
      if (j < 0) {
        const hold = this.#holdAt;
        if (this.#waitTag) {
          this.#quote = 0;
          if (this.#scanTagEnd(s.slice(hold))) {
            throw this.#error("not-well-formed", "Malformed tag");
          }
          this.#parts = [s.slice(hold)];
          this.#partsLength = n - hold;
          this.#offset += hold;
          this.#buf = "";
          this.#pos = 0;
          this.#checkHeld(this.#partsLength);
        } else {
          this.#pos = hold;
          this.#checkHeld(n - hold);
        }
        return;
      }
      i = j;
    }
    this.#pos = n;
    if (this.#stack.length > 0 && this.#offset + n - this.#stanzaStart > this.#maxStanza) {
      throw this.#tooLarge();
    }
  }

  #hold(at: number): number {
    this.#holdAt = at;
    return INCOMPLETE;
  }

  #holdTag(at: number, nsMark: number): number {
    this.#popNamespaces(nsMark);
    this.#waitTag = true;
    this.#holdAt = at;
    return INCOMPLETE;
  }

  #markup(s: string, i: number, n: number): number {
    if (i + 1 >= n) return this.#hold(i);
    const c = s.charCodeAt(i + 1);
    if (c === SLASH) return this.#endTag(s, i, n);
    if (c === BANG) return this.#bang(s, i, n);
    if (c === QUESTION) return this.#processingInstruction(s, i, n);
    return this.#startTag(s, i, n);
  }

  /** Character data up to the next `<`; returns its index, or INCOMPLETE for a split tail. */
  #textRun(s: string, i: number, n: number): number {
    if (this.#phase !== ROOT) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c === LT) return i;
        if (c !== SP && c !== LF && c !== TAB && c !== CR) {
          throw this.#error("not-well-formed", "Text is not allowed outside the root element");
        }
      }
      return n;
    }
    const keep = this.#stack.length > 0;
    let runStart = i;
    let cr = false;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > GT) {
        if (c < 0xd800) continue;
        if (c <= 0xdbff) {
          if (i + 1 >= n) break;
          if (!isLowSurrogate(s.charCodeAt(i + 1))) throw this.#badChar(c);
          i++;
        } else if (c <= 0xdfff || c >= 0xfffe) {
          throw this.#badChar(c);
        }
      } else if (c === LT) {
        break;
      } else if (c === AMP) {
        const value = this.#entity(s, i, n);
        if (value === null) {
          if (keep) this.#addText(s, runStart, i, cr);
          return this.#hold(i);
        }
        if (keep) {
          this.#addText(s, runStart, i, cr);
          this.#text += value;
        }
        cr = false;
        runStart = this.#entityEnd;
        i = runStart - 1;
      } else if (c === GT) {
        if (s.charCodeAt(i - 1) === RSQB && s.charCodeAt(i - 2) === RSQB) {
          throw this.#error("not-well-formed", "The sequence ]]> is not allowed in text");
        }
      } else if (c < SP) {
        if (c === CR) cr = true;
        else if (c !== LF && c !== TAB) throw this.#badChar(c);
      }
    }
    if (i < n && s.charCodeAt(i) === LT) {
      if (keep) this.#addText(s, runStart, i, cr);
      return i;
    }
    // The buffer ended: keep back what the next chunk may change (`]]>`, CR LF, a surrogate).
    let end = i;
    while (end > runStart && end > n - 2 && s.charCodeAt(end - 1) === RSQB) end--;
    if (end > runStart && s.charCodeAt(end - 1) === CR) end--;
    if (keep) this.#addText(s, runStart, end, cr);
    return end < n ? this.#hold(end) : n;
  }

  #addText(s: string, start: number, end: number, cr: boolean): void {
    if (end <= start) return;
    const piece = s.slice(start, end);
    this.#text += cr ? piece.replace(CRLF, "\n") : piece;
  }

  #badChar(c: number): XmlError {
    const hex = c.toString(16).toUpperCase().padStart(4, "0");
    return this.#error("not-well-formed", `The character U+${hex} is not allowed in XML`);
  }

  /**
   * Decodes the reference at `s[i]` (`&`) ending before `n`; sets `#entityEnd` past its `;`.
   * Returns null when `n` comes first and the characters so far could still end well.
   */
  #entity(s: string, i: number, n: number): string | null {
    let j = i + 1;
    if (j >= n) return null;
    let c = s.charCodeAt(j);
    if (c === HASH) {
      if (++j >= n) return null;
      let base = 10;
      if (s.charCodeAt(j) === 0x78) {
        base = 16;
        j++;
      }
      const first = j;
      let value = 0;
      for (;; j++) {
        if (j >= n) return null;
        c = s.charCodeAt(j);
        if (c === SEMICOLON) break;
        let digit: number;
        if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
        else if (base === 16 && c >= 0x61 && c <= 0x66) digit = c - 0x57;
        else if (base === 16 && c >= 0x41 && c <= 0x46) digit = c - 0x37;
        else throw this.#error("not-well-formed", "Malformed character reference");
        value = value * base + digit;
        if (value > 0x10ffff || j - first >= 16) {
          throw this.#error("not-well-formed", "Character reference out of range");
        }
      }
      if (j === first || !isXmlChar(value)) {
        throw this.#error("not-well-formed", `${s.slice(i, j + 1)} is not an allowed character`);
      }
      this.#entityEnd = j + 1;
      return String.fromCodePoint(value);
    }
    const start = j;
    for (;; j++) {
      if (j >= n) return null;
      c = s.charCodeAt(j);
      if (c === SEMICOLON) break;
      if (!isPredefinedPrefix(s, start, j + 1)) {
        const nameLike = c < 0x80 ? ASCII_NAME[c] !== 0 || c === COLON : c < 0xfffe;
        if (nameLike && (j > start || c >= 0x80 || (ASCII_NAME[c] & NAME_START) !== 0)) {
          throw this.#error(
            "restricted-xml",
            "Entity references other than the predefined ones are not allowed (RFC 6120 §11.1)",
          );
        }
        throw this.#error("not-well-formed", "A bare & must be written &amp;");
      }
    }
    for (let k = 0; k < PREDEFINED_NAMES.length; k++) {
      const name = PREDEFINED_NAMES[k];
      if (j - start === name.length && s.startsWith(name, start)) {
        this.#entityEnd = j + 1;
        return PREDEFINED_VALUES[k];
      }
    }
    if (j === start) throw this.#error("not-well-formed", "Empty entity reference &;");
    throw this.#error(
      "restricted-xml",
      "Entity references other than the predefined ones are not allowed (RFC 6120 §11.1)",
    );
  }

  /**
   * Scans a qualified name (Namespaces in XML §3) from `j`; returns its end and sets `#colon`
   * to the index of its colon (or -1), or INCOMPLETE when the buffer ends inside it.
   */
  #qname(s: string, j: number, n: number): number {
    if (j >= n) return INCOMPLETE;
    let colon = -1;
    let w = this.#nameStart(s, j, n);
    if (w <= 0) return w;
    j += w;
    for (;;) {
      if (j >= n) return INCOMPLETE;
      const c = s.charCodeAt(j);
      if (c < 0x80) {
        if (ASCII_NAME[c] !== 0) {
          j++;
          continue;
        }
        if (c !== COLON) break;
        if (colon >= 0) throw this.#error("not-well-formed", "A name has more than one colon");
        colon = j++;
        if (j >= n) return INCOMPLETE;
        w = this.#nameStart(s, j, n);
        if (w <= 0) return w;
        j += w;
        continue;
      }
      w = nonAsciiName(s, j, n, false);
      if (w < 0) return INCOMPLETE;
      if (w === 0) break;
      j += w;
    }
    this.#colon = colon;
    return j;
  }

  /** Width of the NCName start character at `j` (throws when there is none). */
  #nameStart(s: string, j: number, n: number): number {
    const c = s.charCodeAt(j);
    const w = c < 0x80 ? ASCII_NAME[c] & NAME_START : nonAsciiName(s, j, n, true);
    if (w === 0) {
      const what = isSpace(c) ? "whitespace" : JSON.stringify(String.fromCharCode(c));
      throw this.#error("not-well-formed", `A name cannot start with ${what}`);
    }
    return w;
  }

  #startTag(s: string, i: number, n: number): number {
    if (this.#phase === EPILOG) {
      throw this.#error("not-well-formed", "Nothing may follow the root element");
    }
    let j = this.#qname(s, i + 1, n);
    const nsMark = this.#nsPrefixes.length;
    if (j < 0) return this.#holdTag(i, nsMark);
    const colon = this.#colon < 0 ? -1 : this.#colon - i - 1;
    const name = s.slice(i + 1, j);
    const attrs: Attributes = {};
    let prefixedAttrs = 0;
    let selfClosing = false;
    for (;;) {
      if (j >= n) return this.#holdTag(i, nsMark);
      let c = s.charCodeAt(j);
      let space = false;
      while (c === SP || c === LF || c === TAB || c === CR) {
        if (++j >= n) return this.#holdTag(i, nsMark);
        c = s.charCodeAt(j);
        space = true;
      }
      if (c === GT) {
        j++;
        break;
      }
      if (c === SLASH) {
        if (j + 1 >= n) return this.#holdTag(i, nsMark);
        if (s.charCodeAt(j + 1) !== GT) throw this.#error("not-well-formed", "Expected > after /");
        selfClosing = true;
        j += 2;
        break;
      }
      if (!space) {
        throw this.#error("not-well-formed", `Malformed start tag <${name}>: expected whitespace`);
      }
      const attrStart = j;
      j = this.#qname(s, j, n);
      if (j < 0) return this.#holdTag(i, nsMark);
      const attrEnd = j;
      const attrColon = this.#colon;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      if (j >= n) return this.#holdTag(i, nsMark);
      if (s.charCodeAt(j) !== EQUALS) {
        throw this.#error("not-well-formed", "Expected = after an attribute name");
      }
      j++;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      if (j >= n) return this.#holdTag(i, nsMark);
      const quote = s.charCodeAt(j);
      if (quote !== QUOT && quote !== APOS) {
        throw this.#error("not-well-formed", "Attribute values must be quoted");
      }
      const close = s.indexOf(quote === QUOT ? '"' : "'", j + 1);
      if (close < 0) return this.#holdTag(i, nsMark);
      const value = this.#attrValue(s, j + 1, close);
      j = close + 1;
      const attrName = s.slice(attrStart, attrEnd);
      if (attrs[attrName] !== undefined && Object.hasOwn(attrs, attrName)) {
        throw this.#error("not-well-formed", `Duplicate attribute ${attrName} on <${name}>`);
      }
      if (attrName === "__proto__") {
        Object.defineProperty(attrs, attrName, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else {
        attrs[attrName] = value;
      }
      if (attrColon < 0) {
        if (attrEnd - attrStart === 5 && s.startsWith("xmlns", attrStart)) {
          this.#declare("", value);
        }
      } else if (attrColon === attrStart + 5 && s.startsWith("xmlns", attrStart)) {
        this.#declare(s.slice(attrColon + 1, attrEnd), value);
      } else {
        prefixedAttrs++;
      }
    }
    const ns = this.#resolve(name, colon);
    if (prefixedAttrs > 0) this.#checkPrefixedAttrs(name, attrs, prefixedAttrs);
    const el = new Element(name, attrs, [], ns);
    return this.#open(el, i, j, nsMark, selfClosing);
  }

  /** Places a parsed start tag: stream header, stanza, or child of the open element. */
  #open(el: Element, i: number, j: number, nsMark: number, selfClosing: boolean): number {
    const stack = this.#stack;
    const depth = stack.length;
    if (this.#phase === PROLOG) {
      this.#phase = ROOT;
      if (!this.#fragment) {
        if (el.local !== "stream" || el.ns !== NS_STREAMS) {
          throw this.#error(
            "invalid-namespace",
            `The stream root must be <stream:stream xmlns:stream='${NS_STREAMS}'>`,
          );
        }
        if (j - i > this.#maxStanza) throw this.#tooLarge();
        this.#rootName = shared(el.name);
        if (selfClosing) {
          this.#popNamespaces(nsMark);
          this.#phase = EPILOG;
        } else {
          this.#nsMarks.push(nsMark);
        }
        const generation = this.#generation;
        this.#completed++;
        this.#events.onStreamStart(el);
        if (selfClosing && generation === this.#generation) this.#events.onStreamEnd();
        return j;
      }
    }
    if (depth === 0) {
      // A header inside the open stream would otherwise wait, as a stanza, for an end tag that
      // never comes; a restart is only ever a new stream after `reset()` (RFC 6120 §4.3.3).
      if (el.local === "stream" && el.ns === NS_STREAMS && !this.#fragment) {
        throw this.#error("invalid-xml", "A stream header is not allowed inside the stream");
      }
      this.#stanzaStart = this.#offset + i;
    } else {
      const parent = stack[depth - 1];
      if (this.#text !== "") {
        parent.children.push(this.#text);
        this.#text = "";
      }
      parent.children.push(el);
      el.parent = parent;
    }
    if (depth >= this.#maxDepth) {
      throw this.#error("policy-violation", `Elements nest deeper than ${this.#maxDepth} levels`);
    }
    if (this.#offset + j - this.#stanzaStart > this.#maxStanza) throw this.#tooLarge();
    if (!selfClosing) {
      stack.push(el);
      this.#nsMarks.push(nsMark);
      return j;
    }
    this.#popNamespaces(nsMark);
    if (depth === 0) this.#complete(el);
    return j;
  }

  #complete(stanza: Element): void {
    if (this.#fragment) this.#phase = EPILOG;
    this.#completed++;
    this.#events.onStanza(stanza);
  }

  #endTag(s: string, i: number, n: number): number {
    const nameEnd = this.#qname(s, i + 2, n);
    if (nameEnd < 0) return this.#holdTag(i, this.#nsPrefixes.length);
    let j = nameEnd;
    while (j < n && isSpace(s.charCodeAt(j))) j++;
    if (j >= n) return this.#holdTag(i, this.#nsPrefixes.length);
    if (s.charCodeAt(j) !== GT) throw this.#error("not-well-formed", "Expected > in an end tag");
    j++;
    const stack = this.#stack;
    const depth = stack.length;
    const expected = depth > 0 ? stack[depth - 1].name : this.#phase === ROOT ? this.#rootName : "";
    const length = nameEnd - i - 2;
    if (expected === "" || expected.length !== length || !s.startsWith(expected, i + 2)) {
      const found = s.slice(i + 2, nameEnd);
      throw this.#error(
        "not-well-formed",
        expected === ""
          ? `End tag </${found}> has no start tag`
          : `Expected </${expected}> but found </${found}>`,
      );
    }
    this.#popNamespaces(this.#nsMarks.pop()!);
    if (depth === 0) {
      this.#phase = EPILOG;
      this.#events.onStreamEnd();
      return j;
    }
    const el = stack.pop()!;
    if (this.#text !== "") {
      el.children.push(this.#text);
      this.#text = "";
    }
    if (this.#offset + j - this.#stanzaStart > this.#maxStanza) throw this.#tooLarge();
    if (depth === 1) this.#complete(el);
    return j;
  }

  /** `<!`: a CDATA section is fine inside the root; comments and DTDs are restricted. */
  #bang(s: string, i: number, n: number): number {
    if (i + 2 >= n) return this.#hold(i);
    const c = s.charCodeAt(i + 2);
    if (c === 0x2d) {
      throw this.#error("restricted-xml", "Comments are not allowed in XMPP (RFC 6120 §11.1)");
    }
    if (c === 0x44) {
      throw this.#error(
        "restricted-xml",
        "Document type declarations are not allowed in XMPP (RFC 6120 §11.1)",
      );
    }
    if (c !== 0x5b || this.#phase !== ROOT) {
      throw this.#error("not-well-formed", "Unexpected <! outside an element");
    }
    for (let k = 0; k < 6; k++) {
      if (i + 3 + k >= n) return this.#hold(i);
      if (s.charCodeAt(i + 3 + k) !== CDATA_OPEN.charCodeAt(k)) {
        throw this.#error("not-well-formed", "Malformed CDATA section");
      }
    }
    this.#inCdata = true;
    return i + 9;
  }

  /** The content of a CDATA section, which may arrive over several chunks. */
  #cdata(s: string, i: number, n: number): number {
    const close = s.indexOf("]]>", i);
    let end = close;
    if (close < 0) {
      end = Math.max(i, n - 2);
      if (end > i && s.charCodeAt(end - 1) >= 0xd800 && s.charCodeAt(end - 1) <= 0xdbff) end--;
    }
    const cr = this.#checkChars(s, i, end);
    if (this.#stack.length > 0) this.#addText(s, i, end, cr);
    if (close < 0) return this.#hold(end);
    this.#inCdata = false;
    return close + 3;
  }

  /** Checks that `s[a..b)` holds only XML characters; returns whether it contains a CR. */
  #checkChars(s: string, a: number, b: number): boolean {
    let cr = false;
    for (let k = a; k < b; k++) {
      const c = s.charCodeAt(k);
      if (c < SP) {
        if (c === CR) cr = true;
        else if (c !== LF && c !== TAB) throw this.#badChar(c);
      } else if (c >= 0xd800) {
        k = this.#astral(s, k, b);
      }
    }
    return cr;
  }

  /** Checks a code unit at or above U+D800 at `k`; returns the index of its last unit. */
  #astral(s: string, k: number, end: number): number {
    const c = s.charCodeAt(k);
    if (c <= 0xdbff) {
      if (k + 1 < end && isLowSurrogate(s.charCodeAt(k + 1))) return k + 1;
      throw this.#badChar(c);
    }
    if (c <= 0xdfff || c >= 0xfffe) throw this.#badChar(c);
    return k;
  }

  /** The value of an attribute between its quotes, references replaced and whitespace normalized. */
  #attrValue(s: string, a: number, b: number): string {
    for (let k = a; k < b; k++) {
      const c = s.charCodeAt(k);
      if (c > LT) {
        if (c >= 0xd800) k = this.#astral(s, k, b);
      } else if (c === LT) {
        throw this.#error("not-well-formed", "The character < is not allowed in attribute values");
      } else if (c === AMP || c < SP) {
        return this.#attrValueSlow(s, a, b);
      }
    }
    return s.slice(a, b);
  }

  #attrValueSlow(s: string, a: number, b: number): string {
    let out = "";
    let run = a;
    for (let k = a; k < b; k++) {
      const c = s.charCodeAt(k);
      if (c === AMP) {
        const value = this.#entity(s, k, b);
        if (value === null) throw this.#error("not-well-formed", "Unterminated reference");
        out += s.slice(run, k) + value;
        run = this.#entityEnd;
        k = run - 1;
      } else if (c < SP) {
        if (c !== TAB && c !== LF && c !== CR) throw this.#badChar(c);
        out += s.slice(run, k) + " ";
        if (c === CR && s.charCodeAt(k + 1) === LF && k + 1 < b) k++;
        run = k + 1;
      } else if (c === LT) {
        throw this.#error("not-well-formed", "The character < is not allowed in attribute values");
      } else if (c >= 0xd800) {
        k = this.#astral(s, k, b);
      }
    }
    return out + s.slice(run, b);
  }

  /** `<?`: only the XML declaration at the very start of a stream is allowed. */
  #processingInstruction(s: string, i: number, n: number): number {
    const restricted = () =>
      this.#error("restricted-xml", "Processing instructions are not allowed (RFC 6120 §11.1)");
    if (this.#offset + i !== 0) throw restricted();
    for (let k = 0; k < 3; k++) {
      if (i + 2 + k >= n) return this.#hold(i);
      if (s.charCodeAt(i + 2 + k) !== XML_TARGET.charCodeAt(k)) throw restricted();
    }
    if (i + 5 >= n) return this.#hold(i);
    const c = s.charCodeAt(i + 5);
    if (isSpace(c)) return this.#xmlDeclaration(s, i, n);
    if (c === QUESTION) throw this.#error("not-well-formed", "The XML declaration has no version");
    throw restricted();
  }

  /** `<?xml version="1.x" encoding="UTF-8" standalone="yes"?>` (XML 1.0 §2.8, RFC 6120 §11.6). */
  #xmlDeclaration(s: string, i: number, n: number): number {
    let j = i + 5;
    let seen = 0; // 1 version, 2 encoding, 3 standalone: the order they must come in
    for (;;) {
      let space = false;
      while (j < n && isSpace(s.charCodeAt(j))) {
        j++;
        space = true;
      }
      if (j >= n) return this.#holdTag(i, this.#nsPrefixes.length);
      if (s.charCodeAt(j) === QUESTION) {
        if (j + 1 >= n) return this.#holdTag(i, this.#nsPrefixes.length);
        if (s.charCodeAt(j + 1) !== GT || seen === 0) break;
        if (j + 2 - i > this.#maxStanza) throw this.#tooLarge();
        return j + 2;
      }
      if (!space) break;
      const nameEnd = this.#qname(s, j, n);
      if (nameEnd < 0) return this.#holdTag(i, this.#nsPrefixes.length);
      const name = s.slice(j, nameEnd);
      j = nameEnd;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      if (j >= n) return this.#holdTag(i, this.#nsPrefixes.length);
      if (s.charCodeAt(j++) !== EQUALS) break;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      if (j >= n) return this.#holdTag(i, this.#nsPrefixes.length);
      const quote = s.charCodeAt(j);
      if (quote !== QUOT && quote !== APOS) break;
      const close = s.indexOf(quote === QUOT ? '"' : "'", j + 1);
      if (close < 0) return this.#holdTag(i, this.#nsPrefixes.length);
      const value = s.slice(j + 1, close);
      j = close + 1;
      if (name === "version" && seen === 0 && /^1\.[0-9]+$/.test(value)) {
        seen = 1;
      } else if (name === "encoding" && seen === 1 && /^[A-Za-z][A-Za-z0-9._-]*$/.test(value)) {
        if (value.toLowerCase() !== "utf-8") {
          throw this.#error(
            "unsupported-encoding",
            `The stream declares encoding ${value}, but XMPP uses only UTF-8 (RFC 6120 §11.6)`,
          );
        }
        seen = 2;
      } else if (name === "standalone" && seen >= 1 && seen < 3 && /^(yes|no)$/.test(value)) {
        seen = 3;
      } else {
        break;
      }
    }
    throw this.#error("not-well-formed", "Malformed XML declaration");
  }

  /** Adds a namespace declaration of the tag being read (Namespaces in XML §3). */
  #declare(prefix: string, uri: string): void {
    if (prefix === "xmlns") {
      throw this.#error("not-well-formed", "The prefix xmlns must not be declared");
    }
    if ((prefix === "xml") !== (uri === NS_XML)) {
      throw this.#error("not-well-formed", `The prefix xml is bound to ${NS_XML} only`);
    }
    if (uri === NS_XMLNS) {
      throw this.#error("not-well-formed", `The namespace ${NS_XMLNS} must not be declared`);
    }
    if (prefix !== "" && uri === "") {
      throw this.#error("not-well-formed", `The prefix ${prefix} cannot be undeclared`);
    }
    this.#nsPrefixes.push(prefix);
    this.#nsEarlier.push(this.#ns.get(prefix));
    this.#ns.set(prefix, shared(uri));
  }

  #popNamespaces(mark: number): void {
    const prefixes = this.#nsPrefixes;
    while (prefixes.length > mark) {
      const prefix = prefixes.pop()!;
      const earlier = this.#nsEarlier.pop();
      if (earlier === undefined) this.#ns.delete(prefix);
      else this.#ns.set(prefix, earlier);
    }
  }

  /** The namespace of a name whose colon is at `colon` (-1: unprefixed) in scope now. */
  #resolve(name: string, colon: number): string {
    if (colon < 0) return this.#ns.get("") ?? "";
    if (colon === 5 && name.startsWith("xmlns")) {
      throw this.#error("not-well-formed", `The prefix xmlns is reserved (<${name}>)`);
    }
    const uri = this.#ns.get(name.slice(0, colon));
    if (uri !== undefined) return uri;
    throw this.#error("not-well-formed", `The prefix of ${name} is not bound to a namespace`);
  }

  /** Prefixed attributes need a bound prefix and a unique {namespace}local pair. */
  #checkPrefixedAttrs(element: string, attrs: Attributes, count: number): void {
    // A set, not a list: thousands of prefixed attributes must not cost a scan each.
    const seen = count > 1 ? new Set<string>() : undefined;
    for (const key in attrs) {
      const colon = key.indexOf(":");
      if (colon < 0 || (colon === 5 && key.startsWith("xmlns"))) continue;
      const ns = this.#resolve(key, colon);
      if (seen === undefined) continue;
      const expanded = ns + "}" + key.slice(colon + 1);
      if (seen.has(expanded)) {
        throw this.#error("not-well-formed", `Duplicate attribute ${key} on <${element}>`);
      }
      seen.add(expanded);
    }
  }
}

const CDATA_OPEN = "CDATA[";
const XML_TARGET = "xml";

/** Whether `s[start..end)` begins one of the five predefined entity names. */
function isPredefinedPrefix(s: string, start: number, end: number): boolean {
  const length = end - start;
  next: for (const name of PREDEFINED_NAMES) {
    if (length > name.length) continue;
    for (let k = 0; k < length; k++) {
      if (s.charCodeAt(start + k) !== name.charCodeAt(k)) continue next;
    }
    return true;
  }
  return false;
}

/** Width (1, 2) of the non-ASCII name character at `j`, 0 when it is none, -1 when split. */
function nonAsciiName(s: string, j: number, n: number, start: boolean): number {
  const c = s.charCodeAt(j);
  if (c >= 0xd800 && c <= 0xdfff) {
    if (!isNameHighSurrogate(c)) return 0;
    if (j + 1 >= n) return INCOMPLETE;
    return isLowSurrogate(s.charCodeAt(j + 1)) ? 2 : 0;
  }
  return (start ? isNonAsciiNameStart(c) : isNonAsciiNameChar(c)) ? 1 : 0;
}

/**
 * Parses one complete element (with optional surrounding whitespace and XML declaration)
 * under the same rules as a stream, throwing `XmlError`. For tests, tools and WebSocket frames.
 */
export function parseFragment(text: string, options: StreamParserOptions = {}): Element {
  let result: Element | undefined;
  let failure: XmlError | undefined;
  const parser = new StreamParser({
    onStreamStart() {},
    onStanza(stanza) {
      result = stanza;
    },
    onStreamEnd() {},
    onError(error) {
      failure = error;
    },
  }, { ...options, [FRAGMENT]: true } as InternalOptions);
  parser.write(text);
  parser.end();
  if (failure) throw failure;
  return result!;
}
