/**
 * The V8 flags the server runs with, and a check that this process got them. They can only be
 * given when the process starts (`deno run --v8-flags=…`, `deno compile --v8-flags=…`): V8
 * freezes its flags once it runs, so `node:v8`'s `setFlagsFromString` is too late (checked:
 * the flag set from main.ts changed nothing). Why each flag: docs/runtime-notes.md, "Garbage
 * collection".
 */

/**
 * `--no-allocation-site-pretenuring`: V8 otherwise learns, during a burst of logins (rosters,
 * sessions, caches that stay), that objects from the parser's and the router's allocation sites
 * live long, and from then on allocates every stanza's elements directly in the old generation.
 * Those dead old objects keep the young objects they point to alive through every scavenge, so
 * each scavenge copied and promoted ~4.7 MB (17–20% of what was allocated) and took 10–20 ms,
 * and a full collection followed every second or two: the p99 latency and much of the CPU.
 */
export const V8_FLAGS: readonly string[] = ["--no-allocation-site-pretenuring"];

/** The `deno run` / `deno compile` argument that passes them. */
export const V8_FLAGS_ARGUMENT = `--v8-flags=${V8_FLAGS.join(",")}`;

/**
 * The flags of `V8_FLAGS` this process was started without, as far as it can tell: from
 * `/proc/self/cmdline` (Linux) and `DENO_V8_FLAGS`. Nothing is reported where the command line
 * cannot be read, or in a compiled binary, whose flags are built in.
 */
export function missingV8Flags(): string[] {
  if (Deno.build.standalone) return [];
  let given: string[];
  try {
    const cmdline = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    given = cmdline.filter((arg) => arg.startsWith("--v8-flags=")).flatMap((arg) =>
      arg.slice("--v8-flags=".length).split(",")
    );
  } catch {
    return [];
  }
  given.push(...(Deno.env.get("DENO_V8_FLAGS") ?? "").split(","));
  return V8_FLAGS.filter((flag) => !given.includes(flag));
}
