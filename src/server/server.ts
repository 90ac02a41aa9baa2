/**
 * The composition of a running server from a validated config: one `Section` per config
 * section on one router, started log → xdb → service (so startup is logged and storage is up
 * before the services that use it) and stopped in the reverse order, after a `server-stopping`
 * phase in which every section still answers. `reload` applies a new
 * config: new sections start, removed ones stop, changed ones restart, unchanged ones keep
 * running with their connections.
 */
import type { Adapters, TimerId } from "../adapters/types.ts";
import { Router } from "../tree/router.ts";
import { type Packet, PACKET_KINDS } from "../tree/packet.ts";
import { Element } from "../xml/element.ts";
import {
  CONFIG_RELOADED,
  type ListenerAddress,
  type LogLevel,
  type ModuleDefinition,
  type SectionKind,
  SERVER_VIEW,
  type ServerView,
  STOPPING_TIMEOUT_MS,
} from "./module_api.ts";
import { Offers } from "./offers.ts";
import { Section } from "./section.ts";

/** One section of a validated config (what `src/config` produces). */
export interface SectionPlan {
  id: string;
  kind: SectionKind;
  element: Element;
  modules: { definition: ModuleDefinition; element: Element }[];
}

export interface ServerPlan {
  /** The config file (its folder resolves relative paths). */
  file: string;
  sections: SectionPlan[];
}

export interface ServerOptions {
  adapters: Adapters;
  /** Where log packets go that no log section takes (default: standard error). */
  fallbackLog?: (packet: Packet) => void;
  xdbTimeoutMs?: number;
  /** How long `stop()` waits for the `server-stopping` hooks (default `STOPPING_TIMEOUT_MS`). */
  stoppingTimeoutMs?: number;
  /**
   * Start even when a listener cannot bind (`jabberd start --keep-going`): its section is
   * logged and stopped like any section that fails to start. By default `start()` fails.
   */
  keepGoing?: boolean;
}

export interface ReloadSummary {
  started: string[];
  stopped: string[];
  restarted: string[];
  unchanged: string[];
}

const START_ORDER: readonly SectionKind[] = ["log", "xdb", "service"];

export class Server {
  readonly router: Router;
  readonly #options: ServerOptions;
  readonly #running = new Map<string, { plan: SectionPlan; section: Section; text: string }>();
  readonly #offers = new Offers();
  #reloader: (() => void) | undefined;
  #file = "";

  constructor(options: ServerOptions) {
    this.#options = { ...options, adapters: withListenErrors(options.adapters) };
    this.router = new Router({
      fallbackLog: options.fallbackLog ??
        ((packet) => options.adapters.stderr(defaultLogLine(packet, options.adapters))),
    });
    this.#offers.offer(SERVER_VIEW, "jabberd", this.#view());
  }

  /** What `jabberd start` runs on SIGHUP, so the admin API can ask for the same (ServerView). */
  set reloader(reload: () => void) {
    this.#reloader = reload;
  }

  /** The read-only view the admin API gets through `api.offered(SERVER_VIEW)`. */
  #view(): ServerView {
    return {
      sections: () =>
        this.sections().map((section) => ({
          id: section.id,
          kind: section.kind,
          hosts: section.hosts,
          handlers: section.handlers(),
          xdbInFlight: section.xdbInFlight,
          xdbLatency: {
            counts: [...section.xdbLatency.counts],
            sumMs: section.xdbLatency.sum,
            count: section.xdbLatency.count,
          },
        })),
      routing: () => this.router.stats(),
      memory: () => this.#options.adapters.process.memory(),
      tree: () =>
        PACKET_KINDS.flatMap((kind) =>
          this.router.tree.entries(kind).map(([pattern, ids]) => ({ kind, pattern, ids }))
        ),
      addresses: () => this.addresses(),
      reload: () => {
        if (!this.#reloader) return false;
        this.#reloader();
        return true;
      },
    };
  }

