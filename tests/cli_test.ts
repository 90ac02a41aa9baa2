/**
 * The commands, run in-process through `runCli`: `version`, `--help`, `check` and `tree` on real
 * files, and `start` on the memory adapters driven by signals.
 */
import assert from "node:assert/strict";
import { memoryAdapters } from "../src/adapters/memory/mod.ts";
import { runCli } from "../src/cli/mod.ts";
import { runCaptured } from "../src/cli/_testing.ts";
import type { Server } from "../src/server/server.ts";

/** The CLI on the Deno adapters (real files), what it printed captured. */
const run = (args: string[]) => runCaptured(args);

Deno.test("jabberd version prints the name and version", async () => {
  const { code, out } = await run(["version"]);
  assert.equal(code, 0);
  assert.match(out, /^jabberd for Deno \d+\.\d+\.\d+\n$/);
});

Deno.test("jabberd <command> --help prints that command's help", async () => {
  for (const command of ["start", "check", "tree", "version"]) {
    const { code, out } = await run([command, "--help"]);
    assert.equal(code, 0);
    assert.match(out, new RegExp(`^Usage: jabberd ${command}`));
  }
  const { code, out } = await run(["--help"]);
  assert.equal(code, 0);
  assert.match(out, /Commands:/);
});

Deno.test("jabberd refuses an unknown command or option with exit code 2", async () => {
  assert.equal((await run(["frobnicate"])).code, 2);
  assert.match((await run(["check", "--bogus-flag-x"])).err, /./);
  assert.equal((await run(["check", "-c"])).code, 2);
  assert.equal((await run([])).code, 2);
});

Deno.test("jabberd check passes on jabberd.example.xml", async () => {
  const { code, out, err } = await run(["check", "-c", "jabberd.example.xml"]);
  assert.equal(code, 0, err);
  assert.match(out, /The config is valid/);
});

Deno.test("jabberd check passes on the embedded default config", async () => {
  const { code, err } = await run(["check"]);
  assert.equal(code, 0, err);
  assert.match(err, /embedded default config/);
});

