/**
 * Workers for tests: a program registered under a module URL runs in-process as that worker,
 * with structured-cloned messages delivered asynchronously both ways, errors and terminate() as
 * a Web Worker has them, so the worker host's restart logic can be driven step by step. Any
 * other URL starts a real Web Worker (web_workers.ts).
 */

import type { WorkerAdapter, WorkerHandle } from "../types.ts";
import { WebWorkers } from "../web_workers.ts";

/** What a program sees of its worker: the worker side of the message port. */
export interface MemoryWorkerScope {
  /** The module URL it was started with. */
  url: string;
  postMessage(message: unknown): void;
  /** Sets the callback for the starter's messages; a throw in it is an uncaught error. */
  onMessage(callback: (data: unknown) => void): void;
  /** Aborted when the starter terminates the worker. */
  signal: AbortSignal;
}

/** A worker's program; a throw (or a rejected promise) is an uncaught error of the worker. */
export type MemoryWorkerProgram = (scope: MemoryWorkerScope) => void | Promise<void>;

class MemoryWorkerHandle implements WorkerHandle {
  #toWorker: ((data: unknown) => void) | undefined;
  #fromWorker: ((data: unknown) => void) | undefined;
  #onError: ((message: string) => void) | undefined;
  #abort = new AbortController();

  constructor(url: string, program: MemoryWorkerProgram) {
    const scope: MemoryWorkerScope = {
      url,
      postMessage: (message) => {
        const copy = structuredClone(message);
        queueMicrotask(() => {
          if (!this.#abort.signal.aborted) this.#fromWorker?.(copy);
        });
      },
      onMessage: (callback) => this.#toWorker = callback,
      signal: this.#abort.signal,
    };
    // A worker starts after the current task, as a real one does.
    queueMicrotask(() => this.#run(() => program(scope)));
  }

  postMessage(message: unknown): void {
    const copy = structuredClone(message);
    queueMicrotask(() => {
      if (!this.#abort.signal.aborted) this.#run(() => this.#toWorker?.(copy));
    });
  }

  onMessage(callback: (data: unknown) => void): void {
    this.#fromWorker = callback;
  }

  onError(callback: (message: string) => void): void {
    this.#onError = callback;
  }

  onMessageError(): void {
    // Every message here is cloned in postMessage, where a failure throws at the sender.
  }

  terminate(): void {
    this.#abort.abort();
  }

  /** Runs worker code; what it throws is the worker's uncaught error. */
  async #run(work: () => void | Promise<void>): Promise<void> {
    if (this.#abort.signal.aborted) return;
    try {
      await work();
    } catch (error) {
      if (!this.#abort.signal.aborted) {
        this.#onError?.(`Uncaught ${String(error)}`);
      }
    }
  }
}

export class MemoryWorkers implements WorkerAdapter {
  readonly programs = new Map<string, MemoryWorkerProgram>();
  #web = new WebWorkers();

  constructor(programs: Record<string, MemoryWorkerProgram> = {}) {
    for (const [url, program] of Object.entries(programs)) this.programs.set(url, program);
  }

  /** Registers the program run by `start(url)`. */
  register(url: string, program: MemoryWorkerProgram): this {
    this.programs.set(url, program);
    return this;
  }

  start(url: string): WorkerHandle {
    const program = this.programs.get(url);
    return program ? new MemoryWorkerHandle(url, program) : this.#web.start(url);
  }
}
