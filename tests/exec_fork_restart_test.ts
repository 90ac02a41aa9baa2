/**
 * Real processes under `<exec>` and `<fork>` (issue 4, items 3 and 5): killed in the middle of
 * traffic they come back, other traffic is not disturbed, and every packet sent while they were
 * down is delivered after the restart or bounced with an error; a flooding and a garbage-writing
 * program are stopped with a log line.
 */
import assert from "node:assert/strict";
import { denoAdapters, DenoProcess } from "../src/adapters/deno/mod.ts";
import { botWorld } from "../src/modules/base/_testing.ts";
import type { ModuleDefinition } from "../src/server/module_api.ts";
import { waitFor } from "../src/server/_testing.ts";
import { type Element, xml } from "../src/xml/element.ts";

const ROOT = new URL("..", import.meta.url).pathname.slice(0, -1);

/** `services` on the Deno adapters, paths relative to the repository's root. */
function realWorld(services: string) {
  return botWorld(services, {
    adapters: denoAdapters(),
    file: `${ROOT}/jabberd.xml`,
    modules: [bystander],
  });
}

/** A section answering in-process, `<echo xmlns="test:echo"/>`: its traffic must not notice a crash. */
const bystander: ModuleDefinition = {
  element: "test:echo",
  sections: ["service"],
  register(api) {
    api.handle("deliver", (packet) => {
      const m = packet.element;
      api.deliver(
        xml("message", { to: m.attrs.from!, from: m.attrs.to! }, xml("body", {}, "other")),
        packet,
      );
      return "done";
    });
  },
};

function pidFromLogs(logs: string[], label: RegExp, after = 0): number | undefined {
  for (const line of logs.slice(after).reverse()) {
    const found = line.match(/started \(pid (\d+)\)/);
    if (found && label.test(line)) return Number(found[1]);
  }
  return undefined;
}

async function killedInTraffic(element: Element, label: RegExp) {
  const tree = await realWorld(`
    <service id="other"><host>other.example</host><echo xmlns="test:echo"/></service>
    <service id="bot"><host>bot.example</host>${element}</service>`);
  const answered = (body: string) =>
    tree.received.some((p) =>
      p.element.attrs.type !== "error" && p.element.getChildText("body")?.endsWith(body)
    );
  try {
    await waitFor(() => pidFromLogs(tree.logs, label) !== undefined, "the process to start");
    tree.send("bot.example", "ready");
    await waitFor(() => answered("ready"), "the first answer");
    tree.received.length = 0;
    // Traffic before the crash, from several senders.
    for (let i = 0; i < 20; i++) {
      tree.send("bot.example", `before${i}`, `u${i % 4}@client.example`);
      tree.send("other.example", `o${i}`);
    }
    await waitFor(() => tree.received.length === 40, "the answers before the crash");
    const pid = pidFromLogs(tree.logs, label)!;
    const logsBefore = tree.logs.length;
    Deno.kill(pid, "SIGKILL");
    await waitFor(
      () => tree.logs.slice(logsBefore).some((l) => /restarting in/.test(l)),
      "the death to be noticed",
    );
    // Sent while it is down, from five senders: the queue holds three, two bounce at once.
    const received = tree.received.length;
    for (let i = 0; i < 5; i++) {
      tree.send("bot.example", `during${i}`, `d${i}@client.example`);
      tree.send("other.example", `o-during${i}`);
    }
    await waitFor(() => tree.received.length >= received + 5 + 2, "the bystander and the bounces");
    const bounces = tree.received.filter((p) =>
      p.element.attrs.type === "error" && p.element.getChildText("body")?.startsWith("during")
    );
    assert.equal(bounces.length, 2, tree.received.map((p) => p.element.toString()).join("\n"));
    for (const bounce of bounces) {
      assert.ok(bounce.element.getChild("error")?.getChild("resource-constraint"));
    }
    // After the restart the three queued ones are answered.
    await waitFor(
      () => ["during0", "during1", "during2"].every(answered),
      "the queued packets after the restart",
    );
    assert.notEqual(pidFromLogs(tree.logs, label), pid);
    // Every packet sent while down is answered or bounced, none lost.
    for (let i = 0; i < 5; i++) {
      const body = `during${i}`;
      const bounced = bounces.some((b) => b.element.getChildText("body") === body);
      assert.ok(answered(body) !== bounced, `${body} answered or bounced, once`);
    }
    // Traffic after the restart flows again; the bystander answered everything.
    tree.send("bot.example", "after");
    await waitFor(() => answered("after"), "an answer after the restart");
    assert.equal(tree.bodies().filter((b) => b === "other").length, 25);
  } finally {
    await tree.world.stop();
  }
}

