/**
 * Throwaway servers for the comparison: ours (`bench/jabberd.xml`), Prosody 0.12 and ejabberd
 * 23.01 (Debian packages), each with its own config and data in a temporary folder, listening
 * on a free loopback port, pinned to one core with `taskset`, accounts created in bulk. Every
 * process started is recorded by PID and killed by `killAll()`, even after a failure.
 */
import { type Account, writeProsodyAccounts, xep0227 } from "./accounts.ts";
import { spawnLogged } from "./proc.ts";
import { freePort, stopChild, waitForPort } from "../../tests/jabberd_process.ts";
import { V8_FLAGS } from "../../src/adapters/deno/v8_flags.ts";

export const SERVER_CORE = "1";
export const DOMAIN = "localhost";
const ROOT = new URL("../../", import.meta.url).pathname;
/**
 * Message archiving (XEP-0313) in every server alike: on for every user (`always`, the default
 * of our server and of bench/jabberd.xml) or off with BENCH_MAM=never, so that no server is
 * measured archiving while another is not (bench/README.md, "Archiving").
 */
export const ARCHIVING = (Deno.env.get("BENCH_MAM") ?? "always") !== "never";

export interface Running {
  name: string;
  /** The PID of the server process now running (it changes with `restart`). */
  readonly pid: number;
  port: number;
  /** Stops the server (gracefully first) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same data, port and config: caches are cold. */
  restart(): Promise<void>;
  /** The tail of its log, for error reports. */
  logTail(): Promise<string>;
}

export interface StartOptions {
  cpuProfDir?: string;
  /** Message archiving (XEP-0313) on, in each server's own way; default `ARCHIVING`. */
  archiving?: boolean;
}

export interface ServerKind {
  name: string;
  /** Why it cannot run here (a missing package), or undefined. */
  missing(): Promise<string | undefined>;
  /** Seconds spent creating `accounts` are reported through `onImport`. */
  start(
    dir: string,
    accounts: Account[],
    onImport: (seconds: number, how: string) => void,
    options: StartOptions,
  ): Promise<Running>;
}

const children = new Map<number, Deno.ChildProcess>();
/** PIDs of daemons started indirectly (epmd), killed at the end. */
const extraPids = new Set<number>();

/** Kills every process this module started, by PID: SIGTERM, then SIGKILL after 3 s. */
export async function killAll(): Promise<void> {
  for (const [pid, child] of children) {
    try {
      child.kill("SIGTERM");
    } catch {
      children.delete(pid);
    }
  }
  const end = performance.now() + 3000;
  while (children.size > 0 && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const child of children.values()) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }
  for (const pid of extraPids) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // Gone.
    }
  }
  extraPids.clear();
}

function spawn(command: string, args: string[], logFile: string, env: Record<string, string> = {}) {
  const { child } = spawnLogged(command, args, logFile, env);
  children.set(child.pid, child);
  child.status.finally(() => children.delete(child.pid));
  return child;
}

