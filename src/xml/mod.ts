/** The XML layer: elements, the strict stream parser (RFC 6120 §4, §11) and config documents. */

export * from "./element.ts";
export {
  NS_STREAMS,
  parseFragment,
  StreamParser,
  type StreamParserEvents,
  type StreamParserOptions,
} from "./stream_parser.ts";
export { XmlError, type XmlErrorCondition, type XmlErrorPosition } from "./xml_error.ts";
export { type ParsedDocument, parseDocument, type SourcePosition } from "./document.ts";
