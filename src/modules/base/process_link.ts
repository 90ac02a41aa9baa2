/**
 * A child process that speaks an XML stream over its stdin/stdout, supervised
 * (docs/architecture.md "Processes, threads, nodes"; the `<exec>` and `<fork>` base modules): started through the process adapter,
 * its stderr logged line by line, restarted with exponential backoff when it exits, stopped
 * (killed) when it floods or writes XML that is not well-formed. Packets for it while it is down
 * wait in the link queue (bounded) and are delivered after the restart or bounced.
 *
 * With `acks` (`<fork>`, whose child is jabberd too) the stream counts acknowledgements
 * (src/tree/ROUTING.md R48): our header offers them, the child's header takes the offer, the child
 * answers `<a xmlns='jabberd:link' h='N'/>`, and what a dead child had not acknowledged is written
 * again to its successor. A restarted child is a new process that read nothing, so everything
 * unacknowledged goes again (at least once, never lost). `<exec>` runs third-party programs and
 * keeps the plain stream.
 */
import type { ChildProcess, TimerId } from "../../adapters/types.ts";
import type { ModuleApi } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import { Packet } from "../../tree/packet.ts";
import { advertiseAcksAttrs, advertisesAcks, readAck } from "../../link/acks.ts";
import { newStreamId } from "../../link/handshake.ts";
import { Outbox } from "../../link/outbox.ts";
import { type BytePipe, type StreamEnd, StreamLink } from "../../link/stream_link.ts";
import { describe, StreamError } from "../../util/errors.ts";

export interface ProcessLinkOptions {
  /** For the log: "Program bot.py", "Forked module bot.ts". */
  label: string;
  command: string;
  /** Read at each start (a forked child gets the section's hosts as they are then). */
  args: string[] | (() => string[]);
  cwd?: string;
  /** Our stream header's attributes. */
  header: Record<string, string>;
  /** Node links (`<fork>`) carry the hop count. */
  carryHops: boolean;
  /** Offer acknowledgements (R48): only when the program is jabberd (`<fork>`), never `<exec>`. */
  acks?: boolean;
  restartDelayMs: number;
  restartMaxMs: number;
  queueMax: number;
  queueAgeMs: number;
  /** Flood limits, per second of the adapter clock. */
  maxBytesPerSecond: number;
  maxPacketsPerSecond: number;
  /** Each element the program sends (after its header); throw a StreamError to refuse it. */
  onElement(element: Element): void;
}

/** Stderr lines longer than this are cut: a line is for the log, not for data. */
const MAX_LINE = 2000;

export class ProcessLink {
  readonly #api: ModuleApi;
  readonly #options: ProcessLinkOptions;
  readonly #outbox: Outbox;
  #child: ChildProcess | undefined;
  #link: StreamLink | undefined;
  #stopped = false;
  #restartTimer: TimerId | undefined;
  #delay: number;
  #startedAt = 0;
  /** Why we killed the child, so its exit is logged with the reason and not as a surprise. */
  #killReason: string | undefined;
  #windowStart = 0;
  #windowBytes = 0;
  #windowPackets = 0;
  #starts = 0;

