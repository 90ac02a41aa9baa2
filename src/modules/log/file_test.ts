import assert from "node:assert/strict";
import { MemoryFiles } from "../../adapters/memory/files.ts";
import type { FileAdapter } from "../../adapters/types.ts";
import type { ValidationContext } from "../../server/module_api.ts";
import { xml } from "../../xml/element.ts";
import { FileAppender, fileModule } from "./file.ts";
import { logSection } from "./_testing.ts";

/** Counts appends, to see coalescing. */
class CountingFiles extends MemoryFiles {
  appends = 0;
  override writeTextFile(path: string, text: string, options?: { append?: boolean }) {
    this.appends++;
    return super.writeTextFile(path, text, options);
  }
}

function appender(
  files: FileAdapter,
  extra: Partial<ConstructorParameters<typeof FileAppender>[0]> = {},
) {
  const errors: unknown[] = [];
  const sink = new FileAppender({
    files,
    path: "/var/log/jabberd/error.log",
    onError: (error) => errors.push(error),
    ...extra,
  });
  return { sink, errors };
}

Deno.test("FileAppender coalesces the lines of one tick into one append", async () => {
  const files = new CountingFiles();
  const { sink, errors } = appender(files);
  for (let i = 0; i < 100; i++) sink.write(`line ${i}\n`);
  await sink.flush();
  assert.equal(files.appends, 1);
  const text = files.files.get("/var/log/jabberd/error.log")!;
  assert.equal(text.split("\n").length, 101);
  assert.ok(text.startsWith("line 0\nline 1\n"));
  assert.deepEqual(errors, []);
});

Deno.test("FileAppender appends to what the file already holds and makes a missing folder", async () => {
  const files = new MemoryFiles({ "/srv/old.log": "before\n" });
  const { sink } = appender(files, { path: "/srv/old.log" });
  sink.write("after\n");
  await sink.flush();
  assert.equal(files.files.get("/srv/old.log"), "before\nafter\n");
  const fresh = appender(files, { path: "/srv/new/dir/x.log" });
  fresh.sink.write("first\n");
  await fresh.sink.flush();
  assert.equal(files.files.get("/srv/new/dir/x.log"), "first\n");
});

Deno.test("FileAppender rotates path → path.1 → … → path.keep when a write would pass the size", async () => {
  const files = new MemoryFiles();
  const path = "/var/log/jabberd/error.log";
  const { sink } = appender(files, { rotateBytes: 10, keep: 2 });
  // Each flush is one append; 6 bytes each, so every second append rotates.
  for (const word of ["aaaaa", "bbbbb", "ccccc", "ddddd", "eeeee"]) {
    sink.write(word + "\n");
    await sink.flush();
  }
  assert.equal(files.files.get(path), "eeeee\n");
  assert.equal(files.files.get(`${path}.1`), "ddddd\n");
  assert.equal(files.files.get(`${path}.2`), "ccccc\n");
  assert.equal(files.files.has(`${path}.3`), false, "keep=2 keeps two rotated files");
});

Deno.test("FileAppender writes a burst larger than the limit whole, into a fresh file", async () => {
  const files = new MemoryFiles({ "/l/a.log": "old\n" });
  const { sink } = appender(files, { path: "/l/a.log", rotateBytes: 8 });
  sink.write("0123456789\n");
  await sink.flush();
  assert.equal(files.files.get("/l/a.log"), "0123456789\n");
  assert.equal(files.files.get("/l/a.log.1"), "old\n");
});

Deno.test("FileAppender reports a failing append once, then again after a success", async () => {
  const files = new MemoryFiles();
  let broken = true;
  const flaky: FileAdapter = {
    readTextFile: (p) => files.readTextFile(p),
    size: (p) => files.size(p),
    rename: (a, b) => files.rename(a, b),
    mkdir: (p) => files.mkdir(p),
    exists: (p) => files.exists(p),
    readFile: (p) => files.readFile(p),
    writeFile: (p, d) => files.writeFile(p, d),
    remove: (p) => files.remove(p),
    writeTextFile: (p, t, o) =>
      broken ? Promise.reject(new Error("No space left on device")) : files.writeTextFile(p, t, o),
  };
  const { sink, errors } = appender(flaky);
  sink.write("one\n");
  await sink.flush();
  sink.write("two\n");
  await sink.flush();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /No space left/);
  broken = false;
  sink.write("three\n");
  await sink.flush();
  assert.equal(files.files.get("/var/log/jabberd/error.log"), "three\n");
  broken = true;
  sink.write("four\n");
  await sink.flush();
  assert.equal(errors.length, 2);
});

Deno.test("FileAppender.flush() waits for lines written while an append is in flight", async () => {
  const files = new CountingFiles();
  const { sink } = appender(files);
  sink.write("a\n");
  await Promise.resolve();
  await Promise.resolve();
  // The first append has started; these join the next one.
  sink.write("b\n");
  sink.write("c\n");
  await sink.flush();
  assert.equal(files.files.get("/var/log/jabberd/error.log"), "a\nb\nc\n");
  assert.equal(files.appends, 2);
});

Deno.test("<file> appends lines relative to the config folder and flushes when unloaded", async () => {
  const { memory, log, stop, fallback } = await logSection(
    `<file rotate="80B" keep="1">logs/error.log</file>`,
  );
  log("warn", "one");
  log("error", "two");
  await stop();
  const path = "/etc/jabberd/logs/error.log";
  assert.equal(
    memory.files.files.get(path),
    "2024-05-17T08:30:05.000Z example.org warn one\n" +
      "2024-05-17T08:30:05.000Z example.org error two\n",
  );
  assert.deepEqual(fallback, []);
  // A second run rotates the full file away (keep="1": one old file).
  const next = await logSection(`<file rotate="80B" keep="1">logs/error.log</file>`);
  next.memory.files.files.set(path, memory.files.files.get(path)!);
  next.log("alert", "three");
  await next.stop();
  assert.equal(
    next.memory.files.files.get(path),
    "2024-05-17T08:30:05.000Z example.org alert three\n",
  );
  assert.match(next.memory.files.files.get(`${path}.1`)!, /warn one\n.*error two\n$/);
});

Deno.test("fileModule.validate() checks the path, rotate and keep", () => {
  const problems: string[] = [];
  const warnings: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: (_at, message) => warnings.push(message),
  };
  fileModule.validate!(xml("file", { rotate: "10MiB", keep: "5" }, "error.log"), context);
  assert.deepEqual([problems, warnings], [[], []]);
  fileModule.validate!(xml("file", { rotate: "lots", keep: "0" }), context);
  assert.equal(problems.length, 3);
  assert.match(problems[0], /^<file> needs a path/);
  assert.match(problems[1], /^Option "rotate" of <file> is invalid: size "lots" is not a number/);
  assert.match(problems[2], /^Option "keep" of <file> is invalid: 0 is too small; write 1 or more/);
  fileModule.validate!(xml("file", { keep: "3" }, "a.log"), context);
  assert.deepEqual(warnings, ['keep="3" does nothing without rotate="…", such as 10MiB']);
});
