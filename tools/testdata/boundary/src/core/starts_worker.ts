/** Breaks the rule: the core starts a Web Worker itself. */
export const startWorker = (url: string) => new Worker(url, { type: "module" });
