/**
 * Parses XML documents such as the config file (jabberd 1.4 `jabber.xml` shape) with saxes,
 * keeping each element's line and column for error messages. Comments are fine here (unlike in
 * streams, RFC 6120 §11.1); a DTD is refused, since a config file has no use for one.
 */

import { SaxesParser, type SaxesTagNS } from "saxes";
import { Element } from "./element.ts";
import { XmlError } from "./xml_error.ts";

/** A one-based line and column, as editors show them. */
export interface SourcePosition {
  line: number;
  column: number;
}

export interface ParsedDocument {
  root: Element;
  /** Where each element's start tag begins. */
  positions: WeakMap<Element, SourcePosition>;
}

/**
 * Parses a whole document. Whitespace-only text between elements is dropped; other text is
 * kept as written (entities decoded). Throws `XmlError` ("file:line:column: sentence").
 */
export function parseDocument(text: string, file: string): ParsedDocument {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const positions = new WeakMap<Element, SourcePosition>();
  const stack: Element[] = [];
  let root: Element | undefined;
  let failure: XmlError | undefined;

  const fail = (message: string, at?: SourcePosition) => {
    failure ??= new XmlError("not-well-formed", message, {
      file,
      line: at?.line ?? parser.line,
      column: at?.column ?? parser.column + 1,
    });
  };

  const lineStarts = [0];
  for (let k = text.indexOf("\n"); k >= 0; k = text.indexOf("\n", k + 1)) lineStarts.push(k + 1);
  let tagOffset = 0;

  parser.on("opentagstart", (tag) => {
    // saxes has read `<name` and the character after it.
    tagOffset = parser.position - tag.name.length - 2;
  });
  parser.on("opentag", (tag: SaxesTagNS) => {
    const attrs: Record<string, string> = {};
    for (const key in tag.attributes) attrs[key] = tag.attributes[key].value;
    const el = new Element(tag.name, attrs, [], tag.uri);
    positions.set(el, positionOf(lineStarts, tagOffset));
    const parent = stack.at(-1);
    if (parent) parent.append(el);
    else root = el;
    stack.push(el);
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  const onText = (data: string) => {
    const parent = stack.at(-1);
    if (parent && data.trim() !== "") parent.t(data);
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  parser.on("doctype", () => fail("Document type declarations are not allowed; remove <!DOCTYPE>"));
  parser.on("error", (error: Error) => fail(sentence(error.message)));

  try {
    parser.write(text).close();
  } catch (error) {
    fail(sentence(error instanceof Error ? error.message : String(error)));
  }
  if (failure) throw failure;
  if (!root) {
    throw new XmlError("not-well-formed", "The document has no root element", {
      file,
      line: 1,
      column: 1,
    });
  }
  return { root, positions };
}

/** Turns a saxes message ("file:1:2: disallowed character.") into our sentence style. */
function sentence(message: string): string {
  const text = message.replace(/^(?:.*?:)?\d+:\d+: /, "").replace(/\.$/, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The one-based line and column of a code unit offset. */
function positionOf(lineStarts: number[], offset: number): SourcePosition {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (lineStarts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - lineStarts[low] + 1 };
}
