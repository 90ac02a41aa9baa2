/**
 * The composition of a running server from a validated config: one `Section` per config
 * section on one router, started log → xdb → service (so startup is logged and storage is up
 * before the services that use it) and stopped in the reverse order. `reload` applies a new
 * config: new sections start, removed ones stop, changed ones restart, unchanged ones keep
 * running with their connections.
 */
import type { Adapters } from "../adapters/types.ts";
import { Router } from "../tree/router.ts";
import type { Packet } from "../tree/packet.ts";
import { Element } from "../xml/element.ts";
import {
  CONFIG_RELOADED,
  type ListenerAddress,
  type ModuleDefinition,
  type OptionReader,
  type SectionKind,
} from "./module_api.ts";
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
  /** Typed option reader for a module's element (from `src/config`). */
  options?: (element: Element) => OptionReader;
  /** Where log packets go that no log section takes (default: standard error). */
  fallbackLog?: (packet: Packet) => void;
  xdbTimeoutMs?: number;
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
  #file = "";

  constructor(options: ServerOptions) {
    this.#options = options;
    this.router = new Router({
      fallbackLog: options.fallbackLog ??
        ((packet) => options.adapters.stderr(defaultLogLine(packet, options.adapters))),
    });
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

  async start(plan: ServerPlan): Promise<void> {
    this.#file = plan.file;
    for (const section of ordered(plan.sections)) await this.#startSection(section);
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

  /** Stops every section, services first; queued XDB writes are flushed by their modules. */
  async stop(): Promise<void> {
    const ids = [...this.#running.keys()].reverse();
    for (const kind of [...START_ORDER].reverse()) {
      for (const id of ids) {
        if (this.#running.get(id)?.plan.kind === kind) await this.#stopSection(id);
      }
    }
    await this.router.idle();
  }

  async #startSection(plan: SectionPlan): Promise<void> {
    const section = new Section({
      id: plan.id,
      kind: plan.kind,
      router: this.router,
      adapters: this.#options.adapters,
      configDir: dirname(this.#file),
      options: this.#options.options,
      xdbTimeoutMs: this.#options.xdbTimeoutMs,
    });
    this.#running.set(plan.id, { plan, section, text: plan.element.toString() });
    try {
      for (const module of plan.modules) await section.load(module.definition, module.element);
    } catch (error) {
      // One section failing to start must not take the others down: report it and stop it.
      const reason = error instanceof Error ? error.message : String(error);
      this.#log(plan.id, `Section ${plan.id} failed to start and was stopped: ${reason}`);
      await this.#stopSection(plan.id);
    }
  }

  async #stopSection(id: string): Promise<void> {
    const entry = this.#running.get(id);
    if (!entry) return;
    this.#running.delete(id);
    await entry.section.stop();
  }

  #log(host: string, text: string): void {
    this.router.deliver(new Element("log", { type: "error", from: host }, [text]));
  }
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
