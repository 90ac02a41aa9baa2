/**
 * A node started by the supervisor of `--nodes N` (README "Running a farm"): every listener it
 * opens shares its port with the other nodes (`reusePort`, SO_REUSEPORT: the kernel spreads
 * new connections over them), so one config serves N processes on the same addresses.
 */
import type { Adapters } from "../adapters/types.ts";

/** What a supervised node writes on standard output once it runs (the supervisor eats it). */
export const NODE_READY_LINE = "jabberd: this supervised node is up";

/** The same adapters, with `reusePort` on every TCP listener and HTTP server. */
export function supervisedAdapters(adapters: Adapters): Adapters {
  const { net, http } = adapters;
  return {
    ...adapters,
    net: {
      listen: (options, onConnection) => net.listen({ ...options, reusePort: true }, onConnection),
      connect: (options) => net.connect(options),
    },
    http: {
      serve: (options, handler) => http.serve({ ...options, reusePort: true }, handler),
      fetch: (input, init) => http.fetch(input, init),
      upgradeWebSocket: (request, options) => http.upgradeWebSocket(request, options),
    },
  };
}

/**
 * Undefined when this runtime lets two listeners share a port (two listens on one loopback port
 * with `reusePort`, closed at once), else why not. The supervisor asks before starting nodes.
 */
export async function whyPortsCannotBeShared(adapters: Adapters): Promise<string | undefined> {
  const options = { hostname: "127.0.0.1", port: 0, reusePort: true };
  let first;
  try {
    first = await adapters.net.listen(options, (conn) => conn.close());
    const second = await adapters.net.listen(
      { ...options, port: first.address.port },
      (conn) => conn.close(),
    );
    await second.close();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await first?.close();
  }
}
