/**
 * The NATS server of a farm on one machine (README "Running a farm"): whether a NATS server
 * answers at a URL, and starting `nats-server -js` on loopback when none does, its JetStream
 * store and log in the data folder, stopped by the supervisor after the nodes. Through the
 * process and net adapters (docs/adapters.md), so it runs on the memory adapters in tests.
 */
import type { Adapters, ChildProcess } from "../adapters/types.ts";

/** The program looked up on PATH. */
export const NATS_SERVER = "nats-server";
/** How long a starting nats-server may take to answer. */
const START_TIMEOUT_MS = 15_000;
/** How long a stopping nats-server may take before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

/** Host and port of a `nats://host:port` URL (port 4222 when not written). */
export function natsAddress(url: string): { hostname: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url.includes("://") ? url : `nats://${url}`);
  } catch {
    throw new Error(`"${url}" is not a NATS URL such as nats://127.0.0.1:4222`);
  }
  const hostname = parsed.hostname.replace(/^\[|\]$/g, "");
  return { hostname, port: parsed.port === "" ? 4222 : Number(parsed.port) };
}

/** True for an address only this machine can reach (where starting a server is ours to do). */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
}

/** True when a NATS server answers at `url`: it greets every connection with `INFO {…}`. */
export async function natsAnswers(adapters: Adapters, url: string, timeoutMs = 2000) {
  const { hostname, port } = natsAddress(url);
  let conn;
  try {
    conn = await adapters.net.connect({ hostname, port, timeoutMs });
  } catch {
    return false;
  }
  const greeted = await new Promise<boolean>((resolve) => {
    let text = "";
    const timer = adapters.clock.setTimeout(() => resolve(false), timeoutMs);
    conn.onData((chunk) => {
      text += new TextDecoder().decode(chunk);
      if (text.length >= 5) {
        adapters.clock.clearTimeout(timer);
        resolve(text.startsWith("INFO "));
      }
    });
    conn.onClose(() => {
      adapters.clock.clearTimeout(timer);
      resolve(false);
    });
  });
  conn.close();
  return greeted;
}

/** A nats-server this process started. */
export interface LocalNats {
  readonly url: string;
  readonly pid: number;
  /** Ends with SIGTERM (SIGKILL after 10 s) and waits until it has exited. */
  stop(): Promise<void>;
}

export interface LocalNatsOptions {
  hostname: string;
  port: number;
  /** Its folder: the JetStream store (`jetstream/`), `nats-server.log` and `.pid` go there. */
  dir: string;
}

/**
 * Starts `nats-server -js -a HOST -p PORT -sd DIR` and waits until it answers; throws a sentence
 * when it is not installed or does not come up (with the end of its log).
 */
export async function startLocalNats(
  adapters: Adapters,
  { hostname, port, dir }: LocalNatsOptions,
): Promise<LocalNats> {
  await adapters.files.mkdir(dir);
  const logFile = `${dir}/nats-server.log`;
  // Its pidfile: should the supervisor be killed (SIGKILL), the server it started can be found.
  const pidFile = `${dir}/nats-server.pid`;
  const args = [
    "-js",
    "-a",
    hostname,
    "-p",
    String(port),
    "-sd",
    dir,
    "-l",
    logFile,
    "-P",
    pidFile,
  ];
  let child: ChildProcess;
  try {
    child = adapters.process.spawn(NATS_SERVER, { args });
  } catch (error) {
    if ((error as Error).name === "NotFound") {
      throw new Error(
        `${NATS_SERVER} is not installed (not found on PATH), and the farm needs a NATS server: ` +
          "install it (Debian: apt install nats-server) or name a running one in the config's " +
          "<farm><nats>",
      );
    }
    throw error;
  }
  let exitCode: number | undefined;
  const exited = child.exited.then((code) => exitCode = code);
  // What it prints before its log file is open (bad flags) is kept for the error.
  let early = "";
  const keep = (chunk: Uint8Array) =>
    early = (early + new TextDecoder().decode(chunk)).slice(-2000);
  child.onStdout(keep);
  child.onStderr(keep);
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `nats://${host}:${port}`;
  const deadline = adapters.clock.now() + START_TIMEOUT_MS;
  while (!(await natsAnswers(adapters, url, 1000))) {
    if (exitCode !== undefined || adapters.clock.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      const log = await adapters.files.readTextFile(logFile).catch(() => "");
      const tail = (log + early).trim().split("\n").slice(-5).join("\n");
      throw new Error(
        `${NATS_SERVER} on ${url} did not start (` +
          (exitCode !== undefined ? `it exited with code ${exitCode}` : "no answer in 15 s") +
          `); the end of its output:\n${tail}`,
      );
    }
    await new Promise((resolve) => adapters.clock.setTimeout(() => resolve(undefined), 100));
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      if (exitCode !== undefined) return;
      child.kill("SIGTERM");
      const killer = adapters.clock.setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      adapters.clock.clearTimeout(killer);
    },
  };
}