  constructor(api: ModuleApi, options: ProcessLinkOptions) {
    this.#api = api;
    this.#options = options;
    this.#delay = options.restartDelayMs;
    this.#outbox = new Outbox({
      queueMax: options.queueMax,
      queueAgeMs: options.queueAgeMs,
      clock: api.timer,
      carryHops: options.carryHops,
      deliver: (packet) => api.deliver(packet),
      dropped: (packet, condition) =>
        api.log.warn(
          `${options.label} is down; dropped a ${packet.element.name} that cannot bounce ` +
            `(${condition})`,
        ),
    });
  }

  /** How many times the process was started (tests, status). */
  get starts(): number {
    return this.#starts;
  }

  /** True while the process runs and has sent its stream header. */
  get connected(): boolean {
    return this.#outbox.connected;
  }

  /** The pid of the running process, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    this.#spawn();
  }

  /** Sends a packet to the process, or queues it while the process is down. */
  send(packet: Packet): void {
    this.#outbox.send(packet);
  }

  /** Packets written to the running process and not yet acknowledged (tests, status). */
  get inFlight(): number {
    return this.#outbox.inFlight;
  }

  /**
   * Writes an element to the running process right away (replies to its own requests); counted
   * on an acknowledged stream, never written to a later process.
   */
  reply(element: Element): void {
    if (this.#link) this.#outbox.reply(this.#link, new Packet(element));
  }

  /** Ends the process for good; waiting packets bounce. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#restartTimer !== undefined) this.#api.timer.clearTimeout(this.#restartTimer);
    const child = this.#child;
    this.#link?.close("The server is stopping");
    this.#outbox.close("service-unavailable");
    if (child) {
      child.kill("SIGTERM");
      const killer = this.#api.adapters.clock.setTimeout(() => child.kill("SIGKILL"), 5000);
      await child.exited;
      this.#api.adapters.clock.clearTimeout(killer);
    }
  }

  #spawn(): void {
    const { label, command, cwd } = this.#options;
    const args = typeof this.#options.args === "function"
      ? this.#options.args()
      : this.#options.args;
    let child: ChildProcess;
    try {
      child = this.#api.adapters.process.spawn(command, { args, cwd });
    } catch (error) {
      this.#scheduleRestart(`${label} could not start: ${describe(error)}`);
      return;
    }
    this.#starts++;
    this.#child = child;
    this.#api.log.info(`${label} started (pid ${child.pid})`);
    this.#startedAt = this.#api.timer.now();
    this.#killReason = undefined;
    this.#windowStart = this.#startedAt;
    this.#windowBytes = 0;
    this.#windowPackets = 0;
    let stderr = "";
    child.onStderr((chunk) => {
      stderr += new TextDecoder().decode(chunk);
      let newline;
      while ((newline = stderr.indexOf("\n")) >= 0) {
        this.#stderrLine(stderr.slice(0, newline));
        stderr = stderr.slice(newline + 1);
      }
      if (stderr.length > MAX_LINE) {
        this.#stderrLine(stderr);
        stderr = "";
      }
    });
    let closeCallback: ((error?: Error) => void) | undefined;
    const pipe: BytePipe = {
      onData: (callback) =>
        child.onStdout((chunk) => {
          if (this.#overLimit(chunk.length)) return;
          callback(chunk);
        }),
      onClose: (callback) => closeCallback = callback,
      write: (data) => child.writeStdin(data),
      close: () => child.kill("SIGTERM"),
    };
    // Each run is a stream of its own; its id names it in the count (R48).
    const streamId = newStreamId();
    let acks = false;
    const link = new StreamLink(pipe, {
      onHeader: (header) => {
        // Both sides must offer: an older child that does not count gets the plain stream.
        acks = this.#options.acks === true && advertisesAcks(header);
        this.#outbox.attach(link, "", acks ? { id: streamId, previous: undefined } : undefined);
      },
      onElement: (element) => {
        // An acknowledgement is link bookkeeping, not a packet: not counted against the flood
        // limit (its bytes are), and never given to the section.
        if (acks && this.#acknowledgement(link, element)) return;
        if (++this.#windowPackets > this.#options.maxPacketsPerSecond && this.#flooded()) return;
        this.#options.onElement(element);
      },
      onEnd: (end) => this.#ended(child, link, end),
    });
    this.#link = link;
    link.open({
      ...this.#options.header,
      ...(this.#options.acks ? { id: streamId, ...advertiseAcksAttrs() } : {}),
    });
    child.exited.then((code) => {
      if (stderr !== "") this.#stderrLine(stderr);
      const current = child === this.#child;
      if (current) this.#child = undefined;
      // The stream ends with the process; told after #child is cleared, so not killed again.
      closeCallback?.();
      if (current) this.#exited(code);
    });
  }

  /**
   * True when `element` is an acknowledgement, which is applied; one that is malformed, goes back
   * or past what was written ends the stream (R48), and so this run of the child.
   */
  #acknowledgement(link: StreamLink, element: Element): boolean {
    let h: number | undefined;
    try {
      h = readAck(element);
    } catch (error) {
      throw new StreamError("invalid-xml", (error as Error).message);
    }
    if (h === undefined) return false;
    try {
      this.#outbox.acknowledged(link, h);
    } catch (error) {
      throw new StreamError("undefined-condition", (error as Error).message);
    }
    return true;
  }

  #stderrLine(line: string): void {
    const text = line.length > MAX_LINE ? line.slice(0, MAX_LINE) + "…" : line;
    if (text.trim() !== "") this.#api.log.notice(`${this.#options.label}: ${text}`);
  }

  /** Counts output bytes; true (and the process is being stopped) when it flooded. */
  #overLimit(bytes: number): boolean {
    if (this.#killReason !== undefined) return true;
    this.#windowBytes += bytes;
    return this.#windowBytes > this.#options.maxBytesPerSecond && this.#flooded();
  }

  /** Checks the window; kills the process when it is over a limit within one second. */
  #flooded(): boolean {
    const now = this.#api.timer.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#windowBytes = 0;
      this.#windowPackets = 0;
      return false;
    }
    const { maxBytesPerSecond, maxPacketsPerSecond } = this.#options;
    this.#kill(
      `it flooded the server (more than ${maxBytesPerSecond} bytes or ${maxPacketsPerSecond} ` +
        `packets in one second)`,
    );
    return true;
  }

  #kill(reason: string): void {
    if (this.#killReason !== undefined) return;
    this.#killReason = reason;
    this.#child?.kill("SIGKILL");
  }

  #ended(child: ChildProcess, link: StreamLink, end: StreamEnd): void {
    this.#outbox.detach(link);
    if (this.#stopped || child !== this.#child) return;
    // A stream error we raised (not-well-formed, a refused stanza) or the program's own close:
    // either way this run is over, and the exit restarts it.
    if (end.by === "local" && end.condition) {
      this.#kill(`it wrote what the stream refuses (${end.condition}: ${end.reason})`);
    } else if (end.by === "peer" && this.#killReason === undefined) {
      this.#kill(`its stream ended: ${end.reason}`);
    }
  }

  #exited(code: number): void {
    this.#link = undefined;
    if (this.#stopped) return;
    const why = this.#killReason
      ? `was stopped because ${this.#killReason}`
      : `exited with code ${code}`;
    this.#scheduleRestart(`${this.#options.label} ${why}`);
  }

  #scheduleRestart(reason: string): void {
    // A process that ran for a while before failing starts again quickly.
    if (this.#api.timer.now() - this.#startedAt > this.#options.restartMaxMs) {
      this.#delay = this.#options.restartDelayMs;
    }
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#options.restartMaxMs);
    this.#api.log.error(`${reason}; restarting in ${delay} ms`);
    this.#restartTimer = this.#api.timer.setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#stopped) this.#spawn();
    }, delay);
  }
}
