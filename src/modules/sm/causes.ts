/**
 * Which packet caused the work now running, across awaits, so what the session manager sends
 * after an XDB round trip still counts one hop more than its cause (ROUTING.md R22) and a loop
 * through the session manager stops at the hop limit.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Packet } from "../../tree/packet.ts";

const current = new AsyncLocalStorage<Packet>();

/** Runs `work` (and everything it awaits or starts) with `packet` as the cause. */
export function withCause<T>(packet: Packet, work: () => T): T {
  return current.run(packet, work);
}

/** The packet being handled by this line of work, if any. */
export function currentCause(): Packet | undefined {
  return current.getStore();
}
