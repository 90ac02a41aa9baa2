/**
 * How a client stream is framed on its transport: one XML stream over TCP (RFC 6120 §4), or one
 * complete element per message with `<open/>` and `<close/>` (RFC 7395 §3.3, WebSocket; BOSH
 * XEP-0206 reuses it for the stanzas of its `<body>`s). A `C2sConnection` runs the same protocol
 * over either: only the header, the close, stream errors, keepalives and the parser differ.
 */
import { StreamError, type StreamErrorCondition } from "../../util/errors.ts";
import { NS_CLIENT } from "../../util/ns.ts";
import { Element, escapeAttr } from "../../xml/element.ts";
import {
  NS_STREAMS,
  parseFragment,
  StreamParser,
  type StreamParserEvents,
  type StreamParserOptions,
  XmlError,
} from "../../xml/stream_parser.ts";
import type { StanzaProgress } from "../../util/limits.ts";

/** RFC 7395 §3.3.1: the namespace of `<open/>` and `<close/>`. */
export const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";

/** What reads a client's input and tells the connection what it found. */
export interface FrameParser extends StanzaProgress {
  write(chunk: Uint8Array | string): void;
  /** The client starts a new stream next (RFC 6120 §4.3.3; RFC 7395 §3.3.2). */
  reset(): void;
}

/** The differences between transports, as the connection needs them. */
export interface StreamFraming {
  /** `tcp`, `tcp-tls`, `websocket` or `bosh`: for logs, the admin API and metrics. */
  readonly kind: string;
  /** STARTTLS may be offered (plain TCP only: direct TLS and HTTP transports never). */
  readonly starttls: boolean;
  /** What to send when the client has been quiet (undefined: the transport keeps itself alive). */
  readonly keepalive: string | undefined;
  /** Our stream header with a fresh stream id (empty for BOSH: the session's `<body>` is it). */
  header(from: string | undefined): string;
  /** What ends our stream (empty for BOSH: closing the session terminates it). */
  readonly close: string;
  /** A stream error element (RFC 6120 §4.9), without the close. */
  error(condition: StreamErrorCondition, text?: string): string;
  /** One element we write, made self-contained where the transport needs it. */
  frame(text: string): string;
  parser(events: StreamParserEvents, options: StreamParserOptions): FrameParser;
}

/** A fresh stream id (RFC 6120 §4.7.3). */
export function streamId(): string {
  return crypto.getRandomValues(new Uint8Array(12)).toBase64();
}

/** The TCP framing: one XML stream, `<stream:stream>` to `</stream:stream>`. */
function tcpFraming(starttls: boolean): StreamFraming {
  return {
    kind: starttls ? "tcp" : "tcp-tls",
    starttls,
    keepalive: " ", // whitespace keepalive (RFC 6120 §4.6.1)
    header(from) {
      const fromAttr = from ? ` from='${escapeAttr(from)}'` : "";
      return `<?xml version='1.0'?><stream:stream xmlns='${NS_CLIENT}' ` +
        `xmlns:stream='${NS_STREAMS}' id='${streamId()}'${fromAttr} version='1.0' xml:lang='en'>`;
    },
    close: "</stream:stream>",
    error: (condition, text) => new StreamError(condition, text).toElement().toString(),
    frame: (text) => text,
    parser: (events, options) => new StreamParser(events, options),
  };
}

/** Plain TCP offering STARTTLS (5222). */
export const TCP_STARTTLS: StreamFraming = tcpFraming(true);
/** Direct TLS (5223, XEP-0368). */
export const TCP_DIRECT_TLS: StreamFraming = tcpFraming(false);

/**
 * The element framing of RFC 7395: every message one complete element whose namespaces are
 * declared on it (§3.3.3), the stream opened by `<open/>` and ended by `<close/>`, no whitespace
 * keepalives (§3.4: the WebSocket's own pings keep it alive).
 */
export const WEBSOCKET_FRAMING: StreamFraming = {
  kind: "websocket",
  starttls: false,
  keepalive: undefined,
  header(from) {
    const fromAttr = from ? ` from='${escapeAttr(from)}'` : "";
    return `<open xmlns='${NS_FRAMING}' id='${streamId()}'${fromAttr} version='1.0' ` +
      `xml:lang='en'/>`;
  },
  close: `<close xmlns='${NS_FRAMING}'/>`,
  error: framedError,
  frame: declareNamespaces,
  parser: (events, options) => new ElementParser(events, options),
};