/** Runs a command to its end (bounded); throws with its output when it fails. */
async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<string> {
  const child = new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  children.set(child.pid, child);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  children.delete(child.pid);
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed: ${text.slice(-2000)}`);
  return text;
}

/** `jabberd import -c CONFIG FILE` (XEP-0227 accounts) to its end; throws with its output. */
export async function jabberdImport(
  config: string,
  file: string,
  env: Record<string, string>,
): Promise<void> {
  await run(Deno.execPath(), ["run", "-A", `${ROOT}main.ts`, "import", "-c", config, file], env);
}

async function which(command: string): Promise<boolean> {
  try {
    return (await new Deno.Command("which", { args: [command], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** A free loopback TCP port (bound then released): bench/farm.ts and others take it from here. */
export { freePort };

async function tail(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).slice(-3000);
  } catch {
    return "(no log)";
  }
}

/** A started server; `launch` starts the process again (on the same data) for `restart`. */
async function running(
  name: string,
  port: number,
  log: string,
  launch: () => Promise<Deno.ChildProcess>,
): Promise<Running> {
  let child = await launch();
  return {
    name,
    get pid() {
      return child.pid;
    },
    port,
    stop: () => stopChild(child, "SIGTERM", 10_000),
    async restart() {
      await stopChild(child, "SIGTERM", 10_000);
      child = await launch();
    },
    logTail: () => tail(log),
  };
}

/**
 * Our server's V8 flags: the ones it is started with (`deno task start`, src/adapters/deno/
 * v8_flags.ts), then `BENCH_V8_FLAGS=--a,--b` to compare the effect of others (one
 * `--v8-flags=` argument: Deno takes only the last).
 */
function v8Flags(): string[] {
  const extra = Deno.env.get("BENCH_V8_FLAGS");
  return [`--v8-flags=${[...V8_FLAGS, ...(extra ? extra.split(",") : [])].join(",")}`];
}

export const ours: ServerKind = {
  name: "jabberd (ours)",
  missing: async () => (await which("taskset")) ? undefined : "taskset (util-linux) is missing",
  async start(dir, accounts, onImport, options) {
    const port = freePort();
    const env = {
      BENCH_PORT: String(port),
      BENCH_DATA: `${dir}/data`,
      BENCH_DOMAIN: DOMAIN,
      BENCH_MAM: (options.archiving ?? ARCHIVING) ? "always" : "never",
    };
    const config = `${ROOT}bench/jabberd.xml`;
    await Deno.writeTextFile(`${dir}/users.xml`, xep0227(DOMAIN, accounts, false));
    const started = performance.now();
    await jabberdImport(config, `${dir}/users.xml`, env);
    onImport((performance.now() - started) / 1000, "jabberd import of a XEP-0227 file");
    const prof = options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : [];
    const log = `${dir}/jabberd.log`;
    return await running(this.name, port, log, async () => {
      const child = spawn(
        "taskset",
        [
          "-c",
          SERVER_CORE,
          Deno.execPath(),
          "run",
          "-A",
          ...prof,
          ...v8Flags(),
          `${ROOT}main.ts`,
          "start",
          "-c",
          config,
        ],
        log,
        { ...env, NO_COLOR: "1" },
      );
      await waitForPort(child, port, { timeoutMs: 60_000 });
      return child;
    });
  },
};

export const prosody: ServerKind = {
  name: "Prosody",
  async missing() {
    if (!await which("prosody")) return "prosody is missing (Debian package prosody, 0.12)";
    return (await which("taskset")) ? undefined : "taskset (util-linux) is missing";
  },
  async start(dir, accounts, onImport, options) {
    const archiving = options.archiving ?? ARCHIVING;
    const port = freePort();
    const data = `${dir}/data`;
    const started = performance.now();
    await writeProsodyAccounts(data, DOMAIN, accounts);
    onImport((performance.now() - started) / 1000, "accounts/*.dat files written directly");
    const log = `${dir}/prosody.log`;
    await Deno.writeTextFile(
      `${dir}/prosody.cfg.lua`,
      `-- Throwaway Prosody for the comparison benchmark (bench/compare/servers.ts)
run_as_root = true
daemonize = false
pidfile = "${dir}/prosody.pid"
data_path = "${data}"
plugin_paths = {}
log = { { levels = { min = "warn" }, to = "console" } }
gc = { mode = "generational" }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
http_ports = { }
https_ports = { }
component_ports = { }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
storage = "internal"
-- Archiving as ours does it: every message of every user, kept for ever.
default_archive_policy = true
archive_expires_after = "never"
-- No mod_limits: rate limits off.
modules_enabled = { "roster", "saslauth", "disco", "carbons", "private", "vcard_legacy",
  "version", "uptime", "time", "ping", "blocklist", "offline"${archiving ? `, "mam"` : ""} }
modules_disabled = { "s2s" }
VirtualHost "${DOMAIN}"
`,
    );
    return await running(this.name, port, log, async () => {
      const child = spawn(
        "taskset",
        ["-c", SERVER_CORE, "prosody", "--config", `${dir}/prosody.cfg.lua`],
        log,
      );
      await waitForPort(child, port, { timeoutMs: 30_000 });
      return child;
    });
  },
};

/** PIDs of processes named `name` (to find the epmd an Erlang node starts). */
function pidsNamed(name: string): Set<number> {
  const found = new Set<number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/comm`).trim() === name) {
        found.add(Number(entry.name));
      }
    } catch {
      // Gone.
    }
  }
  return found;
}

