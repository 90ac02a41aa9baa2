/**
 * One running config section (`<service>`, `<xdb>` or `<log>`): an instance on the router, the
 * modules its elements turned on, and the `ModuleApi` each of them gets. Everything a module
 * registers goes through here, so stopping the section undoes all of it.
 */
import type { Adapters, TimerId } from "../adapters/types.ts";
import type { Chain } from "../tree/chain.ts";
import { normalizePattern, UPLINK } from "../tree/delivery_tree.ts";
import type { Handler, Phase } from "../tree/handler.ts";
import { Packet, type PacketKind } from "../tree/packet.ts";
import type { Router } from "../tree/router.ts";
import { Element } from "../xml/element.ts";
import { Events } from "./events.ts";
import { makeLogger } from "./logger.ts";
import {
  type ListenerAddress,
  type LogLevel,
  type ModuleApi,
  type ModuleDefinition,
  type SectionKind,
  SERVER_STOPPING,
  type Timers,
} from "./module_api.ts";
import { Offers } from "./offers.ts";
import { type LatencyHistogram, XdbRequests } from "./xdb_client.ts";
import { describe } from "../util/errors.ts";

/** The packet kinds each section kind receives for the hosts it registers. */
export const SECTION_PACKET_KINDS: Record<SectionKind, readonly PacketKind[]> = {
  service: ["normal", "route"],
  xdb: ["xdb"],
  log: ["log"],
};

export interface SectionOptions {
  id: string;
  kind: SectionKind;
  router: Router;
  adapters: Adapters;
  /** The folder of the config file that declared the section. */
  configDir: string;
  /** How long an XDB request waits for its reply (default 10 s). */
  xdbTimeoutMs?: number;
  /** The server's registry of `api.offer` (a section made alone gets its own). */
  offers?: Offers;
}

type Undo = () => void | Promise<void>;

export class Section {
  readonly id: string;
  readonly kind: SectionKind;
  readonly #options: SectionOptions;
  readonly #chain: Chain;
  readonly #events = new Events();
  readonly #xdb: XdbRequests;
  /** What to undo when the section stops, newest last (undone in reverse). */
  readonly #undo: Undo[] = [];
  #stopped = false;
  /** The host patterns the section's modules registered, in order. */
  readonly #hosts = new Set<string>();
  /** `#hosts` as the array `api.hosts` hands out, made again only when the hosts change (it is
   * read for every stanza the session manager routes). */
  #hostList: readonly string[] | undefined;
  /** The listener addresses its modules published (`api.publishAddress`). */
  readonly #addresses = new Set<ListenerAddress>();
  /** Every module's `onUnload` callbacks, in registration order. */
  readonly #unloadCallbacks: Undo[] = [];
  /** What the `server-stopping` hooks returned while `stopping()` fired them. */
  readonly #stoppingWork: unknown[] = [];

