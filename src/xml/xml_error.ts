/** The error every XML parser of the server throws or reports, named by its RFC 6120 §4.9.3 stream error condition. */

/** The stream error conditions an XML fault maps to (RFC 6120 §4.9.3). */
export type XmlErrorCondition =
  | "not-well-formed"
  | "restricted-xml"
  | "unsupported-encoding"
  | "policy-violation"
  | "invalid-namespace"
  | "invalid-xml";

/** Where in a file an error was found (config files; streams have no useful lines). */
export interface XmlErrorPosition {
  file: string;
  line: number;
  column: number;
}

/**
 * A malformed, forbidden or oversized piece of XML. `condition` is the stream error a server
 * answers with; `message` is one sentence for logs (prefixed by `file:line:column` when known).
 */
export class XmlError extends Error {
  readonly condition: XmlErrorCondition;
  readonly position: XmlErrorPosition | undefined;

  constructor(condition: XmlErrorCondition, message: string, position?: XmlErrorPosition) {
    super(position ? `${position.file}:${position.line}:${position.column}: ${message}` : message);
    this.name = "XmlError";
    this.condition = condition;
    this.position = position;
  }
}