/**
 * BOSH (XEP-0206): the stanzas of each `<body>` travel as WebSocket messages would; the session
 * makes the `<body>`s, so the header and the close are empty here (§5, §4 `type='terminate'`).
 */
export const BOSH_FRAMING: StreamFraming = {
  ...WEBSOCKET_FRAMING,
  kind: "bosh",
  header: () => "",
  close: "",
};

function framedError(condition: StreamErrorCondition, text?: string): string {
  const element = new StreamError(condition, text).toElement();
  element.attrs["xmlns:stream"] = NS_STREAMS;
  return element.toString();
}

const STANZA_START = /^<(?:iq|message|presence)[\s/>]/;

/**
 * Declares on a top-level element what the enclosing `<stream:stream>` declares over TCP: the
 * `stream` prefix of `<stream:features>`, and `jabber:client` on stanzas (RFC 7395 §3.3.3). Every
 * element c2s writes is one of those or carries its own `xmlns`; attribute values escape `>`, so
 * the first `>` ends the start tag.
 */
export function declareNamespaces(text: string): string {
  const end = text.indexOf(">");
  if (end < 0) return text;
  const tag = text.slice(0, end);
  const name = /^<[^\s/>]+/.exec(tag)?.[0].length ?? 0;
  if (text.startsWith("<stream:")) {
    if (tag.includes("xmlns:stream=")) return text;
    return `${text.slice(0, name)} xmlns:stream='${NS_STREAMS}'${text.slice(name)}`;
  }
  if (STANZA_START.test(text) && !/\sxmlns=/.test(tag)) {
    return `${text.slice(0, name)} xmlns='${NS_CLIENT}'${text.slice(name)}`;
  }
  return text;
}

/**
 * Reads one complete element per `write` (a WebSocket message, or one element of a BOSH body):
 * `<open/>` starts a stream (reported as a header in `jabber:client`, so the header checks of
 * RFC 6120 §4.7 apply unchanged), `<close/>` ends it, anything else is a stanza; an element
 * without a namespace is taken as `jabber:client`.
 */
class ElementParser implements FrameParser {
  readonly #events: StreamParserEvents;
  readonly #options: StreamParserOptions;
  #open = false;
  #failed = false;
  #completed = 0;

  constructor(events: StreamParserEvents, options: StreamParserOptions) {
    this.#events = events;
    this.#options = options;
  }

  get inStanza(): boolean {
    return false;
  }

  get completed(): number {
    return this.#completed;
  }

  reset(): void {
    this.#open = false;
    this.#failed = false;
  }

  write(chunk: Uint8Array | string): void {
    if (this.#failed) return;
    const text = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    let element: Element;
    try {
      element = parseFragment(text, this.#options);
    } catch (error) {
      return this.#fail(
        error instanceof XmlError ? error : new XmlError("not-well-formed", String(error)),
      );
    }
    this.#completed++;
    if (element.ns === NS_FRAMING && element.local === "open") {
      this.#open = true;
      const { to, version, from } = element.attrs;
      const attrs: Record<string, string> = { xmlns: NS_CLIENT };
      if (to !== undefined) attrs.to = to;
      if (from !== undefined) attrs.from = from;
      if (version !== undefined) attrs.version = version;
      return this.#events.onStreamStart(new Element("stream:stream", attrs));
    }
    if (!this.#open) {
      return this.#fail(new XmlError("invalid-xml", "The stream starts with <open/>"));
    }
    if (element.ns === NS_FRAMING && element.local === "close") {
      this.#open = false;
      return this.#events.onStreamEnd();
    }
    if (element.attrs.xmlns === undefined && element.ns === "") {
      // Parsed again inside jabber:client, so that its children inherit it as over TCP.
      element.attrs.xmlns = NS_CLIENT;
      element = parseFragment(element.toString(), this.#options);
    }
    this.#events.onStanza(element);
  }

  #fail(error: XmlError): void {
    this.#failed = true;
    this.#events.onError(error);
  }
}
