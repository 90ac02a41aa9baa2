/** A Web Worker for the worker adapter tests: answers `{ echo }` to each message, throws on "throw". */

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
};

scope.onmessage = (event) => {
  if (event.data === "throw") throw new Error("asked to throw");
  scope.postMessage({ echo: event.data });
};
