/**
 * A throwaway PostgreSQL server for tests, on loopback, in a temporary folder it removes when
 * disposed (docs/runtime-notes.md "Checked for planned work"): PostgreSQL refuses to run as root,
 * so under root `initdb` and `pg_ctl` run as the `postgres` user (`runuser`), which owns the folder.
 */

import { findProgram, freePort } from "../_throwaway.ts";

/** Where Debian installs the server's programs (not on PATH); else PATH is searched. */
const DEBIAN_BIN = "/usr/lib/postgresql";

export interface ThrowawayPostgres extends Disposable {
  /** `postgres://` URL of the `jabberd` database, with `query` as its query string. */
  url(query?: Record<string, string>): string;
  /** Runs SQL in the `jabberd` database with `psql`; answers its rows, one a line, `|` between. */
  psql(sql: string): Promise<string>;
  /** Stops the server and removes its folder; again does nothing. Synchronous, for `unload`. */
  stop(): void;
  /** Stops the server (`pg_ctl stop -m fast`), keeping its data: a database outage. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port and data. */
  resume(): Promise<void>;
}

/**
 * Starts a server, or answers why it cannot (PostgreSQL not installed): under `CI=true` that
 * is an error instead, since CI installs it (`.ci/run`).
 */
export async function startPostgres(): Promise<ThrowawayPostgres | string> {
  const bin = await findBin();
  if (!bin) {
    const why = "PostgreSQL is not installed (Debian: apt-get install postgresql)";
    if (Deno.env.get("CI") === "true") throw new Error(why);
    return why;
  }
  const root = Deno.uid() === 0;
  const folder = await Deno.makeTempDir({ prefix: "jabberd_pg_" });
  const command = (program: string, args: string[]) =>
    root
      ? new Deno.Command("runuser", {
        args: ["-u", "postgres", "--", `${bin}/${program}`, ...args],
      })
      : new Deno.Command(`${bin}/${program}`, { args });
  const as = async (program: string, args: string[]) =>
    answer(program, await command(program, args).output());
  try {
    if (root) {
      const id = (flag: string) => new Deno.Command("id", { args: [flag, "postgres"] }).output();
      const [uid, gid] = await Promise.all([id("-u"), id("-g")]);
      const number = (output: Deno.CommandOutput) =>
        Number(new TextDecoder().decode(output.stdout));
      await Deno.chown(folder, number(uid), number(gid));
    }
    const data = `${folder}/data`;
    await as("initdb", ["-D", data, "-U", "jabberd", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    const port = freePort();
    const settings = [
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${folder}`,
      // A throwaway server need not survive a crash: no waiting for the disk.
      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
    ].join(" ");
    const log = `${folder}/log`;
    const start = () =>
      as("pg_ctl", ["-D", data, "-l", log, "-o", settings, "-w", "-t", "20", "start"])
        .catch(async (error) => {
          // pg_ctl only says to look at the log: the reason is there.
          const reason = await Deno.readTextFile(log).catch(() => "");
          throw new Error(`${error.message}\n${reason.trim()}`);
        });
    await start();
    let running = true;
    let halted = false;
    const stop = () => {
      if (!running) return;
      running = false;
      try {
        const args = ["-D", data, "-m", "immediate", "-w", "stop"];
        if (!halted) answer("pg_ctl", command("pg_ctl", args).outputSync());
      } finally {
        Deno.removeSync(folder, { recursive: true });
      }
    };
    const connect = ["-h", "127.0.0.1", "-p", String(port), "-U", "jabberd"];
    try {
      await as("createdb", [...connect, "jabberd"]);
    } catch (error) {
      stop();
      throw error;
    }
    return {
      url(query = {}) {
        const search = new URLSearchParams(query).toString();
        return `postgres://jabberd@127.0.0.1:${port}/jabberd${search ? `?${search}` : ""}`;
      },
      async psql(sql) {
        const args = [...connect, "-d", "jabberd", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"];
        return answer("psql", await command("psql", [...args, "-c", sql]).output()).trim();
      },
      stop,
      [Symbol.dispose]: stop,
      async halt() {
        if (!running || halted) return;
        await as("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "20", "stop"]);
        halted = true;
      },
      async resume() {
        if (!running || !halted) return;
        await start();
        halted = false;
      },
    };
  } catch (error) {
    await Deno.remove(folder, { recursive: true }).catch(() => {});
    throw error;
  }
}

/** A program's standard output, or an error with what it wrote when it failed. */
function answer(program: string, output: Deno.CommandOutput): string {
  const decoder = new TextDecoder();
  if (output.code !== 0) {
    const text = decoder.decode(output.stderr) || decoder.decode(output.stdout);
    throw new Error(`${program} failed (${output.code}): ${text.trim()}`);
  }
  return decoder.decode(output.stdout);
}

/** The folder of PostgreSQL's programs: Debian's newest version, else wherever `pg_ctl` is. */
async function findBin(): Promise<string | undefined> {
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir(DEBIAN_BIN)) {
      if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch {
    // Not Debian's layout: look on PATH.
  }
  const debian = versions.length > 0 ? [`${DEBIAN_BIN}/${Math.max(...versions)}/bin`] : [];
  const pgCtl = await findProgram("pg_ctl", debian);
  return pgCtl?.slice(0, pgCtl.lastIndexOf("/"));
}
