/**
 * Keeps the runtime boundary real (docs/architecture.md): fails, listing file:line, when a `.ts`
 * file outside src/adapters/, main.ts, deploy/, tools/, bench/ and tests (`*_test.ts`, tests/)
 * says `Deno.`, imports a `node:` module that reaches the outside world, or starts a Worker.
 * Any `Deno.` counts, comments included: the rule is simpler to keep than to argue about.
 * Run: deno run -A tools/check_boundary.ts
 */

const ALLOWED_DIRECTORIES = ["src/adapters/", "deploy/", "tools/", "bench/", "tests/"];
const ALLOWED_FILES = ["main.ts"];

/**
 * `node:` modules that compute without I/O, so the core may use them on any runtime:
 * `async_hooks` carries the session manager's cause across awaits (AsyncLocalStorage), `url`
 * converts IDNA domains, `assert` serves the conformance suites.
 */
export const PURE_NODE_MODULES = [
  "assert",
  "async_hooks",
  "buffer",
  "crypto",
  "path",
  "url",
  "util",
];

/** One rule: what it finds on a line, and what the report says about it. */
interface Rule {
  name: string;
  find(line: string): boolean;
}

const NODE_SPECIFIER = /(["'`])node:([\w/]+)\1/g;

const RULES: Rule[] = [
  { name: "Deno.", find: (line) => line.includes("Deno.") },
  {
    name: "node: import",
    find: (line) =>
      [...line.matchAll(NODE_SPECIFIER)].some((found) =>
        !PURE_NODE_MODULES.includes(found[2].split("/")[0])
      ),
  },
  { name: "new Worker(", find: (line) => /\bnew\s+Worker\s*\(/.test(line) },
];

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

/** Every line that breaks a rule under `root` (a folder path ending in `/`), as `rule: file:line: text`. */
export async function findViolations(root: string): Promise<string[]> {
  const violations: string[] = [];
  for await (const path of typeScriptFiles(root, "")) {
    if (allowed(path)) continue;
    const lines = (await Deno.readTextFile(root + path)).split("\n");
    lines.forEach((line, index) => {
      for (const rule of RULES) {
        if (rule.find(line)) violations.push(`${rule.name} ${path}:${index + 1}: ${line.trim()}`);
      }
    });
  }
  return violations;
}

if (import.meta.main) {
  // Paths, not URLs: a folder named like "example%2eorg" (a fixture) must stay as it is.
  const violations = await findViolations(new URL("..", import.meta.url).pathname);
  if (violations.length > 0) {
    console.error(
      "The runtime is used outside src/adapters/ (move it behind an adapter; pure node: " +
        `modules allowed: ${PURE_NODE_MODULES.join(", ")}):`,
    );
    for (const violation of violations) console.error(`  ${violation}`);
    Deno.exit(1);
  }
  console.log("Runtime boundary holds: no Deno., I/O node: import or Worker outside the adapters");
}
