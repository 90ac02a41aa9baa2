/**
 * The client side of XDB: turns `api.xdb` calls into `<xdb>` packets addressed to the owner's
 * host and correlates the replies, which come back as normal packets to the section's id
 * (ROUTING.md, "xdb"). Every request settles: a result, an error reply, or a timeout.
 */
import type { Clock } from "../adapters/types.ts";
import { StanzaError } from "../util/errors.ts";
import type { Packet } from "../tree/packet.ts";
import { Element } from "../xml/element.ts";
import type { XdbClient } from "./module_api.ts";

export interface XdbClientOptions {
  /** The requesting section's id: replies are addressed to it. */
  from: string;
  deliver(element: Element): void;
  clock: Clock;
  /** How long to wait for a reply (default 10 s). */
  timeoutMs?: number;
}

interface Pending {
  resolve(reply: Element): void;
  reject(error: Error): void;
  timer: number;
}

/** Requests in flight for one section; `handleReply` is put early on the section's chain. */
export class XdbRequests implements XdbClient {
  readonly #options: XdbClientOptions;
  readonly #pending = new Map<string, Pending>();
  #counter = 0;
  /** Distinguishes this client's ids from an earlier run of the same section. */
  readonly #prefix = "x" + Math.floor(Math.random() * 0x100000000).toString(36) + "-";

  constructor(options: XdbClientOptions) {
    this.#options = options;
  }

  async get(owner: string, ns: string): Promise<Element | undefined> {
    const reply = await this.#request({ type: "get", to: owner, ns });
    return reply.elements[0];
  }

  async set(owner: string, ns: string, data: Element | undefined): Promise<void> {
    await this.#request({ type: "set", to: owner, ns }, data);
  }

  async insert(owner: string, ns: string, item: Element, match?: string): Promise<void> {
    const attrs: Record<string, string> = { type: "set", to: owner, ns, action: "insert" };
    if (match !== undefined) attrs.match = match;
    await this.#request(attrs, item);
  }

  async remove(owner: string, ns: string, match: string): Promise<void> {
    await this.#request({ type: "set", to: owner, ns, action: "remove", match });
  }

  /** Takes the reply to one of our requests; answers whether it was one. */
  handleReply(packet: Packet): boolean {
    const element = packet.element;
    if (element.name !== "xdb" || packet.kind !== "normal") return false;
    const id = element.attrs.id;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (!pending) return false;
    this.#pending.delete(id!);
    this.#options.clock.clearTimeout(pending.timer);
    if (element.attrs.type === "error") {
      const reason = element.getChildText("error") ?? "the storage refused the request";
      pending.reject(new StanzaError("internal-server-error", `XDB error: ${reason}`));
    } else pending.resolve(element);
    return true;
  }

  /** Fails every request in flight (the section is stopping). */
  cancelAll(reason: string): void {
    for (const [id, pending] of this.#pending) {
      this.#options.clock.clearTimeout(pending.timer);
      pending.reject(new StanzaError("internal-server-error", reason));
      this.#pending.delete(id);
    }
  }

  #request(attrs: Record<string, string>, child?: Element): Promise<Element> {
    const id = this.#prefix + (++this.#counter).toString(36);
    const element = new Element("xdb", { ...attrs, from: this.#options.from, id });
    if (child) element.append(child);
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    const promise = new Promise<Element>((resolve, reject) => {
      const timer = this.#options.clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new StanzaError(
            "remote-server-timeout",
            `XDB ${attrs.type} for ${attrs.to} (${attrs.ns}) got no reply in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
    this.#options.deliver(element);
    return promise;
  }
}