Deno.test("3 an exec'd program killed in the middle of traffic comes back; nothing is lost", async () => {
  await killedInTraffic(
    xml("exec", { "restart-delay": "1s", queue: "3" }, "python3 examples/echo_exec/echo_bot.py"),
    /Program python3/,
  );
});

Deno.test("5 a forked module killed in the middle of traffic comes back; nothing is lost", async () => {
  await killedInTraffic(
    xml(
      "fork",
      { "restart-delay": "1s", queue: "3" },
      "src/modules/base/testdata/echo_module.ts",
    ),
    /Forked module/,
  );
});

Deno.test("5 a forked module reaches XDB and the log through its parent", async () => {
  const tree = await realWorld(`<service id="bot"><host>bot.example</host>
    <fork path="src/modules/base/testdata/echo_module.ts"/></service>`);
  try {
    tree.send("bot.example", "store plums");
    await waitFor(() => tree.bodies().includes("stored plums"), "the stored answer");
    const stored = await tree.world.xdb.get("alice@client.example/r", "test:last");
    assert.equal(stored?.text(), "plums");
    assert.ok(tree.logs.some((line) => line.includes("echo module up in bot")));
  } finally {
    await tree.world.stop();
  }
});

Deno.test("5 <fork> in a compiled binary starts the binary itself with fork-child and its flags", async () => {
  // A stand-in for `dist/jabberd`: it records the arguments it gets, then runs jabberd as the
  // binary would, so the child is started exactly as in a compiled binary (no `run -A main.ts`).
  const dir = await Deno.makeTempDir({ prefix: "jabberd_compiled_" });
  const launcher = `${dir}/jabberd`;
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  await Deno.writeTextFile(
    launcher,
    `#!/bin/sh\nprintf '%s\\n' "$@" >> ${quote(`${dir}/args`)}\n` +
      `exec ${quote(Deno.execPath())} run -A ${quote(`${ROOT}/main.ts`)} "$@"\n`,
  );
  await Deno.chmod(launcher, 0o755);
  const tree = await botWorld(
    `<service id="bot"><host>bot.example</host>
      <fork path="src/modules/base/testdata/echo_module.ts"/></service>`,
    {
      adapters: {
        ...denoAdapters(),
        process: new DenoProcess({ standalone: true, execPath: launcher }),
      },
      file: `${ROOT}/jabberd.xml`,
    },
  );
  try {
    tree.send("bot.example", "store figs");
    await waitFor(() => tree.bodies().includes("stored figs"), "the stored answer");
    const args = (await Deno.readTextFile(`${dir}/args`)).trim().split("\n");
    assert.equal(args[0], "fork-child");
    assert.ok(args.includes("--id=bot"), args.join(" "));
    assert.ok(!args.includes("run") && !args.some((arg) => arg.endsWith("main.ts")));
  } finally {
    await tree.world.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("3 a program that writes garbage or floods is stopped with a log line and restarted", async () => {
  const garbage = xml(
    "exec",
    { program: "sh", "restart-delay": "1h" },
    xml("arg", {}, "-c"),
    xml(
      "arg",
      {},
      "printf '<stream:stream xmlns:stream=\"http://etherx.jabber.org/streams\"><a></b>'; exec sleep 30",
    ),
  );
  const flood = xml(
    "exec",
    { program: "sh", "restart-delay": "1h", "max-bytes": "64KiB" },
    xml("arg", {}, "-c"),
    xml(
      "arg",
      {},
      "printf '<stream:stream xmlns:stream=\"http://etherx.jabber.org/streams\">'; yes '<presence from=\"flood.example\"/>' | head -c 10000000; exec sleep 30",
    ),
  );
  // The elements serialize with their text escaped: the shell lines hold "<" and quotes.
  const tree = await realWorld(`
    <service id="garbage"><host>garbage.example</host>${garbage}</service>
    <service id="flood"><host>flood.example</host>${flood}</service>`);
  try {
    await waitFor(
      () => tree.logs.some((l) => /Program sh .*stopped because .*not-well-formed/.test(l)),
      "the garbage writer to be stopped",
    );
    await waitFor(
      () => tree.logs.some((l) => /Program sh .*stopped because it flooded/.test(l)),
      "the flooder to be stopped",
    );
    assert.ok(tree.logs.some((l) => /restarting in 3600000 ms/.test(l)));
  } finally {
    await tree.world.stop();
  }
});
