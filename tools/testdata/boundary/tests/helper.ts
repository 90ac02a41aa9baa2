/** Keeps the rule: test helpers in tests/ may use the runtime. */
export const workingDirectory = () => Deno.cwd();
