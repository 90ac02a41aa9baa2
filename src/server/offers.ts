/**
 * What sections offer each other inside one server, by name (docs/module-api.md): c2s offers its
 * stream acceptor so the http component can run WebSocket and BOSH clients through the same c2s
 * protocol, and the server offers a read-only view of itself to the admin API. A small registry
 * instead of modules importing each other: the offer is an interface, withdrawn on unload.
 */

/** One offer: the section that made it and the object it offered. */
export interface Offer<T> {
  readonly section: string;
  readonly value: T;
}

export class Offers {
  readonly #byName = new Map<string, Offer<unknown>[]>();

  /** Adds an offer; the returned function withdraws it. */
  offer(name: string, section: string, value: unknown): () => void {
    const offer = { section, value };
    const list = this.#byName.get(name) ?? [];
    list.push(offer);
    this.#byName.set(name, list);
    return () => {
      const at = list.indexOf(offer);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** The offers under `name`, oldest first (in section start order). */
  find<T>(name: string): Offer<T>[] {
    return [...(this.#byName.get(name) ?? [])] as Offer<T>[];
  }
}
