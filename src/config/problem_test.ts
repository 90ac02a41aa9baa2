import assert from "node:assert/strict";
import { formatProblem, type Problem, sortProblems } from "./problem.ts";

const problem = (file: string, line: number, column: number, message = "m"): Problem => ({
  file,
  line,
  column,
  message,
  severity: "error",
});

Deno.test("formatProblem() writes file:line:column: message, and marks warnings", () => {
  assert.equal(formatProblem(problem("a.xml", 3, 7, "Bad")), "a.xml:3:7: Bad");
  assert.equal(
    formatProblem({ ...problem("a.xml", 3, 7, "Odd"), severity: "warning" }),
    "a.xml:3:7: warning: Odd",
  );
  assert.equal(formatProblem(problem("a.xml", 0, 0, "Unreadable")), "a.xml: Unreadable");
});

Deno.test("sortProblems() orders by file as read, then line and column, stably", () => {
  const sorted = sortProblems(
    [
      problem("b.xml", 1, 1, "b"),
      problem("a.xml", 9, 1, "a9"),
      problem("a.xml", 2, 5, "a2-5"),
      problem("a.xml", 2, 1, "a2-1 first"),
      problem("a.xml", 2, 1, "a2-1 second"),
    ],
    ["a.xml", "b.xml"],
  );
  assert.deepEqual(sorted.map((p) => p.message), ["a2-1 first", "a2-1 second", "a2-5", "a9", "b"]);
});
