/** Signals for tests: nothing comes from the operating system; a test sends them with `emit`. */

import type { SignalAdapter, SignalName } from "../types.ts";

export class ManualSignals implements SignalAdapter {
  #listeners = new Map<SignalName, Set<() => void>>();

  on(signal: SignalName, callback: () => void): () => void {
    let set = this.#listeners.get(signal);
    if (!set) {
      set = new Set();
      this.#listeners.set(signal, set);
    }
    // Wrapped so the same function registered twice gets two independent registrations.
    const listener = () => callback();
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Delivers `signal` to its listeners; returns how many there were. */
  emit(signal: SignalName): number {
    const listeners = [...(this.#listeners.get(signal) ?? [])];
    for (const listener of listeners) listener();
    return listeners.length;
  }
}
