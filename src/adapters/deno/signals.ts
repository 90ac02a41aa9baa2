/** The signal adapter on `Deno.addSignalListener`: SIGTERM/SIGINT stop, SIGHUP reloads. */

import type { SignalAdapter, SignalName } from "../types.ts";

export class DenoSignals implements SignalAdapter {
  on(signal: SignalName, callback: () => void): () => void {
    Deno.addSignalListener(signal, callback);
    return () => Deno.removeSignalListener(signal, callback);
  }
}
