/** `jabberd user …` as a real process: the password from standard input, never an argument. */
import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function jabberd(cwd: string, args: string[], stdin = ""): Promise<[number, string]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return [code, decoder.decode(stdout) + decoder.decode(stderr)];
}

Deno.test("jabberd user add reads the password from standard input; list and del see it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [added, addOutput] = await jabberd(dir, ["user", "add", "erin@localhost"], "s3cret\n");
    assert.equal(added, 0, addOutput);
    const [, list] = await jabberd(dir, ["user", "list", "localhost"]);
    assert.match(list, /^erin@localhost$/m);
    const [exported] = await jabberd(dir, ["export", "-o", "out.xml"]);
    assert.equal(exported, 0);
    const xml = await Deno.readTextFile(`${dir}/out.xml`);
    assert.match(xml, /<user name='erin'>/);
    assert.doesNotMatch(xml, /s3cret/);
    const [deleted] = await jabberd(dir, ["user", "del", "erin@localhost"]);
    assert.equal(deleted, 0);
    const [, after] = await jabberd(dir, ["user", "list", "localhost"]);
    assert.doesNotMatch(after, /erin@localhost/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
