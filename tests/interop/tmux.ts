/**
 * Drives a terminal program through tmux for the interop tests: a private tmux server (its own
 * socket in a temporary folder, so nobody else's sessions are touched), keys typed literally,
 * and bounded waits on the captured screen. Written here because no package drives tmux; the
 * three tmux commands it needs (new-session, send-keys, capture-pane) are stable since tmux 2.
 */

const decoder = new TextDecoder();

export class Tmux {
  readonly #socket: string;
  readonly #session = "interop";
  #started = false;

  /** `folder` holds the tmux socket (a temporary folder of the test). */
  constructor(folder: string) {
    this.#socket = `${folder}/tmux.sock`;
  }

  async #tmux(...args: string[]): Promise<{ ok: boolean; out: string }> {
    const output = await new Deno.Command("tmux", {
      args: ["-S", this.#socket, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      ok: output.success,
      out: decoder.decode(output.stdout) + decoder.decode(output.stderr),
    };
  }

  /** Starts `argv` in a detached 200×50 window with `env` added to tmux's environment. */
  async start(argv: string[], env: Record<string, string>): Promise<void> {
    const vars = Object.entries(env).map(([name, value]) => `${name}=${value}`);
    const result = await this.#tmux(
      "new-session",
      "-d",
      "-s",
      this.#session,
      "-x",
      "200",
      "-y",
      "50",
      "env",
      ...vars,
      ...argv,
    );
    if (!result.ok) throw new Error(`tmux new-session failed: ${result.out}`);
    this.#started = true;
  }

  /** Types `text` literally (no key names), then Enter. */
  async line(text: string): Promise<void> {
    const typed = await this.#tmux("send-keys", "-t", this.#session, "-l", text);
    const enter = await this.#tmux("send-keys", "-t", this.#session, "Enter");
    if (!typed.ok || !enter.ok) throw new Error(`tmux send-keys failed: ${typed.out}${enter.out}`);
  }

  /** The visible screen plus up to 500 lines of scrollback. */
  async screen(): Promise<string> {
    const result = await this.#tmux("capture-pane", "-p", "-t", this.#session, "-S", "-500");
    return result.ok ? result.out : "";
  }

  /** Waits (polling, bounded) until the screen matches; returns the matching screen. */
  async waitFor(what: string, pattern: RegExp, ms = 15_000): Promise<string> {
    const deadline = Date.now() + ms;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (pattern.test(screen)) return screen;
      if (!await this.running()) break;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`The terminal did not show ${what}; its screen:\n${trimmed(screen)}`);
  }

  async running(): Promise<boolean> {
    return this.#started && (await this.#tmux("has-session", "-t", this.#session)).ok;
  }

  /** Waits (bounded) for the program to exit by itself. */
  async exited(ms = 10_000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!await this.running()) return true;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    return false;
  }

  /** Ends the session and this private tmux server (and so the program in it). */
  async kill(): Promise<void> {
    if (!this.#started) return;
    await this.#tmux("kill-server");
    this.#started = false;
  }
}

/** A screen without its trailing blank lines and padding, for error messages. */
/**
 * The environment of a terminal client in its own throwaway home: its config and data there, the
 * test CA trusted, a terminal tmux can draw.
 */
export function terminalEnv(home: string, caFile: string): Record<string, string> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    XDG_DATA_HOME: `${home}/.local/share`,
    SSL_CERT_FILE: caFile,
    TERM: "xterm-256color",
    LANG: "C.UTF-8",
  };
}

export function trimmed(screen: string): string {
  return screen.split("\n").map((line) => line.trimEnd()).filter((line) => line !== "")
    .slice(-40).join("\n");
}
