/**
 * `jabberd start` as a real process: the embedded default config, SIGHUP reloading, and a clean
 * stop on SIGTERM and SIGINT with the XDB file written.
 */
import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A running `main.ts start` whose standard error is collected as it comes. */
class JabberdProcess {
  readonly child: Deno.ChildProcess;
  stderr = "";
  readonly #done: Promise<void>;

  constructor(args: string[], cwd: string) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "start", ...args],
      cwd,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.#done = (async () => {
      const decoder = new TextDecoder();
      const reader = child.stderr.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.stderr += decoder.decode(value, { stream: true });
      }
    })();
  }

  /** Waits until standard error matches, for at most 30 s (then fails with what it has). */
  async waitFor(pattern: RegExp): Promise<void> {
    for (let waited = 0; !pattern.test(this.stderr); waited += 20) {
      if (waited > 30_000) {
        throw new Error(`Timed out waiting for ${pattern} in:\n${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(signal: Deno.Signal): Promise<number> {
    this.child.kill(signal);
    const status = await this.child.status;
    await this.#done;
    return status.code;
  }
}

Deno.test("jabberd start runs the embedded default config and stops cleanly on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  const jabberd = new JabberdProcess([], dir);
  try {
    await jabberd.waitFor(/jabberd for Deno [\d.]+ started/);
    assert.match(jabberd.stderr, /Using the embedded default config/);
    assert.equal(await jabberd.stop("SIGTERM"), 0);
    assert.match(jabberd.stderr, /Stopping on SIGTERM/);
    assert.ok((await Deno.stat(`${dir}/data/jabberd.kv`)).isFile, "the XDB file exists");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jabberd start re-reads its config on SIGHUP and stops on SIGINT", async () => {
  const dir = await Deno.makeTempDir();
  const config = (extra: string) =>
    `<jabberd>
      <service id="one"><host>one.test</host><null/></service>
      ${extra}
      <log id="logs"><host/><stderr/><file>logs/jabberd.log</file></log>
    </jabberd>`;
  await Deno.writeTextFile(`${dir}/jabberd.xml`, config(""));
  const jabberd = new JabberdProcess(["-c", "jabberd.xml"], dir);
  try {
    await jabberd.waitFor(/started/);
    await Deno.writeTextFile(`${dir}/jabberd.xml`, config("<service id='two'><bogus/></service>"));
    jabberd.child.kill("SIGHUP");
    await jabberd.waitFor(/nothing changed/);
    assert.match(jabberd.stderr, /jabberd\.xml:3:\d+: Unknown element <bogus>/);

    await Deno.writeTextFile(`${dir}/jabberd.xml`, config("<service id='two'><null/></service>"));
    jabberd.child.kill("SIGHUP");
    await jabberd.waitFor(/config reloaded/);
    assert.match(jabberd.stderr, /started \[two\]/);

    assert.equal(await jabberd.stop("SIGINT"), 0);
    const logFile = await Deno.readTextFile(`${dir}/logs/jabberd.log`);
    assert.match(logFile, /Stopping on SIGINT/, "the file sink was flushed before exit");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
