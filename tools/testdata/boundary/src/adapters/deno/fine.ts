/** Keeps the rule: adapters may use everything the runtime has. */
import { createSocket } from "node:dgram";

export const openSocket = () => createSocket("udp4");
export const startWorker = (url: string) => new Worker(url, { type: "module" });
export const workingDirectory = () => Deno.cwd();
