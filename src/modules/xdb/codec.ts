/**
 * How XDB data sits in KV values (docs/architecture.md "Storage: XDB on Deno KV"; the 64 KiB value limit in docs/runtime-notes.md "Deno KV"): each child item as a compact
 * JSON text (`["name", {attrs}, ...children]`, text as a JSON string), split into chunks when it
 * would not fit one 64 KiB value. JSON rather than XML so that reading needs no XML parser and
 * a value can be cut anywhere and joined again.
 */
import { Element, type XmlNode } from "../../xml/element.ts";

/** An element as stored: name, attributes, then children (strings are text). */
export type StoredNode = string | [string, Record<string, string>, ...StoredNode[]];

/**
 * The longest chunk, in UTF-16 code units. V8 stores a string with any character above U+00FF
 * in two bytes per unit, so 32,000 units serialize to at most 64,000 bytes plus a small header,
 * under Deno KV's 65,536-byte value limit in every case.
 */
export const CHUNK_UNITS = 32_000;

export function encodeNode(node: XmlNode): string {
  return JSON.stringify(toStored(node));
}

export function decodeNode(text: string): XmlNode {
  return fromStored(JSON.parse(text) as StoredNode);
}

/** The name and attributes of a stored item (undefined for text), to test a match against. */
export function headOf(text: string): { name: string; attrs: Record<string, string> } | undefined {
  const stored = JSON.parse(text) as StoredNode;
  return typeof stored === "string" ? undefined : { name: stored[0], attrs: stored[1] };
}

/** Cuts a stored text into values that each fit one KV value. */
export function splitChunks(text: string, units = CHUNK_UNITS): string[] {
  if (text.length <= units) return [text];
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += units) chunks.push(text.slice(at, at + units));
  return chunks;
}

/** Bytes a string costs in a KV value (V8 serialization: one byte per unit when it can). */
export function storedSize(text: string): number {
  return (/[\u0100-\uffff]/.test(text) ? 2 * text.length : text.length) + 8;
}

function toStored(node: XmlNode): StoredNode {
  if (typeof node === "string") return node;
  const out: StoredNode = [node.name, { ...node.attrs }];
  for (const child of node.children) out.push(toStored(child));
  return out;
}

function fromStored(stored: StoredNode): XmlNode {
  if (typeof stored === "string") return stored;
  const [name, attrs, ...children] = stored;
  const element = new Element(name, { ...attrs });
  for (const child of children) {
    const node = fromStored(child);
    if (typeof node === "string") element.t(node);
    else element.append(node);
  }
  return element;
}
