/**
 * `jabberd user add` on a real terminal (through tmux, tests/interop/tmux.ts): the password is
 * asked twice and never shown, as `prosodyctl adduser` does (issue 9, "Hardening").
 */
import assert from "node:assert/strict";
import { verifyPlain } from "../src/accounts/credentials.ts";
import { getCredentials } from "../src/accounts/store.ts";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { openStorage } from "../src/cli/storage.ts";
import { Tmux, trimmed } from "./interop/tmux.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PASSWORD = "tmux-Secret-42";

const hasTmux = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((output) => output.success, () => false);

Deno.test({
  name: "jabberd user add on a terminal asks twice for the password and never shows it",
  ignore: !hasTmux,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "jabberd-tty-" });
    const config = `${dir}/jabberd.xml`;
    await Deno.writeTextFile(
      config,
      `<jabberd><service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/>
      </service><xdb id="xdb"><host/><kv>data/jabberd.kv</kv></xdb></jabberd>`,
    );
    const tmux = new Tmux(dir);
    try {
      // The shell keeps the window open after jabberd exits, so the last screen can be read.
      const command =
        `'${Deno.execPath()}' run -A '${MAIN}' user add erin@localhost -c '${config}'`;
      await tmux.start(["sh", "-c", `${command}; echo "exit=$?"; sleep 60`], { NO_COLOR: "1" });
      await tmux.waitFor("the first prompt", /Password: *$/m, 30_000);
      await tmux.line(PASSWORD);
      await tmux.waitFor("the second prompt", /Password again: *$/m);
      await tmux.line(PASSWORD);
      const screen = await tmux.waitFor("the exit status", /exit=\d+/);
      assert.match(screen, /Created erin@localhost/, trimmed(screen));
      assert.match(screen, /exit=0/);
      assert.ok(!screen.includes(PASSWORD), `the password was shown:\n${trimmed(screen)}`);
    } finally {
      await tmux.kill();
    }
    const storage = await openStorage(config, { ...denoAdapters(), stderr: () => {} });
    try {
      const credentials = await getCredentials(storage!.xdb, "erin@localhost");
      assert.equal(await verifyPlain(credentials!, PASSWORD), true);
    } finally {
      await storage!.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
