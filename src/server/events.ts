/**
 * Named events inside one section, in Prosody's style: hooks run by priority (highest first)
 * until one returns something other than undefined, which becomes the result of `fire`.
 */

type Hook = { handler: (data: never) => unknown; priority: number };

export class Events {
  readonly #hooks = new Map<string, Hook[]>();

  /** Adds a hook; returns a function that removes it. */
  hook<T>(event: string, handler: (data: T) => unknown, priority = 0): () => void {
    const entry: Hook = { handler: handler as (data: never) => unknown, priority };
    const list = [...(this.#hooks.get(event) ?? []), entry];
    // Stable sort keeps registration order among equal priorities.
    list.sort((a, b) => b.priority - a.priority);
    this.#hooks.set(event, list);
    return () => {
      const rest = (this.#hooks.get(event) ?? []).filter((h) => h !== entry);
      if (rest.length === 0) this.#hooks.delete(event);
      else this.#hooks.set(event, rest);
    };
  }

  fire<T>(event: string, data: T): unknown {
    const list = this.#hooks.get(event);
    if (!list) return undefined;
    for (const { handler } of list) {
      const result = (handler as (data: T) => unknown)(data);
      if (result !== undefined) return result;
    }
    return undefined;
  }
}
