/**
 * The main-thread side of a `<load thread="worker">` module: starts the Web Worker, forwards the
 * packets of the section's chain to it and its API calls back (protocol.ts), and restarts it
 * with backoff when it throws or stops answering to its start, queueing (bounded) the packets
 * that arrive meanwhile. Handler answers come back asynchronously; the router keeps each
 * sender→recipient pair in order (ROUTING.md R23), so many pairs can be in flight at once.
 */
import type { TimerId, WorkerHandle } from "../../../adapters/types.ts";
import type { ModuleApi } from "../../../server/module_api.ts";
import { appendEntries, rangeElement } from "../../../server/xdb_client.ts";
import type { Element } from "../../../xml/element.ts";
import type { HandlerResult, Phase } from "../../../tree/handler.ts";
import { Packet } from "../../../tree/packet.ts";
import {
  decodeData,
  decodeElement,
  encodeData,
  encodeElement,
  type FromWorker,
  type InitMessage,
  type ToWorker,
} from "./protocol.ts";

export interface WorkerModuleOptions {
  /** The module's `file:` URL. */
  url: string;
  /** The folder relative paths in the module's settings start from. */
  configDir: string;
  /** First restart delay; doubles per failure up to `restartMaxMs`. */
  restartDelayMs: number;
  restartMaxMs: number;
  /** How many packets wait while the worker is down; more are bounced. */
  queueLimit: number;
  /** How long a packet waits for the worker to come back before it is bounced. */
  queueTimeoutMs: number;
  /** How long a start (import + register) may take before the worker counts as hung. */
  startTimeoutMs: number;
  /** How long the module's onUnload callbacks may take. */
  unloadTimeoutMs: number;
}

interface Waiting {
  phase: Phase;
  packet: Packet;
  since: number;
  resolve: (result: HandlerResult) => void;
}

/** The worker's entry point; a compiled binary must embed it (`--include` in deno.json). */
export const RUNTIME_URL = new URL("./runtime.ts", import.meta.url).href;

export class WorkerModule {
  readonly #api: ModuleApi;
  readonly #options: WorkerModuleOptions;
  #worker: WorkerHandle | undefined;
  /** Counts starts, so the answers of a dead worker are told from its successor's. */
  #generation = 0;
  #ready = false;
  #stopped = false;
  #outbox: ToWorker[] = [];
  #nextPacket = 1;
  #inflight = new Map<number, (result: HandlerResult) => void>();
  #waiting: Waiting[] = [];
  #sweep: TimerId | undefined;
  #restartTimer: TimerId | undefined;
  #startTimer: TimerId | undefined;
  #delay: number;
  #readySince = 0;
  #phases = new Set<Phase>();
  #events = new Set<string>();
  /** The worker's timer ids → the main-thread timers that fire them. */
  #timers = new Map<number, TimerId>();
  #onStarted: ((error?: Error) => void) | undefined;
  #onUnloaded: (() => void) | undefined;

  constructor(api: ModuleApi, options: WorkerModuleOptions) {
    this.#api = api;
    this.#options = options;
    this.#delay = options.restartDelayMs;
  }

  /** Starts the worker; rejects when the module fails its first start (nothing restarts then). */
  start(): Promise<void> {
    this.#api.onUnload(() => this.stop());
    return new Promise((resolve, reject) => {
      this.#onStarted = (error) => (error ? reject(error) : resolve());
      this.#spawn();
    });
  }

  /** Runs the module's onUnload callbacks (bounded in time), then ends the worker for good. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clearTimer(this.#restartTimer);
    if (this.#ready && this.#worker) {
      await new Promise<void>((resolve) => {
        const timer = this.#api.timer.setTimeout(() => {
          this.#api.log.warn(`Worker module ${this.#options.url} did not finish unloading`);
          resolve();
        }, this.#options.unloadTimeoutMs);
        this.#onUnloaded = () => {
          this.#api.timer.clearTimeout(timer);
          resolve();
        };
        this.#send({ t: "unload" });
      });
    }
    this.#terminate();
    for (const waiting of this.#waiting.splice(0)) waiting.resolve("error");
  }

  /** True while a worker runs the module (for tests and status). */
  get running(): boolean {
    return this.#ready;
  }

  /** Kills the worker as a crash would (tests of the restart path). */
  crash(reason: string): void {
    this.#died(reason);
  }

