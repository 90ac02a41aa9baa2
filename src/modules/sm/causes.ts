/**
 * Which packet caused the work now running, so what the session manager sends, also after an
 * XDB round trip, counts one hop more than its cause (ROUTING.md R22) and a loop through the
 * session manager stops at the hop limit.
 *
 * The cause is carried explicitly while a packet's handler runs synchronously (a variable set
 * and restored around it), which is how every message is handled when its hooks answer at once.
 * Only a packet whose handling may go on after an await (everything but a message) also enters
 * an `AsyncLocalStorage` context, so continuations still see their cause: entering one per
 * message was 3% of routing's busy time plus the garbage of a context per stanza. A message whose
 * handling does go async (the recipient's blocklist or account read cold, offline storage) sends
 * what follows without a cause, counting hops from 0 as any callback does (R22); what it sends
 * then is the message itself or an error, which is never answered (R18), so no loop can form.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Packet } from "../../tree/packet.ts";

const stored = new AsyncLocalStorage<Packet>();
/** The packet whose handler runs synchronously right now. */
let running: Packet | undefined;

/** True for a message, bare or inside a `<route>` from c2s. */
function isMessage(packet: Packet): boolean {
  const element = packet.element;
  if (element.local === "message") return true;
  if (packet.kind !== "route") return false;
  for (const child of element.children) {
    if (typeof child !== "string") return child.local === "message";
  }
  return false;
}

/** Runs `work` with `packet` as the cause (for a non-message, also in what it awaits). */
export function withCause<T>(packet: Packet, work: () => T): T {
  const outer = running;
  running = packet;
  try {
    return isMessage(packet) ? work() : stored.run(packet, work);
  } finally {
    running = outer;
  }
}

/** The packet being handled by this line of work, if any. */
export function currentCause(): Packet | undefined {
  return running ?? stored.getStore();
}
