import assert from "node:assert/strict";
import { V8_FLAGS, V8_FLAGS_ARGUMENT } from "./v8_flags.ts";

const MODULE = new URL("./v8_flags.ts", import.meta.url).href;

/** What `missingV8Flags()` answers in a new `deno run` with these runtime arguments. */
async function missingIn(runtimeArgs: string[], env: Record<string, string> = {}) {
  const script = `import { missingV8Flags } from "${MODULE}"; ` +
    `console.log(JSON.stringify(missingV8Flags()));`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", ...runtimeArgs, script],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test(
  "missingV8Flags() names the server's V8 flags a process was started without, and none when given",
  { ignore: Deno.build.os !== "linux" },
  async () => {
    assert.deepEqual(await missingIn([]), [...V8_FLAGS]);
    assert.deepEqual(await missingIn([V8_FLAGS_ARGUMENT]), []);
    assert.deepEqual(await missingIn([], { DENO_V8_FLAGS: V8_FLAGS.join(",") }), []);
  },
);

Deno.test("deno.json's start and compile tasks pass the server's V8 flags", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../../deno.json", import.meta.url)),
  );
  for (const task of ["start", "compile"]) {
    assert.ok(
      (config.tasks[task] as string).split(" ").includes(V8_FLAGS_ARGUMENT),
      `the ${task} task lacks ${V8_FLAGS_ARGUMENT}: ${config.tasks[task]}`,
    );
  }
});