  #spawn(): void {
    const generation = ++this.#generation;
    const worker = this.#api.adapters.workers.start(RUNTIME_URL);
    this.#worker = worker;
    worker.onMessage((data) => {
      if (generation !== this.#generation) return;
      for (const message of data as FromWorker[]) this.#receive(message);
    });
    worker.onError((message) => {
      if (generation === this.#generation) this.#died(`it threw: ${message}`);
    });
    worker.onMessageError(() => {
      if (generation === this.#generation) this.#died("a message from it could not be read");
    });
    this.#startTimer = this.#api.timer.setTimeout(() => {
      this.#startTimer = undefined;
      this.#died(`its start took longer than ${this.#options.startTimeoutMs} ms`);
    }, this.#options.startTimeoutMs);
    const api = this.#api;
    const init: InitMessage = {
      t: "init",
      url: this.#options.url,
      id: api.id,
      section: api.section,
      config: encodeElement(api.config),
      configDir: this.#options.configDir,
      hosts: [...api.hosts],
      now: api.timer.now(),
    };
    worker.postMessage(init);
  }

  /** The section's handler for one phase: the worker answers, later. */
  dispatch(phase: Phase, packet: Packet): HandlerResult | Promise<HandlerResult> {
    if (this.#stopped) return "error";
    return new Promise((resolve) => {
      if (this.#ready) return this.#sendPacket(phase, packet, resolve);
      if (this.#waiting.length >= this.#options.queueLimit) {
        this.#api.log.warn(
          `Worker module ${this.#options.url} is down and ${this.#options.queueLimit} packets ` +
            `wait already; bounced one`,
        );
        return resolve("error");
      }
      this.#waiting.push({ phase, packet, since: this.#api.timer.now(), resolve });
      this.#sweep ??= this.#api.timer.setTimeout(
        () => this.#expire(),
        this.#options.queueTimeoutMs,
      );
    });
  }

  #sendPacket(phase: Phase, packet: Packet, resolve: (result: HandlerResult) => void): void {
    const id = this.#nextPacket++;
    this.#inflight.set(id, resolve);
    this.#send({
      t: "packet",
      id,
      phase,
      xml: encodeElement(packet.element),
      hops: packet.hops,
      bounced: packet.bounced,
    });
  }

  /** Bounces the packets that waited longer than the queue timeout. */
  #expire(): void {
    this.#sweep = undefined;
    const limit = this.#api.timer.now() - this.#options.queueTimeoutMs;
    let expired = 0;
    while (this.#waiting.length > 0 && this.#waiting[0].since <= limit) {
      this.#waiting.shift()!.resolve("error");
      expired++;
    }
    if (expired > 0) {
      this.#api.log.warn(
        `Worker module ${this.#options.url} stayed down; bounced ${expired} waiting packet(s)`,
      );
    }
    if (this.#waiting.length > 0) {
      const next = this.#waiting[0].since + this.#options.queueTimeoutMs - this.#api.timer.now();
      this.#sweep = this.#api.timer.setTimeout(() => this.#expire(), Math.max(next, 1));
    }
  }

  #send(message: ToWorker): void {
    // One postMessage per tick: a burst of packets costs one structured clone.
    if (this.#outbox.length === 0) queueMicrotask(() => this.#flush());
    this.#outbox.push(message);
  }

  #flush(): void {
    const messages = this.#outbox;
    this.#outbox = [];
    if (this.#worker && messages.length > 0) {
      this.#worker.postMessage({ now: this.#api.timer.now(), messages });
    }
  }

  #receive(message: FromWorker): void {
    const api = this.#api;
    switch (message.t) {
      case "result": {
        const resolve = this.#inflight.get(message.id);
        this.#inflight.delete(message.id);
        resolve?.(message.result);
        return;
      }
      case "deliver": {
        const element = decodeElement(message.xml);
        api.deliver(new Packet(element, { hops: message.hops, bounced: message.bounced }));
        return;
      }
      case "log":
        api.log.log(message.level, message.text, message.host);
        return;
      case "xdb":
        this.#xdb(message);
        return;
      case "ready":
        return this.#started();
      case "failed":
        return this.#died(`its start failed: ${message.message}`);
      case "warning":
        api.log.warn(message.message);
        return;
      case "handle":
        if (!this.#phases.has(message.phase)) {
          this.#phases.add(message.phase);
          const phase = message.phase;
          api.handle(phase, (packet) => this.dispatch(phase, packet));
        }
        return;
      case "hook":
        if (!this.#events.has(message.event)) {
          this.#events.add(message.event);
          const event = message.event;
          api.hook(event, (data) => this.#forwardEvent(event, data), message.priority);
        }
        return;
      case "fire":
        api.fire(message.event, decodeData(message.data));
        return;
      case "timer-set": {
        const { tid } = message;
        const fire = () => {
          if (!message.repeat) this.#timers.delete(tid);
          this.#send({ t: "timer", tid });
        };
        this.#timers.set(
          tid,
          message.repeat
            ? api.timer.setInterval(fire, message.ms)
            : api.timer.setTimeout(fire, message.ms),
        );
        return;
      }
      case "timer-clear": {
        const id = this.#timers.get(message.tid);
        this.#timers.delete(message.tid);
        if (id !== undefined) api.timer.clearInterval(id);
        return;
      }
      case "host-add":
        if (!api.hosts.includes(message.pattern)) api.addHost(message.pattern);
        return;
      case "host-remove":
        api.removeHost(message.pattern);
        return;
      case "uplink":
        api.addUplink();
        return;
      case "unloaded":
        this.#onUnloaded?.();
        return;
    }
  }

  #forwardEvent(event: string, data: unknown): undefined {
    if (!this.#ready) return undefined;
    const encoded = encodeData(data);
    if (encoded.ok) this.#send({ t: "event", event, data: encoded.data });
    else this.#api.log.debug(`Event ${event} carries data a worker cannot receive; not sent`);
    return undefined;
  }

  #xdb(message: Extract<FromWorker, { t: "xdb" }>): void {
    const generation = this.#generation;
    const { xdb } = this.#api;
    const data = message.xml === undefined ? undefined : decodeElement(message.xml);
    const { owner, ns, range = {} } = message;
    const request: Promise<Element | string | void | undefined> = message.op === "get"
      ? xdb.get(owner, ns)
      : message.op === "set"
      ? xdb.set(owner, ns, data)
      : message.op === "insert"
      ? xdb.insert(owner, ns, data!, message.match)
      : message.op === "append"
      ? xdb.append(owner, ns, appendEntries(data!))
      : message.op === "range"
      ? xdb.range(owner, ns, range).then(rangeElement)
      : message.op === "trim"
      ? xdb.trim(owner, ns, range).then(String)
      : xdb.remove(owner, ns, message.match ?? "");
    request.then(
      (result) => {
        if (generation !== this.#generation) return;
        this.#send({
          t: "xdb-reply",
          rid: message.rid,
          ok: true,
          xml: typeof result === "string" ? result : result ? encodeElement(result) : undefined,
        });
      },
      (error) => {
        if (generation !== this.#generation) return;
        const text = error instanceof Error ? error.message : String(error);
        this.#send({ t: "xdb-reply", rid: message.rid, ok: false, error: text });
      },
    );
  }

  #started(): void {
    this.#clearTimer(this.#startTimer);
    this.#startTimer = undefined;
    this.#ready = true;
    this.#readySince = this.#api.timer.now();
    if (this.#onStarted) {
      this.#onStarted();
      this.#onStarted = undefined;
    } else {
      this.#api.log.notice(`Worker module ${this.#options.url} restarted`);
    }
    for (const waiting of this.#waiting.splice(0)) {
      this.#sendPacket(waiting.phase, waiting.packet, waiting.resolve);
    }
  }

  /** The worker threw, hung at start or failed to register: end it and start again later. */
  #died(reason: string): void {
    if (this.#stopped) return;
    this.#terminate();
    // Packets it had taken may or may not have been handled: bounce them rather than guess.
    for (const resolve of this.#inflight.values()) resolve("error");
    this.#inflight.clear();
    const url = this.#options.url;
    if (this.#onStarted) {
      this.#onStarted(new Error(`Worker module ${url} did not start: ${reason}`));
      this.#onStarted = undefined;
      this.#stopped = true;
      return;
    }
    // A worker that ran for a while before failing starts again quickly.
    if (this.#api.timer.now() - this.#readySince > this.#options.restartMaxMs) {
      this.#delay = this.#options.restartDelayMs;
    }
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#options.restartMaxMs);
    this.#api.log.error(`Worker module ${url} stopped: ${reason}; restarting in ${delay} ms`);
    this.#restartTimer = this.#api.timer.setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#stopped) this.#spawn();
    }, delay);
  }

  #terminate(): void {
    this.#ready = false;
    this.#clearTimer(this.#startTimer);
    this.#startTimer = undefined;
    for (const id of this.#timers.values()) this.#api.timer.clearInterval(id);
    this.#timers.clear();
    this.#outbox = [];
    this.#worker?.terminate();
    this.#worker = undefined;
    // Later messages of the old worker are ignored.
    this.#generation++;
  }

  #clearTimer(id: TimerId | undefined): void {
    if (id !== undefined) this.#api.timer.clearTimeout(id);
  }
}
