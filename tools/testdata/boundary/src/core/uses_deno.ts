/** Breaks the rule: the core reads the working directory through Deno itself. */
export const workingDirectory = () => Deno.cwd();
