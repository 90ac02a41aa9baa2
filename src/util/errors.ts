/**
 * Errors as structured data that know how to become XML: stanza errors (RFC 6120 §8.3) and
 * stream errors (RFC 6120 §4.9). Handlers throw these; one place turns them into replies.
 */
import { Element } from "../xml/element.ts";
import { NS_STANZAS_ERRORS, NS_STREAMS_ERRORS } from "./ns.ts";

/** RFC 6120 §8.3.2 error types. */
export type StanzaErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

/** RFC 6120 §8.3.3 defined conditions. */
export type StanzaErrorCondition =
  | "bad-request"
  | "conflict"
  | "feature-not-implemented"
  | "forbidden"
  | "gone"
  | "internal-server-error"
  | "item-not-found"
  | "jid-malformed"
  | "not-acceptable"
  | "not-allowed"
  | "not-authorized"
  | "policy-violation"
  | "recipient-unavailable"
  | "redirect"
  | "registration-required"
  | "remote-server-not-found"
  | "remote-server-timeout"
  | "resource-constraint"
  | "service-unavailable"
  | "subscription-required"
  | "undefined-condition"
  | "unexpected-request";

/** The usual type for each condition (RFC 6120 §8.3.3 examples), so callers may omit it. */
const DEFAULT_TYPES: Record<StanzaErrorCondition, StanzaErrorType> = {
  "bad-request": "modify",
  "conflict": "cancel",
  "feature-not-implemented": "cancel",
  "forbidden": "auth",
  "gone": "cancel",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  "redirect": "modify",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "subscription-required": "auth",
  "undefined-condition": "cancel",
  "unexpected-request": "wait",
};

/** A stanza-level error; `toElement()` is the `<error/>` child of the reply. */
export class StanzaError extends Error {
  readonly condition: StanzaErrorCondition;
  readonly type: StanzaErrorType;
  readonly text: string | undefined;

  constructor(condition: StanzaErrorCondition, text?: string, type?: StanzaErrorType) {
    super(text ?? condition);
    this.name = "StanzaError";
    this.condition = condition;
    this.type = type ?? DEFAULT_TYPES[condition];
    this.text = text;
  }

  toElement(by?: string): Element {
    const error = new Element("error", by ? { type: this.type, by } : { type: this.type });
    error.c(this.condition, { xmlns: NS_STANZAS_ERRORS });
    if (this.text) error.c("text", { xmlns: NS_STANZAS_ERRORS, "xml:lang": "en" }).t(this.text);
    return error;
  }
}

/**
 * The error reply to a stanza (RFC 6120 §8.2): same name and id, `to`/`from` swapped,
 * `type="error"`, the original children kept, and the error appended. Returns undefined for a
 * stanza that must never be answered with an error (an error itself, or an iq result).
 */
export function errorReply(stanza: Element, error: StanzaError): Element | undefined {
  const type = stanza.attrs.type;
  if (type === "error" || (stanza.local === "iq" && type === "result")) return undefined;
  const attrs: Record<string, string> = {};
  for (const key in stanza.attrs) {
    if (key !== "to" && key !== "from" && key !== "type") attrs[key] = stanza.attrs[key];
  }
  if (stanza.attrs.from !== undefined) attrs.to = stanza.attrs.from;
  if (stanza.attrs.to !== undefined) attrs.from = stanza.attrs.to;
  attrs.type = "error";
  const reply = new Element(stanza.name, attrs, [], stanza.ns);
  // An iq error carries no payload copy requirement; messages and presence keep theirs so the
  // sender can tell what failed (RFC 6120 §8.3.1 allows both).
  for (const child of stanza.children) {
    if (typeof child === "string") reply.t(child);
    else if (!child.is("error")) reply.append(child.clone());
  }
  reply.append(error.toElement());
  return reply;
}

/** RFC 6120 §4.9.3 stream error conditions. */
export type StreamErrorCondition =
  | "bad-format"
  | "bad-namespace-prefix"
  | "conflict"
  | "connection-timeout"
  | "host-gone"
  | "host-unknown"
  | "improper-addressing"
  | "internal-server-error"
  | "invalid-from"
  | "invalid-namespace"
  | "invalid-xml"
  | "not-authorized"
  | "not-well-formed"
  | "policy-violation"
  | "remote-connection-failed"
  | "reset"
  | "resource-constraint"
  | "restricted-xml"
  | "see-other-host"
  | "system-shutdown"
  | "undefined-condition"
  | "unsupported-encoding"
  | "unsupported-feature"
  | "unsupported-stanza-type"
  | "unsupported-version";

/** A stream-level error: the stream is closed with `<stream:error>` carrying the condition. */
export class StreamError extends Error {
  readonly condition: StreamErrorCondition;
  readonly text: string | undefined;

  constructor(condition: StreamErrorCondition, text?: string) {
    super(text ?? condition);
    this.name = "StreamError";
    this.condition = condition;
    this.text = text;
  }

  toElement(): Element {
    const error = new Element("stream:error");
    error.c(this.condition, { xmlns: NS_STREAMS_ERRORS });
    if (this.text) error.c("text", { xmlns: NS_STREAMS_ERRORS, "xml:lang": "en" }).t(this.text);
    return error;
  }
}

/** An error as one line for a log: its message, or the value as text when it is not an Error. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
