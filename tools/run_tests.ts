/**
 * `deno task test`: the one gate. Runs the format check, lint, type check, the runtime-boundary
 * check and every test, goes on after a failure so one run shows everything, and ends with the
 * line `N passed, N failed` (each gate counts as one, each test as one).
 */

interface Gate {
  name: string;
  args: string[];
}

const GATES: Gate[] = [
  { name: "format check", args: ["fmt", "--check"] },
  { name: "lint", args: ["lint"] },
  { name: "type check", args: ["check", "."] },
  { name: "runtime boundary", args: ["run", "-A", "tools/check_boundary.ts"] },
];

const extra = Deno.args;
let passed = 0;
let failed = 0;
const failures: string[] = [];

async function run(args: string[]): Promise<{ ok: boolean; output: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      output += decoder.decode(value, { stream: true });
      await sink.write(value);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  return { ok: status.success, output };
}

if (extra.length === 0) {
  for (const gate of GATES) {
    console.log(`\n=== ${gate.name}: deno ${gate.args.join(" ")}`);
    const { ok } = await run(gate.args);
    if (ok) passed++;
    else {
      failed++;
      failures.push(gate.name);
    }
  }
}

console.log(`\n=== tests: deno test -A ${extra.join(" ")}`);
const tests = await run(["test", "-A", "--parallel", ...extra]);
// Deno's closing line: "ok | 6 passed (3 steps) | 0 failed (754ms)" or "FAILED | …".
const summary = [...tests.output.matchAll(/(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g)]
  .at(-1);
if (summary) {
  passed += Number(summary[1]);
  failed += Number(summary[2]);
}
if (!tests.ok) {
  failures.push("tests");
  if (!summary || Number(summary[2]) === 0) failed++; // a crash or a module that did not load
}

if (failures.length > 0) console.log(`\nFailed: ${failures.join(", ")}`);
console.log(`\n${passed} passed, ${failed} failed`);
Deno.exit(failures.length === 0 ? 0 : 1);