  constructor(options: SectionOptions) {
    this.id = options.id;
    this.kind = options.kind;
    this.#options = options;
    // The id is a host for normal packets (replies come back to it) and the section's own
    // kinds; for the other kinds it would take log lines and xdb requests about the id away
    // from the log and xdb sections (ROUTING.md R7).
    const idKinds = new Set<PacketKind>(["normal", ...SECTION_PACKET_KINDS[options.kind]]);
    this.#chain = options.router.addInstance(options.id, [...idKinds]);
    const router = options.router;
    this.#xdb = new XdbRequests({
      from: options.id,
      deliver: (element) => router.deliver(element),
      clock: options.adapters.clock,
      timeoutMs: options.xdbTimeoutMs,
    });
    // XDB replies come back to the section id; take them before any module sees them.
    this.#chain.add("precond", (packet) => {
      if (packet.element.name !== "xdb" || packet.kind !== "normal") return "pass";
      // Hosts compare as the tree compares them: an id written with capitals still matches.
      if (packet.host !== normalizePattern(this.id)) return "pass";
      if (!this.#xdb.handleReply(packet)) {
        this.#log("debug", `Ignored a late or unknown XDB reply ${packet.element.attrs.id}`);
      }
      return "done";
    }, "xdb-replies");
  }

  /** The listener addresses the section's modules published, in order. */
  addresses(): ListenerAddress[] {
    return [...this.#addresses];
  }

  /** The host patterns the section's modules registered, in order. */
  get hosts(): readonly string[] {
    return [...this.#hosts];
  }

  /** The handlers on this section's chain, in run order (for `jabberd tree`). */
  handlers(): { phase: Phase; label: string }[] {
    return this.#chain.describe();
  }

  /** Runs a module's `register(api)` with an API bound to this section. */
  async load(definition: ModuleDefinition, element: Element): Promise<void> {
    await definition.register(this.#api(element));
  }

  /**
   * Fires an event on the section's hooks from outside (the server fires `config-reloaded` on the
   * sections a SIGHUP left running, so they re-read files such as certificates).
   */
  notify(event: string, data?: unknown): void {
    this.#events.fire(event, data);
  }

  /**
   * The first phase of a server stop, before any section stops (`SERVER_STOPPING`): runs every
   * `server-stopping` hook of the section's modules and waits for the promises they return, so
   * that, say, c2s has closed its client streams and told the session manager before it stops.
   * A failing hook is logged; it does not keep the others from running.
   */
  async stopping(): Promise<void> {
    this.#events.fire(SERVER_STOPPING, undefined);
    const results = await Promise.allSettled(this.#stoppingWork.splice(0));
    for (const result of results) {
      if (result.status === "rejected") {
        this.#log("error", `Error while stopping section ${this.id}: ${describe(result.reason)}`);
      }
    }
  }

  /**
   * Stops the section without losing what it accepted: its hosts leave the tree (nothing new
   * arrives), the deliveries it had taken finish, then its modules' `onUnload` callbacks run
   * (newest module first) while XDB still answers to the section's id, so they can flush and
   * wait for their own work, and the XDB requests still in flight get their replies (work a
   * module started without waiting for it, such as a session's unavailable presence and last
   * logout). Last its id leaves the tree and its handlers, hooks and timers go.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const { router } = this.#options;
    for (const pattern of this.#hosts) {
      for (const kind of SECTION_PACKET_KINDS[this.kind]) {
        router.tree.remove(kind, pattern, this.id);
      }
    }
    await router.drain(this.id);
    for (const callback of this.#unloadCallbacks.splice(0).reverse()) {
      // One failing callback must not keep the other modules' callbacks from running.
      try {
        await callback();
      } catch (error) {
        this.#log("error", `Error while stopping section ${this.id}: ${describe(error)}`);
      }
    }
    await this.settle();
    await router.removeInstance(this.id);
    this.#xdb.cancelAll(`Section ${this.id} stopped`);
    const undo = this.#undo.splice(0).reverse();
    for (const step of undo) {
      try {
        await step();
      } catch (error) {
        this.#log("error", `Error while stopping section ${this.id}: ${describe(error)}`);
      }
    }
  }

  #api(element: Element): ModuleApi {
    // The API's methods are called with the API object as `this`; they reach the section here.
    // deno-lint-ignore no-this-alias
    const section = this;
    const { router, adapters } = this.#options;
    const kinds = SECTION_PACKET_KINDS[this.kind];
    const timers = new Set<TimerId>();
    const clock = adapters.clock;
    const offers = this.#options.offers ?? (this.#options.offers = new Offers());
    this.#undo.push(() => {
      for (const id of timers) clock.clearTimeout(id);
      timers.clear();
    });
    const timer: Timers = {
      setTimeout(callback, ms) {
        const id = clock.setTimeout(() => {
          timers.delete(id);
          callback();
        }, ms);
        timers.add(id);
        return id;
      },
      clearTimeout(id) {
        timers.delete(id);
        clock.clearTimeout(id);
      },
      setInterval(callback, ms) {
        const id = clock.setInterval(callback, ms);
        timers.add(id);
        return id;
      },
      clearInterval(id) {
        timers.delete(id);
        clock.clearInterval(id);
      },
      now: () => clock.now(),
    };
    return {
      id: this.id,
      section: this.kind,
      config: element,
      adapters,
      resolvePath: (path) => resolvePath(this.#options.configDir, path),
      handle(phase: Phase, handler: Handler) {
        section.#undo.push(section.#chain.add(phase, handler, element.local));
      },
      hook(event, handler, priority) {
        const hooked = event === SERVER_STOPPING ? section.#collecting(handler) : handler;
        section.#undo.push(section.#events.hook(event, hooked, priority));
      },
      fire: (event, data) => this.#events.fire(event, data),
      deliver: (packet: Element | Packet, cause?: Packet) => router.deliver(packet, cause),
      addHost(pattern) {
        for (const kind of kinds) router.tree.insert(kind, pattern, section.id);
        section.#hosts.add(pattern);
        section.#hostList = undefined;
        section.#undo.push(() => {
          for (const kind of kinds) router.tree.remove(kind, pattern, section.id);
          section.#hosts.delete(pattern);
          section.#hostList = undefined;
        });
      },
      removeHost(pattern) {
        for (const kind of kinds) router.tree.remove(kind, pattern, section.id);
        section.#hosts.delete(pattern);
        section.#hostList = undefined;
      },
      get hosts() {
        return section.#hostList ??= Object.freeze([...section.#hosts]);
      },
      servesHost(domain) {
        const host = normalizePattern(domain);
        // The id is a host too (R6), but a packet to it is for the section, not a served domain.
        return host !== normalizePattern(section.id) &&
          router.tree.serves("normal", host, section.id);
      },
      routedHosts() {
        const hosts: string[] = [];
        for (const [pattern, ids] of router.tree.entries("normal")) {
          if (pattern.startsWith("*") || pattern === UPLINK || ids.includes(section.id)) continue;
          hosts.push(pattern);
        }
        return hosts;
      },
      publishAddress(address) {
        const published = { ...address };
        section.#addresses.add(published);
        const withdraw = () => void section.#addresses.delete(published);
        section.#undo.push(withdraw);
        return withdraw;
      },
      offer(name, value) {
        const withdraw = offers.offer(name, section.id, value);
        section.#undo.push(withdraw);
        return withdraw;
      },
      offered: (name) => offers.find(name),
      addUplink() {
        this.addHost(UPLINK);
      },
      xdb: this.#xdb,
      log: makeLogger((level, text, host) => this.#log(level, text, host)),
      timer,
      onUnload(callback) {
        section.#unloadCallbacks.push(callback);
      },
    };
  }

  /**
   * Resolves once none of the section's XDB requests is in flight. Each one settles by its reply
   * or its timeout; what a reply wakes may ask again (the roster read of an unavailable presence
   * leads to a contact check), so it looks again after a turn of the event loop, once every
   * promise continuation has run.
   */
  async settle(): Promise<void> {
    do {
      await this.#xdb.settled();
      await new Promise((resolve) => setTimeout(resolve, 0));
    } while (this.#xdb.inFlight > 0);
  }

  /** How many of the section's XDB requests are in flight. */
  get xdbInFlight(): number {
    return this.#xdb.inFlight;
  }

  /** The section's XDB round trips by latency. */
  get xdbLatency(): LatencyHistogram {
    return this.#xdb.latency;
  }

  /**
   * A `server-stopping` hook that keeps what the module's hook returns for `stopping()` and
   * answers undefined, so that every hook runs (`fire` stops at the first answer).
   */
  #collecting<T>(handler: (data: T) => unknown): (data: T) => undefined {
    return (data) => {
      try {
        this.#stoppingWork.push(handler(data));
      } catch (error) {
        this.#stoppingWork.push(Promise.reject(error));
      }
      return undefined;
    };
  }

  #log(level: LogLevel, text: string, host?: string): void {
    const element = new Element("log", { type: level, from: host ?? this.id }, [text]);
    // A line written while a handler runs counts as caused by its packet (router.deliver's
    // default cause), so a loop through logging stops at the hop limit too (ROUTING.md R22).
    this.#options.router.deliver(new Packet(element));
  }
}

/** Joins a config-relative path (POSIX style; absolute paths and URLs are kept as they are). */
export function resolvePath(base: string, path: string): string {
  if (path.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(path) || base === "") return path;
  const parts = base.split("/");
  for (const part of path.split("/")) {
    if (part === "..") {
      if (parts.length > 1 || parts[0] !== "") parts.pop();
    } else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/") || ".";
}