  /** The running sections, in start order. */
  sections(): Section[] {
    return [...this.#running.values()].map((entry) => entry.section);
  }

  /** Every listener the running sections published (`api.publishAddress`), by section. */
  addresses(): (ListenerAddress & { section: string })[] {
    return this.sections().flatMap((section) =>
      section.addresses().map((address) => ({ ...address, section: section.id }))
    );
  }

  /**
   * Starts every section. A section that fails is logged and stopped while the others run, but
   * a listener that cannot bind fails the whole start (a server without its port is no server)
   * unless `keepGoing`: then everything started is stopped and the `ListenError` thrown.
   */
  async start(plan: ServerPlan): Promise<void> {
    this.#file = plan.file;
    try {
      for (const section of ordered(plan.sections)) await this.#startSection(section);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async reload(plan: ServerPlan): Promise<ReloadSummary> {
    this.#file = plan.file;
    const summary: ReloadSummary = { started: [], stopped: [], restarted: [], unchanged: [] };
    const next = new Map(plan.sections.map((section) => [section.id, section]));
    for (const [id, entry] of [...this.#running].reverse()) {
      const replacement = next.get(id);
      if (replacement && replacement.element.toString() === entry.text) {
        summary.unchanged.push(id);
        entry.section.notify(CONFIG_RELOADED);
        continue;
      }
      await this.#stopSection(id);
      (replacement ? summary.restarted : summary.stopped).push(id);
    }
    for (const section of ordered(plan.sections)) {
      if (this.#running.has(section.id)) continue;
      await this.#startSection(section);
      if (!summary.restarted.includes(section.id)) summary.started.push(section.id);
    }
    return summary;
  }

  /**
   * Stops the server without losing what users and modules did. First every section runs its
   * `server-stopping` hooks while the whole tree still answers (c2s closes the client streams
   * and ends their sessions in the session manager, which sends unavailable presence and
   * stores the last logout through XDB); then the tree finishes what it is delivering; then the
   * sections stop, services → xdb → log, each flushing its queued writes, whatever their order
   * in the config.
   */
  async stop(): Promise<void> {
    await this.#stopping();
    const ids = [...this.#running.keys()].reverse();
    for (const kind of [...START_ORDER].reverse()) {
      for (const id of ids) {
        if (this.#running.get(id)?.plan.kind === kind) await this.#stopSection(id);
      }
    }
    await this.router.idle();
  }

  /**
   * The stopping phase, bounded by `stoppingTimeoutMs`: every section's `server-stopping` hooks
   * at once, then the work they set off until nothing moves (deliveries finished and no XDB
   * request in flight in any section), while every host is still in the tree.
   */
  async #stopping(): Promise<void> {
    const waiting = new Set(this.#running.keys());
    const work = (async () => {
      await Promise.all(
        this.sections().map((section) => section.stopping().then(() => waiting.delete(section.id))),
      );
      do {
        await this.router.idle();
        await Promise.all(this.sections().map((section) => section.settle()));
      } while (this.sections().some((section) => section.xdbInFlight > 0));
    })();
    const { clock } = this.#options.adapters;
    const limit = this.#options.stoppingTimeoutMs ?? STOPPING_TIMEOUT_MS;
    let timer: TimerId | undefined;
    let timedOut = false;
    const timeout = new Promise<void>((resolve) =>
      timer = clock.setTimeout(() => resolve(void (timedOut = true)), limit)
    );
    await Promise.race([work, timeout]);
    clock.clearTimeout(timer!);
    if (timedOut) {
      const what = waiting.size > 0
        ? `section(s) ${[...waiting].join(", ")} did not finish their server-stopping work`
        : "XDB requests are still in flight";
      this.#log("jabberd", "warn", `Stopping anyway: ${what} after ${limit} ms`);
    }
  }

  async #startSection(plan: SectionPlan): Promise<void> {
    const section = new Section({
      id: plan.id,
      kind: plan.kind,
      router: this.router,
      adapters: this.#options.adapters,
      configDir: dirname(this.#file),
      xdbTimeoutMs: this.#options.xdbTimeoutMs,
      offers: this.#offers,
    });
    this.#running.set(plan.id, { plan, section, text: plan.element.toString() });
    try {
      for (const module of plan.modules) await section.load(module.definition, module.element);
    } catch (error) {
      // One section failing to start must not take the others down: report it and stop it.
      const reason = error instanceof Error ? error.message : String(error);
      this.#log(plan.id, "error", `Section ${plan.id} failed to start and was stopped: ${reason}`);
      await this.#stopSection(plan.id);
      const listenError = findListenError(error);
      if (listenError && !this.#options.keepGoing) throw listenError;
    }
  }

  async #stopSection(id: string): Promise<void> {
    const entry = this.#running.get(id);
    if (!entry) return;
    this.#running.delete(id);
    await entry.section.stop();
  }

  #log(host: string, level: LogLevel, text: string): void {
    this.router.deliver(new Element("log", { type: level, from: host }, [text]));
  }
}

/** A listener that could not bind, with a sentence that says what to do about it. */
export class ListenError extends Error {
  readonly hostname: string;
  readonly port: number;

  constructor(hostname: string, port: number, cause: unknown) {
    super(listenProblem(hostname, port, cause), { cause });
    this.name = "ListenError";
    this.hostname = hostname;
    this.port = port;
  }
}

function listenProblem(hostname: string, port: number, cause: unknown): string {
  const { name, code, message } = (cause ?? {}) as {
    name?: string;
    code?: string;
    message?: string;
  };
  if (name === "AddrInUse" || code === "EADDRINUSE") {
    return `Port ${port} is already in use, probably by another jabberd or XMPP server; ` +
      `find it with \`ss -ltnp 'sport = :${port}'\``;
  }
  if (name === "PermissionDenied" || code === "EACCES") {
    return `Cannot listen on port ${port}: permission denied; ports below 1024 need root or ` +
      "the CAP_NET_BIND_SERVICE capability";
  }
  return `Cannot listen on ${hostname}:${port}: ${message ?? String(cause)}`;
}

/** The ListenError behind a section's start failure, through `cause` links, if any. */
function findListenError(error: unknown): ListenError | undefined {
  for (let at = error, depth = 0; at instanceof Error && depth < 10; at = at.cause, depth++) {
    if (at instanceof ListenError) return at;
  }
  return undefined;
}

/**
 * The adapters with `net.listen` failures turned into `ListenError`s naming the address, so
 * the server knows a bind failed whichever module (c2s, `<accept>`, http) tried.
 */
function withListenErrors(adapters: Adapters): Adapters {
  const net = adapters.net;
  return {
    ...adapters,
    net: {
      async listen(options, onConnection) {
        try {
          return await net.listen(options, onConnection);
        } catch (error) {
          throw new ListenError(options.hostname, options.port, error);
        }
      },
      connect: (options) => net.connect(options),
    },
  };
}

function ordered(sections: SectionPlan[]): SectionPlan[] {
  return START_ORDER.flatMap((kind) => sections.filter((section) => section.kind === kind));
}

/** The folder part of a path ("" for a bare file name). */
export function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/** A log line as the fallback writes it: `date host type text`. */
export function defaultLogLine(packet: Packet, adapters: Adapters): string {
  const element = packet.element;
  const date = new Date(adapters.clock.now()).toISOString();
  return `${date} ${element.attrs.from ?? "-"} ${
    element.attrs.type ?? "notice"
  } ${element.text()}\n`;
}
