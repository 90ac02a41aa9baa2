/** Keeps the rule: a test file may use the runtime (this one has no test of its own). */
export const fixtureArgs = () => Deno.args;