export const ejabberd: ServerKind = {
  name: "ejabberd",
  async missing() {
    try {
      await Deno.stat("/usr/lib/x86_64-linux-gnu/ejabberd-23.01");
    } catch {
      if (!await which("ejabberdctl")) {
        return "ejabberd is missing (Debian package ejabberd, 23.01)";
      }
    }
    if (!await which("erl")) return "erl is missing (comes with the Debian package ejabberd)";
    return (await which("taskset")) ? undefined : "taskset (util-linux) is missing";
  },
  async start(dir, accounts, onImport, options) {
    const archiving = options.archiving ?? ARCHIVING;
    const port = freePort();
    const node = `bench${Deno.pid}x${port}@localhost`;
    const cookie = `bench${crypto.randomUUID().replaceAll("-", "")}`;
    const log = `${dir}/ejabberd.out`;
    await Deno.mkdir(`${dir}/spool`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/ejabberd.yml`,
      `# Throwaway ejabberd for the comparison benchmark (bench/compare/servers.ts)
hosts: ["${DOMAIN}"]
loglevel: warning
log_rotate_count: 0
listen:
  -
    port: ${port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: none
    access: all
    starttls_required: false
auth_method: [internal]
auth_password_format: scram
auth_scram_hash: sha
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
shaper: {}
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages: 5000
  c2s_shaper: none
modules:
  mod_roster: {}
  mod_disco: {}
  mod_private: {}
  mod_vcard: {}
  mod_version: {}
  mod_time: {}
  mod_ping: {}
  mod_blocking: {}
  mod_privacy: {}
  mod_offline: {}
  mod_admin_extra: {}
${archiving ? "  mod_mam: {default: always, db_type: mnesia}\n" : ""}`,
    );
    const env = {
      EJABBERD_CONFIG_PATH: `${dir}/ejabberd.yml`,
      EJABBERD_LOG_PATH: `${dir}/ejabberd.log`,
      ERL_CRASH_DUMP: `${dir}/erl_crash.dump`,
      ERL_LIBS: "/usr/lib/x86_64-linux-gnu",
      HOME: dir,
    };
    const server = await running(this.name, port, `${dir}/ejabberd.log`, async () => {
      const epmdBefore = pidsNamed("epmd");
      const child = spawn(
        "taskset",
        [
          "-c",
          SERVER_CORE,
          "erl",
          "-sname",
          node,
          "-setcookie",
          cookie,
          "-noinput",
          "+K",
          "true",
          "+P",
          "250000",
          "-mnesia",
          "dir",
          `"${dir}/spool"`,
          "-s",
          "ejabberd",
        ],
        log,
        env,
      );
      try {
        await waitForPort(child, port, { timeoutMs: 60_000 });
      } finally {
        for (const pid of pidsNamed("epmd")) if (!epmdBefore.has(pid)) extraPids.add(pid);
      }
      return child;
    });
    // In files of 1000 accounts: one import_piefxis of 14,000 accounts with rosters of 50 outlasted
    // ejabberd_ctl's RPC ("Failed RPC connection to the node: timeout").
    const started = performance.now();
    const importFile = (file: string, from: number) =>
      run(
        "erl",
        [
          "-sname",
          `ctl${Deno.pid}x${port}n${from}@localhost`,
          "-setcookie",
          cookie,
          "-noinput",
          "-hidden",
          "-s",
          "ejabberd_ctl",
          "-extra",
          node,
          "import_piefxis",
          file,
        ],
        env,
        600_000,
      );
    for (let from = 0; from < accounts.length; from += 1000) {
      const file = `${dir}/users-${from}.xml`;
      await Deno.writeTextFile(file, xep0227(DOMAIN, accounts.slice(from, from + 1000), true));
      // The port opens before mnesia's tables exist: the first import may find none, so wait.
      for (let attempt = 1;; attempt++) {
        try {
          await importFile(file, from);
          break;
        } catch (error) {
          if (attempt >= 10 || !String(error).includes("no_exists")) throw error;
          await new Promise((r) => setTimeout(r, 3000));
        }
      }
    }
    onImport(
      (performance.now() - started) / 1000,
      "ejabberd_ctl import_piefxis of a XEP-0227 file",
    );
    return server;
  },
};

export const ALL: Record<string, ServerKind> = { ours, prosody, ejabberd };
