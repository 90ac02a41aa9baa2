/**
 * A throwaway `nats-server` with JetStream for tests (docs/farm.md), on loopback on a free port,
 * its store in a temporary folder removed when stopped. Stopped by its own PID only.
 */

import { findProgram, freePort } from "../_throwaway.ts";

export interface ThrowawayNats extends AsyncDisposable {
  /** `nats://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and removes its folder; again does nothing. */
  stop(): Promise<void>;
  /** The running server's PID; undefined while it is killed. */
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL), keeping its store: a crash (docs/farm.md "Failures"). */
  kill(): Promise<void>;
  /** Starts it again on the same port and store folder (stopping it first if it runs). */
  restart(): Promise<void>;
}

/**
 * Starts a server, or answers why it cannot (`nats-server` not installed): under `CI=true`
 * that is an error instead, since CI installs it (`.ci/run`).
 */
export async function startNats(): Promise<ThrowawayNats | string> {
  const program = await findProgram("nats-server");
  if (!program) {
    const why = "nats-server is not installed (Debian: apt-get install nats-server)";
    if (Deno.env.get("CI") === "true") throw new Error(why);
    return why;
  }
  const folder = await Deno.makeTempDir({ prefix: "jabberd_nats_" });
  const port = freePort();
  let server: Running | undefined;
  try {
    server = await run(program, port, folder);
  } catch (error) {
    await Deno.remove(folder, { recursive: true }).catch(() => {});
    throw error;
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server?.end("SIGTERM");
    await Deno.remove(folder, { recursive: true }).catch(() => {});
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    [Symbol.asyncDispose]: stop,
    get pid() {
      return server?.pid;
    },
    async kill() {
      await server?.end("SIGKILL");
      server = undefined;
    },
    async restart() {
      if (stopped) throw new Error("this nats-server was stopped for good");
      await server?.end("SIGTERM");
      server = undefined;
      server = await run(program, port, folder);
    },
  };
}

/** One nats-server process on `port` with its store in `folder`. */
interface Running {
  readonly pid: number;
  /** Sends `signal` (once) and waits until it exited. */
  end(signal: Deno.Signal): Promise<void>;
}

/** Starts nats-server and waits (at most 10 s) until it accepts connections. */
async function run(program: string, port: number, folder: string): Promise<Running> {
  const child = new Deno.Command(program, {
    args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", folder],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) log += decoder.decode(chunk);
  })().catch(() => {});
  let running = true;
  const end = async (signal: Deno.Signal) => {
    if (!running) return;
    running = false;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
    await reading;
  };
  const deadline = Date.now() + 10_000;
  while (true) {
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      connection.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await end("SIGKILL");
        throw new Error(`nats-server did not start on port ${port}:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { pid: child.pid, end };
}
