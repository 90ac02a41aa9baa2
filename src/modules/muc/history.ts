/**
 * The discussion history a new occupant gets (XEP-0045 §7.2.15): the room's last messages, cut by
 * the `<history maxstanzas maxchars seconds since/>` the client asked for and by the room's
 * `muc#maxhistoryfetch`, each with an XEP-0203 `<delay>` stamped by the room.
 */
import { NS_DELAY } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import type { HistoryEntry } from "./room.ts";

/** What `<history>` asks for; absent limits are not applied. */
export interface HistoryRequest {
  maxStanzas?: number;
  maxChars?: number;
  seconds?: number;
  since?: number;
}

/** Reads the `<history>` child of the join's `<x xmlns="…muc">`; bad values are ignored. */
export function readHistoryRequest(history: Element | undefined): HistoryRequest {
  if (!history) return {};
  const count = (name: string) => {
    const text = history.attrs[name];
    const n = Number(text);
    return text !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const since = history.attrs.since === undefined ? NaN : Date.parse(history.attrs.since);
  return {
    maxStanzas: count("maxstanzas"),
    maxChars: count("maxchars"),
    seconds: count("seconds"),
    since: Number.isNaN(since) ? undefined : since,
  };
}

/**
 * The entries to send, oldest first: the newest ones that fit every limit at once (§7.2.15 "the
 * service MUST send the smallest amount of traffic that meets any combination of the criteria").
 */
export function selectHistory(
  entries: readonly HistoryEntry[],
  request: HistoryRequest,
  maxFetch: number,
  now: number,
): HistoryEntry[] {
  const limit = Math.min(maxFetch, request.maxStanzas ?? Infinity);
  const after = Math.max(
    request.seconds === undefined ? -Infinity : now - request.seconds * 1000,
    request.since ?? -Infinity,
  );
  const chosen: HistoryEntry[] = [];
  let chars = 0;
  for (let i = entries.length - 1; i >= 0 && chosen.length < limit; i--) {
    const entry = entries[i];
    if (entry.stamp < after) break;
    chars += entry.chars;
    if (request.maxChars !== undefined && chars > request.maxChars) break;
    chosen.push(entry);
  }
  return chosen.reverse();
}

/** A history entry as sent to `to`: the message with the room's XEP-0203 delay. */
export function historyStanza(entry: HistoryEntry, to: string, room: string): Element {
  const stanza = entry.stanza.clone();
  stanza.attrs.to = to;
  stanza.append(
    xml("delay", { xmlns: NS_DELAY, from: room, stamp: new Date(entry.stamp).toISOString() }),
  );
  return stanza;
}