Deno.test("jabberd check reports every mistake of a config at once, with file:line:column", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/bad.xml`;
  await Deno.writeTextFile(
    file,
    [
      `<jabberd>`,
      `  <service id="a">`,
      `    <host>bad host!</host>`,
      `    <frobnicate/>`,
      `  </service>`,
      `  <service id="a"><null/></service>`,
      `  <xdb id="store"><kv/><cache timeout="soon"/></xdb>`,
      `  <log id="logs"><format>%q</format><logtype>loud</logtype></log>`,
      `  <service id="c"><host>\${JABBERD_TEST_SURELY_UNSET}</host></service>`,
      `</jabberd>`,
    ].join("\n"),
  );
  const { code, err } = await run(["check", "-c", file]);
  assert.equal(code, 1);
  const lines = err.split("\n").filter((line) => line.startsWith(file));
  const located = lines.map((line) => line.slice(file.length + 1).split(":").slice(0, 2).join(":"));
  // One problem per mistake, each at its own line: host, unknown element, duplicate id, empty
  // <kv>, bad duration, bad format, bad level, unset variable.
  for (const at of ["3:5", "4:5", "6:3", "7:19", "7:24", "8:18", "8:37", "9:19"]) {
    assert.ok(located.includes(at), `expected a problem at ${at} in:\n${err}`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("jabberd tree prints every section of the example with normal, xdb and log routings", async () => {
  const { code, out, err } = await run(["tree", "-c", "jabberd.example.xml"]);
  assert.equal(code, 0, err);
  for (const kind of ["normal", "xdb", "log", "route"]) {
    assert.match(out, new RegExp(`^${kind}$`, "m"));
  }
  for (const id of ["sessions", "devnull", "uplink", "xdb-offline", "xdb", "elogger", "alerts"]) {
    assert.match(out, new RegExp(`^ {4}${id} <`, "m"), `section ${id} is missing:\n${out}`);
  }
  assert.match(out, /\(uplink: anything unmatched\)/);
  assert.match(out, /deliver +kv/);
  assert.match(out, /precond +ns/);
});

const GOOD = `<jabberd>
  <service id="one"><host>one.test</host><null/></service>
  <log id="logs"><host/><stderr/></log>
</jabberd>`;

Deno.test("jabberd start reloads a good config on SIGHUP, refuses a bad one, and stops on SIGTERM", async () => {
  const memory = memoryAdapters({ files: { "/etc/jabberd.xml": GOOD } });
  let server: Server | undefined;
  const exit = runCli(["start", "-c", "/etc/jabberd.xml"], {
    adapters: memory.adapters,
    dryAdapters: () => memoryAdapters().adapters,
    start: { onStarted: (s) => server = s },
  });
  while (!server) await new Promise((resolve) => setTimeout(resolve, 1));
  const stderr = () => memory.output.stderr.join("");
  assert.match(stderr(), /Using config file \/etc\/jabberd.xml \(given with -c\)/);
  const one = server.sections().find((s) => s.id === "one");

  // A bad file changes nothing and says why.
  await memory.files.writeTextFile("/etc/jabberd.xml", GOOD.replace("<null/>", "<nul/>"));
  memory.signals.emit("SIGHUP");
  while (!/nothing changed/.test(stderr())) await new Promise((r) => setTimeout(r, 1));
  assert.match(stderr(), /jabberd\.xml:2:\d+: Unknown element <nul>/);
  assert.equal(server.sections().find((s) => s.id === "one"), one);

  // A good one starts the new section and leaves the unchanged one running.
  await memory.files.writeTextFile(
    "/etc/jabberd.xml",
    GOOD.replace(
      "</jabberd>",
      `<service id="two"><host>two.test</host><null/></service></jabberd>`,
    ),
  );
  memory.signals.emit("SIGHUP");
  while (!/config reloaded/.test(stderr())) await new Promise((r) => setTimeout(r, 1));
  assert.match(stderr(), /started \[two\]/);
  assert.match(stderr(), /unchanged \[[^\]]*one/);
  assert.equal(server.sections().find((s) => s.id === "one"), one);
  assert.deepEqual(server.router.tree.match("normal", "two.test"), ["two"]);

  memory.signals.emit("SIGTERM");
  assert.equal(await exit, 0);
  assert.deepEqual(server.sections(), []);
});

Deno.test("jabberd rejects unknown options and stray arguments with a usage error", async () => {
  // Issue 9: `check myconf.xml` validated the embedded default and said it was valid, and
  // `start --port 5000` started on 5222.
  const stray = await run(["check", "myconf.xml"]);
  assert.equal(stray.code, 2);
  assert.doesNotMatch(stray.out, /valid/);
  assert.match(stray.err, /Unexpected argument "myconf\.xml" for jabberd check \(a config file/);
  const unknown = await run(["start", "--port", "5000"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^Unknown option --port; see jabberd start --help\n$/);
  for (
    const args of [
      ["version", "--verbose"],
      ["tree", "extra"],
      ["user", "list", "a", "b"],
      ["export", "--password", "x"],
      ["start", "--keep-going=yes"],
      ["--frobnicate"],
    ]
  ) {
    const result = await run(args);
    assert.equal(result.code, 2, `${args.join(" ")} was accepted`);
    assert.match(result.err, /see jabberd/);
  }
});

/** `user` on the memory adapters, with a config serving localhost and `*.chat.test`. */
async function userCommand(args: string[], terminal?: (string | undefined)[]) {
  const memory = memoryAdapters({
    files: {
      "/etc/jabberd.xml": `<jabberd>
        <service id="sessions"><host>localhost</host><host>*.chat.test</host>
          <sm xmlns="jabberd:config:sm"/></service>
        <xdb id="xdb"><host/><kv>:memory:</kv></xdb>
      </jabberd>`,
    },
  });
  if (terminal) memory.terminal.lines.push(...terminal);
  let stdinRead = false;
  const code = await runCli(["user", ...args, "-c", "/etc/jabberd.xml"], {
    adapters: memory.adapters,
    dryAdapters: () => memoryAdapters().adapters,
    stdinIsTerminal: terminal !== undefined,
    readStdinLine: () => {
      stdinRead = true;
      return Promise.resolve("piped-secret\n");
    },
  });
  return {
    code,
    out: memory.output.stdout.join(""),
    err: memory.output.stderr.join(""),
    prompts: memory.terminal.prompts,
    stdinRead,
  };
}

Deno.test("jabberd user add asks twice for a hidden password on a terminal", async () => {
  const added = await userCommand(["add", "alice@localhost"], ["s3cret", "s3cret"]);
  assert.equal(added.code, 0, added.err);
  assert.deepEqual(added.prompts, ["Password: ", "Password again: "]);
  assert.equal(added.stdinRead, false);
  assert.doesNotMatch(added.err + added.out, /s3cret/, "the password is never shown");
  assert.match(added.out, /Created alice@localhost/);
});

Deno.test("jabberd user add on a terminal refuses two different passwords and a Ctrl-C", async () => {
  const differ = await userCommand(["add", "alice@localhost"], ["s3cret", "s3cert"]);
  assert.notEqual(differ.code, 0);
  assert.match(differ.err, /The passwords do not match; nothing changed/);
  assert.doesNotMatch(differ.out, /Created/);
  const cancelled = await userCommand(["add", "alice@localhost"], [undefined]);
  assert.notEqual(cancelled.code, 0);
  assert.deepEqual(cancelled.prompts, ["Password: "]);
});

Deno.test("jabberd user add reads standard input without a prompt when it is not a terminal", async () => {
  const added = await userCommand(["add", "bob@localhost"]);
  assert.equal(added.code, 0, added.err);
  assert.equal(added.stdinRead, true);
  assert.deepEqual(added.prompts, []);
  assert.doesNotMatch(added.err, /Password/);
});

Deno.test("jabberd user add refuses a host the config does not serve unless --force", async () => {
  const refused = await userCommand(["add", "carol@lcoalhost", "--password", "pw"]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /The config serves no host "lcoalhost".*give --force/);
  assert.doesNotMatch(refused.out, /Created/);
  const forced = await userCommand(["add", "carol@lcoalhost", "--password", "pw", "--force"]);
  assert.equal(forced.code, 0, forced.err);
  assert.match(forced.out, /Created carol@lcoalhost/);
  const wildcard = await userCommand(["add", "dave@room.chat.test", "--password", "pw"]);
  assert.equal(wildcard.code, 0, wildcard.err);
});

Deno.test("jabberd check accepts one <pidfile> with a path and reports an empty or second one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/jabberd.xml`;
    const section = `<service id="one"><host>one.test</host><null/></service>`;
    await Deno.writeTextFile(file, `<jabberd><pidfile>run/j.pid</pidfile>${section}</jabberd>`);
    assert.equal((await run(["check", "-c", file])).code, 0);
    await Deno.writeTextFile(
      file,
      `<jabberd>\n<pidfile/>\n<pidfile>a.pid</pidfile>\n${section}</jabberd>`,
    );
    const { code, err } = await run(["check", "-c", file]);
    assert.equal(code, 1);
    assert.match(err, /:2:1: <pidfile> needs a file path as its text/);
    assert.match(err, /:3:1: <pidfile> is given twice/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
