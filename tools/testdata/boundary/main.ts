/** Keeps the rule: the entry point picks the runtime. */
export const args = () => Deno.args;
