/**
 * The real peers the interop tests start (slixmpp, tmux, Profanity) and the rule for a missing
 * one: under `CI=true` it is a failure with a clear message (`.ci/run` installs them), elsewhere
 * the tests skip and say why.
 */

export const CI = Deno.env.get("CI") === "true";

export const PYTHON = "/usr/bin/python3";

export interface Peer {
  name: string;
  /** Why the peer cannot run; undefined when it can. */
  missing: string | undefined;
}

/** Runs a command to see whether a peer is there; true when it exits with 0. */
async function works(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

export async function slixmpp(): Promise<Peer> {
  const ok = await works(PYTHON, ["-c", "import slixmpp"]);
  return {
    name: "slixmpp",
    missing: ok ? undefined : `${PYTHON} cannot import slixmpp (Debian package python3-slixmpp)`,
  };
}

export async function profanity(): Promise<Peer> {
  const missing = [];
  if (!await works("tmux", ["-V"])) missing.push("tmux (Debian package tmux)");
  if (!await works("profanity", ["--version"])) {
    missing.push("profanity (Debian package profanity)");
  }
  return {
    name: "profanity",
    missing: missing.length > 0 ? `missing ${missing.join(" and ")}` : undefined,
  };
}

/** Headless Chromium for the browser tests (Debian package chromium). */
export async function chromium(): Promise<Peer> {
  const ok = await works("chromium", ["--version"]);
  return { name: "chromium", missing: ok ? undefined : "chromium (Debian package chromium)" };
}

/**
 * Options for `Deno.test` that skip (outside CI, printing why) or fail (in CI) when `peer`
 * is missing.
 */
export function needs(peer: Peer, name: string, fn: () => Promise<void>): Deno.TestDefinition {
  if (peer.missing && !CI) {
    console.log(`Skipping "${name}": ${peer.missing}`);
    return { name, ignore: true, fn };
  }
  return {
    name,
    fn: async () => {
      if (peer.missing) {
        throw new Error(`The interop peer ${peer.name} is missing under CI=true: ${peer.missing}`);
      }
      await fn();
    },
  };
}
