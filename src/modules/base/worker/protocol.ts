/**
 * The messages between the main thread and a `<load thread="worker">` module's Web Worker (the
 * Jabber II "own thread"): packets cross as serialized XML plus their hop count, and each side
 * posts its messages of one tick as one batch.
 */
import type { Phase } from "../../../tree/handler.ts";
import type { HandlerResult } from "../../../tree/handler.ts";
import type { LogLevel, SectionKind, XdbRange } from "../../../server/module_api.ts";
import { Element } from "../../../xml/element.ts";
import { parseFragment } from "../../../xml/stream_parser.ts";

/** What the worker needs to run the module: sent once, before anything else. */
export interface InitMessage {
  t: "init";
  url: string;
  id: string;
  section: SectionKind;
  /** The `<load>` element, serialized. */
  config: string;
  configDir: string;
  hosts: string[];
  now: number;
}

/** Main thread → worker, inside a batch. */
export type ToWorker =
  | { t: "packet"; id: number; phase: Phase; xml: string; hops: number; bounced: boolean }
  | { t: "xdb-reply"; rid: number; ok: boolean; xml?: string; error?: string }
  | { t: "timer"; tid: number }
  | { t: "event"; event: string; data: unknown }
  | { t: "unload" };

/** A batch from the main thread carries its clock, so `api.timer.now()` follows the adapter. */
export interface ToWorkerBatch {
  now: number;
  messages: ToWorker[];
}

/** Worker → main thread, inside a batch (an array). */
export type FromWorker =
  | { t: "ready" }
  | { t: "failed"; message: string }
  | { t: "warning"; message: string }
  | { t: "handle"; phase: Phase }
  | { t: "hook"; event: string; priority: number }
  | { t: "fire"; event: string; data: unknown }
  | { t: "result"; id: number; result: HandlerResult }
  | { t: "deliver"; xml: string; hops: number; bounced: boolean }
  | {
    t: "xdb";
    rid: number;
    op: "get" | "set" | "insert" | "remove" | "append" | "range" | "trim";
    owner: string;
    ns: string;
    xml?: string;
    match?: string;
    /** range and trim: which items (append carries its entries as `xml`). */
    range?: XdbRange;
  }
  | { t: "log"; level: LogLevel; text: string; host?: string }
  | { t: "timer-set"; tid: number; ms: number; repeat: boolean }
  | { t: "timer-clear"; tid: number }
  | { t: "host-add"; pattern: string }
  | { t: "host-remove"; pattern: string }
  | { t: "uplink" }
  | { t: "unloaded" };

/**
 * Serializes an element so that it parses back with the same namespace: a stanza taken from a
 * stream inherits `jabber:client` from the stream header, which its own text does not say.
 */
export function encodeElement(element: Element): string {
  const ns = element.ns;
  if (ns === "" || element.prefix !== "" || element.attrs.xmlns !== undefined) {
    return element.toString();
  }
  const copy = new Element(element.name, { ...element.attrs, xmlns: ns }, element.children);
  return copy.toString() + INHERITED_MARK;
}

/** Parses what `encodeElement` wrote; an added `xmlns` is taken off again (the ns stays). */
export function decodeElement(text: string): Element {
  if (!text.endsWith(INHERITED_MARK)) return parseFragment(text);
  const element = parseFragment(text.slice(0, -INHERITED_MARK.length));
  const ns = element.attrs.xmlns;
  delete element.attrs.xmlns;
  element.ns = ns;
  return element;
}

/** Follows the XML of an element whose `xmlns` attribute was added only to carry its namespace. */
const INHERITED_MARK = "\u0000";

/**
 * Event data crosses by structured clone; an element crosses as XML. What cannot be cloned
 * (functions, class instances holding them) gives undefined, and the caller says so in the log.
 */
export function encodeData(data: unknown): { ok: true; data: unknown } | { ok: false } {
  if (data instanceof Element) return { ok: true, data: { [ELEMENT_KEY]: encodeElement(data) } };
  try {
    return { ok: true, data: structuredClone(data) };
  } catch {
    return { ok: false };
  }
}

export function decodeData(data: unknown): unknown {
  if (data && typeof data === "object" && ELEMENT_KEY in data) {
    return decodeElement((data as Record<string, string>)[ELEMENT_KEY]);
  }
  return data;
}

const ELEMENT_KEY = "__jabberdElement";
