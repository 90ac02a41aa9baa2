/**
 * One server-to-server stream (RFC 6120 §4 with the `jabber:server` namespace, XEP-0220 §2.1's
 * `xmlns:db`): the connection, its parser, karma, restarts after STARTTLS and SASL (§4.3.3), and
 * the stream error that ends it (§4.9). Both directions (inbound.ts, outbound.ts) build on it.
 */
import type { Connection } from "../../adapters/types.ts";
import type { Timers } from "../../server/module_api.ts";
import { describe, StreamError, type StreamErrorCondition } from "../../util/errors.ts";
import { NS_DIALBACK, NS_SERVER, NS_STREAM } from "../../util/ns.ts";
import { type Element, escapeAttr } from "../../xml/element.ts";
import { StreamParser } from "../../xml/stream_parser.ts";
import { Karma } from "../../util/limits.ts";

export const STREAM_CLOSE = "</stream:stream>";

/** Our server stream header; `id` only on the receiving side (RFC 6120 §4.7.3). */
export function serverHeader(attrs: { from?: string; to?: string; id?: string }): string {
  let extra = "";
  for (const name of ["from", "to", "id"] as const) {
    const value = attrs[name];
    if (value !== undefined) extra += ` ${name}='${escapeAttr(value)}'`;
  }
  return `<?xml version='1.0'?><stream:stream xmlns='${NS_SERVER}' xmlns:stream='${NS_STREAM}'` +
    ` xmlns:db='${NS_DIALBACK}'${extra} version='1.0'>`;
}

/** A fresh stream id: 16 random bytes, hex (also what dialback keys are computed over). */
export function newStreamId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/**
 * Checks a peer's server stream header (RFC 6120 §4.7, §4.8.1): the `jabber:server` namespace
 * and version 1.x, which STARTTLS and SASL need. Throws the stream error.
 */
export function checkServerHeader(header: Element): void {
  if ((header.attrs.xmlns ?? "") !== NS_SERVER) {
    throw new StreamError("invalid-namespace", `The default namespace must be ${NS_SERVER}`);
  }
  const version = header.attrs.version;
  if (version === undefined || !/^1\.\d+$/.test(version)) {
    throw new StreamError("unsupported-version", "This server speaks XMPP version 1.0 only");
  }
}

export interface ServerStreamEvents {
  onHeader(header: Element): void | Promise<void>;
  onElement(element: Element): void | Promise<void>;
  /** Once, when the connection is gone (after a stream error too). */
  onClose(reason: string): void;
}

export interface ServerStreamOptions {
  timer: Timers;
  maxStanzaBytes: number;
  /** Karma: bytes per second and at once; no karma when absent (outbound streams). */
  karma?: { rate: number; burst: number };
  /** For the log line of a fault of ours. */
  fault(text: string): void;
}

/** A connection carrying one server stream, restartable, with the last time anything moved. */
export class ServerStream {
  readonly conn: Connection;
  lastActivity: number;
  #events: ServerStreamEvents;
  #options: ServerStreamOptions;
  #parser: StreamParser;
  #karma: Karma | undefined;
  #paused = false;
  #closed = false;
  /** Elements are handled one at a time, in order, even when a handler awaits. */
  #work: Promise<void> = Promise.resolve();

  constructor(conn: Connection, events: ServerStreamEvents, options: ServerStreamOptions) {
    this.conn = conn;
    this.#events = events;
    this.#options = options;
    this.lastActivity = options.timer.now();
    this.#parser = this.#newParser();
    if (options.karma) {
      this.#karma = new Karma(options.karma.rate, options.karma.burst, options.timer.now());
    }
    conn.onData((chunk) => this.#onData(chunk));
    conn.onClose((error) => this.#gone(error ? describe(error) : "the peer closed the connection"));
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Element): void {
    if (this.#closed) return;
    this.lastActivity = this.#options.timer.now();
    this.conn.write(typeof data === "string" ? data : data.toString());
  }

  /** The peer starts a new stream next: forget what the parser holds (RFC 6120 §4.3.3). */
  restart(): void {
    this.#parser.reset();
  }

  /** Ends the stream with a stream error and closes the connection (RFC 6120 §4.9.1.1). */
  streamError(condition: StreamErrorCondition, text?: string): void {
    if (this.#closed) return;
    this.write(new StreamError(condition, text).toElement().toString() + STREAM_CLOSE);
    this.#end(`stream error ${condition}${text ? `: ${text}` : ""}`);
  }

  /** Closes the stream cleanly (RFC 6120 §4.4). */
  close(reason = "closed"): void {
    if (this.#closed) return;
    this.write(STREAM_CLOSE);
    this.#end(reason);
  }

  #end(reason: string): void {
    this.conn.close();
    this.#gone(reason);
  }

  #gone(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.onClose(reason);
  }

  #newParser(): StreamParser {
    return new StreamParser({
      onStreamStart: (header) => this.#queue(() => this.#events.onHeader(header)),
      onStanza: (element) => this.#queue(() => this.#events.onElement(element)),
      onStreamEnd: () => this.#queue(() => this.close("the peer closed the stream")),
      onError: (error) => this.#queue(() => this.streamError(error.condition, error.message)),
    }, { maxStanzaBytes: this.#options.maxStanzaBytes });
  }

  /** Runs handlers in order; a StreamError ends the stream, anything else is our fault. */
  #queue(step: () => void | Promise<void>): void {
    this.#work = this.#work.then(async () => {
      if (this.#closed) return;
      try {
        await step();
      } catch (error) {
        if (error instanceof StreamError) return this.streamError(error.condition, error.text);
        this.#options.fault(`s2s stream failed: ${(error as Error)?.stack ?? error}`);
        this.streamError("internal-server-error");
      }
    });
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    const now = this.#options.timer.now();
    this.lastActivity = now;
    this.#parser.write(chunk);
    const wait = this.#karma?.read(chunk.length, now, this.#parser) ?? 0;
    if (wait > 0 && !this.#paused) {
      this.#paused = true;
      this.conn.pause();
      this.#options.timer.setTimeout(() => {
        this.#paused = false;
        if (!this.#closed) this.conn.resume();
      }, wait);
    }
  }
}
