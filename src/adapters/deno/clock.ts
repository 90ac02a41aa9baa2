/** The clock adapter on the runtime's own timers (the memory adapter has a manual clock). */

import type { Clock, TimerId } from "../types.ts";

// Deno 2.9's global timers return Node-style Timeout objects; Number() of one is its id, which
// clearTimeout/clearInterval accept, so TimerId stays the plain number the contract promises.

export class DenoClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number): TimerId {
    return Number(globalThis.setTimeout(callback, ms));
  }

  clearTimeout(id: TimerId): void {
    globalThis.clearTimeout(id);
  }

  setInterval(callback: () => void, ms: number): TimerId {
    return Number(globalThis.setInterval(callback, ms));
  }

  clearInterval(id: TimerId): void {
    globalThis.clearInterval(id);
  }
}
