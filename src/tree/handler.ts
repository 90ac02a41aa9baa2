/** Handlers and their results: the words an instance's chain answers a packet with (ROUTING.md R9–R15). */
import type { Packet } from "./packet.ts";

/** The order in which an instance's handlers see a packet. */
export type Phase = "precond" | "cond" | "predeliver" | "deliver";

export const PHASES: readonly Phase[] = ["precond", "cond", "predeliver", "deliver"];

/**
 * - `pass`: not mine, try the next handler of this instance;
 * - `skip`: stop this instance's chain without taking the packet (filters);
 * - `done`: taken; stop this instance's chain;
 * - `error`: stop, and the packet bounces with `internal-server-error`;
 * - `unregister`: remove this handler, then go on as `pass`.
 */
export type HandlerResult = "pass" | "skip" | "done" | "error" | "unregister";

/** A handler may answer at once or later; the tree keeps per-pair order either way. */
export type Handler = (packet: Packet) => HandlerResult | Promise<HandlerResult>;
