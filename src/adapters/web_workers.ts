/**
 * The worker adapter on the Web `Worker` API (HTML "Web workers"), shared by the Deno adapters
 * and, for modules no test replaced, the in-memory ones: a Worker is in-process and needs no
 * permission beyond reading its module, so tests may keep real threads.
 */

import type { WorkerAdapter, WorkerHandle } from "./types.ts";

class WebWorkerHandle implements WorkerHandle {
  #worker: Worker;
  #onError: ((message: string) => void) | undefined;

  constructor(url: string) {
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an uncaught error in a worker ends the whole process.
      event.preventDefault();
      this.#onError?.(event.message);
    };
  }

  postMessage(message: unknown): void {
    this.#worker.postMessage(message);
  }

  onMessage(callback: (data: unknown) => void): void {
    this.#worker.onmessage = (event: MessageEvent) => callback(event.data);
  }

  onError(callback: (message: string) => void): void {
    this.#onError = callback;
  }

  onMessageError(callback: () => void): void {
    this.#worker.onmessageerror = () => callback();
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

export class WebWorkers implements WorkerAdapter {
  start(url: string): WorkerHandle {
    return new WebWorkerHandle(url);
  }
}
