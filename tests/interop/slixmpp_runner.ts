/**
 * Runs one script of `tests/interop/slixmpp/` (slixmpp 1.8 over STARTTLS) against an interop
 * server as `name@domain`, the one way every slixmpp interop test starts its peer.
 */
import assert from "node:assert/strict";
import { CA_FILE, type InteropServer } from "./harness.ts";
import { PYTHON } from "./peers.ts";

const SCRIPTS = new URL("./slixmpp/", import.meta.url).pathname;

/** The scripts' own timeout unless a test gives another (`--timeout`, in seconds). */
export const SLIXMPP_TIMEOUT_S = 20;

/** A script is killed when it outlives its own timeout by this much (it hangs). */
const GRACE_S = 15;

export interface SlixmppOptions {
  /** The local part to log in as, at the server's domain. */
  name: string;
  password: string;
  /** The script's own arguments, after the connection ones. */
  args?: string[];
  timeoutS?: number;
}

export interface SlixmppRun {
  /** 0 passed, 1 a check failed, 2 timeout, 3 no session (`common.py`). */
  code: number;
  stdout: string;
  stderr: string;
  /**
   * Asserts the script passed, showing its output and the server's log when it did not;
   * returns its output lines.
   */
  passed(): string[];
}

/**
 * Runs `file` to its end and returns how it ended; it does not assert, so that a test can check
 * a refusal or talk to the script while it runs before calling `passed()`.
 */
export async function runSlixmpp(
  server: InteropServer,
  file: string,
  { name, password, args = [], timeoutS = SLIXMPP_TIMEOUT_S }: SlixmppOptions,
): Promise<SlixmppRun> {
  const child = new Deno.Command(PYTHON, {
    args: [
      `${SCRIPTS}${file}`,
      ...["--host", server.hostname, "--port", String(server.port), "--ca", CA_FILE],
      ...["--jid", `${name}@${server.domain}`, "--password", password],
      ...["--timeout", String(timeoutS), ...args],
    ],
    cwd: SCRIPTS,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), (timeoutS + GRACE_S) * 1000);
  let output: Deno.CommandOutput;
  try {
    output = await child.output();
  } finally {
    clearTimeout(killer);
  }
  const decoder = new TextDecoder();
  const { code } = output;
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  return {
    code,
    stdout,
    stderr,
    passed() {
      assert.equal(
        code,
        0,
        `${file} failed (status ${code}):\n${stdout}\n${stderr}\n` +
          `server log:\n${server.logs.slice(-20).join("\n")}`,
      );
      return stdout.trim().split("\n");
    },
  };
}

/** Runs `file` and asserts it passed (`SlixmppRun.passed()`); returns its output lines. */
export async function slixmppLines(
  server: InteropServer,
  file: string,
  options: SlixmppOptions,
): Promise<string[]> {
  return (await runSlixmpp(server, file, options)).passed();
}
