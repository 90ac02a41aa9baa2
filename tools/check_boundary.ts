/**
 * Keeps the runtime boundary real: fails, listing file:line, when `Deno.` appears in a `.ts`
 * file outside src/adapters/, main.ts, deploy/, tools/, bench/ and tests (`*_test.ts`, tests/).
 * Any occurrence counts, comments included: the rule is simpler to keep than to argue about.
 * Run: deno run -A tools/check_boundary.ts
 */

// Paths, not URLs: a folder named like "example%2eorg" (a fixture) must stay as it is.
const root = new URL("..", import.meta.url).pathname;
const ALLOWED_DIRECTORIES = ["src/adapters/", "deploy/", "tools/", "bench/", "tests/"];
const ALLOWED_FILES = ["main.ts"];

function allowed(path: string): boolean {
  return ALLOWED_FILES.includes(path) ||
    ALLOWED_DIRECTORIES.some((dir) => path.startsWith(dir)) ||
    path.endsWith("_test.ts");
}

async function* typeScriptFiles(dir: string, prefix: string): AsyncGenerator<string> {
  const entries = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => a.name < b.name ? -1 : 1);
  for (const entry of entries) {
    // node_modules and hidden folders (.git, tool state) are not ours to check.
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = prefix + entry.name;
    if (entry.isDirectory) {
      yield* typeScriptFiles(`${dir}${entry.name}/`, `${path}/`);
    } else if (entry.isFile && path.endsWith(".ts")) {
      yield path;
    }
  }
}

const violations: string[] = [];
for await (const path of typeScriptFiles(root, "")) {
  if (allowed(path)) continue;
  const lines = (await Deno.readTextFile(root + path)).split("\n");
  lines.forEach((line, index) => {
    if (line.includes("Deno.")) violations.push(`${path}:${index + 1}: ${line.trim()}`);
  });
}

if (violations.length > 0) {
  console.error("Deno. is used outside the runtime adapters (move it behind src/adapters/):");
  for (const violation of violations) console.error(`  ${violation}`);
  Deno.exit(1);
}
console.log("Runtime boundary holds: no Deno. outside the allowed places");
