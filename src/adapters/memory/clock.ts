/** A manual clock for tests: time stands still until `advance(ms)` runs the timers falling due. */

import type { Clock, TimerId } from "../types.ts";

interface Timer {
  id: TimerId;
  due: number;
  callback: () => void;
  /** Set for intervals: the period to reschedule with. */
  every?: number;
}

export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<TimerId, Timer>();

  /** Starts at `start` (ms since the epoch), 2024-01-01T00:00:00Z by default. */
  constructor(start = Date.UTC(2024, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerId {
    return this.#add(callback, ms);
  }

  clearTimeout(id: TimerId): void {
    this.#timers.delete(id);
  }

  setInterval(callback: () => void, ms: number): TimerId {
    // An interval of 0 would never let `advance` finish; real timers clamp it too.
    return this.#add(callback, ms, Math.max(1, ms));
  }

  clearInterval(id: TimerId): void {
    this.#timers.delete(id);
  }

  /** The number of timers waiting. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, running every timer due on the way in due order (ties in the
   * order they were set); `now()` reads each timer's due time while it runs.
   */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#fire(timer);
    }
    this.#now = target;
  }

  /** Like `advance`, but lets promises settle after each timer (for async timer callbacks). */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#fire(timer);
      await new Promise<void>((resolve) => globalThis.setTimeout(resolve, 0));
    }
    this.#now = target;
  }

  #add(callback: () => void, ms: number, every?: number): TimerId {
    const id = this.#nextId++;
    this.#timers.set(id, { id, due: this.#now + Math.max(0, ms), callback, every });
    return id;
  }

  #nextDue(target: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.#timers.values()) {
      if (timer.due <= target && (!next || timer.due < next.due)) next = timer;
    }
    return next;
  }

  #fire(timer: Timer): void {
    this.#now = Math.max(this.#now, timer.due);
    if (timer.every === undefined) this.#timers.delete(timer.id);
    else timer.due += timer.every;
    timer.callback();
  }
}
