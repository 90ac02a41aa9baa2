/**
 * A duplex XML stream over a byte pipe (RFC 6120 §4 streams, §4.9 stream errors; XEP-0114 §3): the
 * parser on the reading side, the stream header and stanzas on the writing side, and one way to
 * end it (a stream error, our close, the peer's close, or the pipe breaking), reported once.
 *
 * It knows nothing of handshakes or packets: `<accept>`, `<connect>` and `<exec>` build on it.
 */
import type { Connection } from "../adapters/types.ts";
import { StreamError, type StreamErrorCondition } from "../util/errors.ts";
import { NS_STREAM } from "../util/ns.ts";
import { type Element, escapeAttr } from "../xml/element.ts";
import { StreamParser } from "../xml/stream_parser.ts";

/** What a StreamLink needs of its pipe: a Connection, or a child process's stdin/stdout. */
export type BytePipe = Pick<Connection, "onData" | "onClose" | "write" | "close">;

/** How the stream ended, as told to `onEnd`. */
export interface StreamEnd {
  /** `local`: we closed it (possibly with a stream error); `peer`: the other side did. */
  by: "local" | "peer";
  /** The stream error condition, sent or received, if the stream ended with one. */
  condition?: StreamErrorCondition;
  /** A sentence for the log. */
  reason: string;
}

export interface StreamLinkEvents {
  /** The peer's `<stream:stream>` header. Throw a StreamError to refuse the stream. */
  onHeader(header: Element): void;
  /** Each element the peer sends. Throw a StreamError to end the stream with it. */
  onElement(element: Element): void;
  /** Once, when the stream is over for whatever reason. */
  onEnd(end: StreamEnd): void;
}

export interface StreamLinkOptions {
  /** Largest element accepted, in UTF-16 code units (default 1 MiB: links carry routed traffic). */
  maxStanzaBytes?: number;
}

/** One XML stream over one pipe. */
export class StreamLink {
  readonly #pipe: BytePipe;
  readonly #events: StreamLinkEvents;
  readonly #parser: StreamParser;
  #opened = false;
  #ended = false;

  constructor(pipe: BytePipe, events: StreamLinkEvents, options: StreamLinkOptions = {}) {
    this.#pipe = pipe;
    this.#events = events;
    this.#parser = new StreamParser({
      onStreamStart: (header) => this.#guard(() => events.onHeader(header)),
      onStanza: (element) => this.#guard(() => this.#onElement(element)),
      onStreamEnd: () => this.#finish({ by: "peer", reason: "The peer closed the stream" }, true),
      onError: (error) => this.fail(error.condition, error.message),
    }, { maxStanzaBytes: options.maxStanzaBytes ?? 1024 * 1024 });
    pipe.onData((chunk) => {
      if (!this.#ended) this.#parser.write(chunk);
    });
    pipe.onClose((error) => {
      this.#finish({
        by: "peer",
        reason: error ? `The connection broke: ${error.message}` : "The connection closed",
      }, false);
    });
  }

  /** True once the stream is over. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once our header was written. */
  get opened(): boolean {
    return this.#opened;
  }

  /**
   * Writes our `<stream:stream>` header with these attributes (`xmlns`, `id`, `to`, `from`, …);
   * the `stream` prefix is bound here.
   */
  open(attrs: Record<string, string>): void {
    if (this.#opened || this.#ended) return;
    this.#opened = true;
    let header = `<?xml version='1.0'?><stream:stream xmlns:stream='${NS_STREAM}'`;
    for (const key in attrs) header += ` ${key}='${escapeAttr(attrs[key])}'`;
    this.#pipe.write(header + ">");
  }

  /** Writes an element (or already serialized XML) to the stream. */
  send(data: Element | string): void {
    if (this.#ended) return;
    this.#pipe.write(typeof data === "string" ? data : data.toString());
  }

  /** Ends the stream with a stream error (RFC 6120 §4.9): the error, the close tag, the close. */
  fail(condition: StreamErrorCondition, text?: string): void {
    if (this.#ended) return;
    // A stream error must come inside a stream, so a header goes first if none was sent.
    if (!this.#opened) this.open({});
    this.#pipe.write(new StreamError(condition, text).toElement().toString());
    this.#finish({ by: "local", condition, reason: text ?? condition }, true);
  }

  /** Closes the stream normally. */
  close(reason = "Closed by this side"): void {
    this.#finish({ by: "local", reason }, true);
  }

  #onElement(element: Element): void {
    if (
      element.local === "error" && element.prefix === "stream" || element.is("error", NS_STREAM)
    ) {
      const condition = element.elements.find((child) => child.local !== "text")?.local;
      const text = element.getChildText("text");
      this.#finish({
        by: "peer",
        condition: condition as StreamErrorCondition | undefined,
        reason: `The peer sent a stream error: ${condition ?? "unknown"}${
          text ? ` (${text})` : ""
        }`,
      }, true);
      return;
    }
    this.#events.onElement(element);
  }

  #guard(fn: () => void): void {
    if (this.#ended) return;
    try {
      fn();
    } catch (error) {
      if (error instanceof StreamError) this.fail(error.condition, error.text);
      else {
        const message = error instanceof Error ? error.message : String(error);
        this.fail("internal-server-error", `Internal error: ${message}`);
      }
    }
  }

  #finish(end: StreamEnd, writeClose: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    if (writeClose) {
      try {
        if (this.#opened) this.#pipe.write("</stream:stream>");
        this.#pipe.close();
      } catch {
        // The pipe is already gone: nothing more to tell the peer.
      }
    }
    this.#events.onEnd(end);
  }
}
