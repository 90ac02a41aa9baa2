/**
 * Summarizes a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time per function, and the
 * total (inclusive) time of the functions of our own code, so a profile can be read in a
 * terminal. Run: deno run -A tools/profile_summary.ts FILE.cpuprofile [TOP]
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = Deno.args;
const top = Number(topText ?? 30);
const profile: Profile = JSON.parse(await Deno.readTextFile(file));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) {
  for (const child of node.children ?? []) parent.set(child, node.id);
}

const name = (node: Node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(/^.*\/work\/main\//, "").replace(/^.*node_modules\//, "npm:");
  return `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const node = byId.get(id)!;
  self.set(name(node), (self.get(name(node)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = name(byId.get(at)!);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
  }
});
const idle = [...self].filter(([key]) => key.startsWith("(idle)")).reduce((a, [, v]) => a + v, 0);
const busy = total - idle;
const show = (title: string, map: Map<string, number>, filter: (key: string) => boolean) => {
  console.log(`\n${title} (share of busy time; busy ${(busy / 1e6).toFixed(2)} s)`);
  for (
    const [key, value] of [...map].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(
      0,
      top,
    )
  ) {
    console.log(`${(100 * value / busy).toFixed(1).padStart(5)}%  ${key}`);
  }
};
show("Self time", self, (key) => !key.startsWith("(idle)"));
show("Inclusive time, our code", inclusive, (key) => key.includes(" src/"));
