/**
 * The status page at `/`, for people: the delivery tree drawn as a graph (kinds → host patterns
 * → section instances → their handlers, with each section's packet rate where its edges arrive), the
 * sessions online, and charts of the last hour (sessions, connections, logins, packets routed,
 * XDB latency). Server-side HTML and SVG that reloads itself every 10 s: no script in the page
 * at all, so nothing to pin or to trust.
 */
import { escapeAttr, escapeText } from "../../xml/element.ts";
import type { ServerView } from "../../server/module_api.ts";
import type { C2sStreams } from "../../server/c2s_streams.ts";
import { XDB_LATENCY_BUCKETS_MS } from "../../server/xdb_client.ts";

/** One sample of the counters, taken every `SAMPLE_MS`. */
export interface Sample {
  t: number;
  sessions: number;
  connections: number;
  logins: number;
  failures: number;
  /** Packets the router delivered so far, in all and per section id. */
  routed: number;
  routedTo: Record<string, number>;
  /** XDB round trips so far over all sections, per latency bucket (not cumulative). */
  xdbLatency: number[];
}

export const SAMPLE_MS = 10_000;
/** An hour of samples. */
export const SAMPLES_KEPT = 360;

/** Keeps the last hour of samples. */
export class History {
  readonly samples: Sample[] = [];

  take(t: number, c2s: readonly C2sStreams[], view?: ServerView): void {
    this.samples.push(History.sample(t, c2s, view));
    if (this.samples.length > SAMPLES_KEPT) this.samples.shift();
  }

  /** The samples with one for now at the end, as the page draws them. */
  withNow(t: number, c2s: readonly C2sStreams[], view?: ServerView): Sample[] {
    return [...this.samples, History.sample(t, c2s, view)];
  }

  static sample(t: number, c2s: readonly C2sStreams[], view?: ServerView): Sample {
    let sessions = 0, connections = 0, logins = 0, failures = 0;
    for (const section of c2s) {
      const streams = section.streams();
      connections += streams.length;
      sessions += streams.filter((stream) => stream.jid !== undefined).length;
      logins += section.counters.logins;
      failures += section.counters.loginFailures;
    }
    let routed = 0;
    const routedTo: Record<string, number> = {};
    for (const { id, count } of view?.routing().delivered ?? []) {
      routed += count;
      routedTo[id] = (routedTo[id] ?? 0) + count;
    }
    const xdbLatency = new Array(XDB_LATENCY_BUCKETS_MS.length + 1).fill(0);
    for (const section of view?.sections() ?? []) {
      section.xdbLatency.counts.forEach((n, i) => xdbLatency[i] += n);
    }
    return { t, sessions, connections, logins, failures, routed, routedTo, xdbLatency };
  }
}

const e = escapeText;

/** Per minute, what grew between two samples (0 for the first one). */
export function ratePerMinute(
  read: (s: Sample) => number,
): (s: Sample, previous?: Sample) => number {
  return (s, previous) =>
    previous ? Math.max(0, read(s) - read(previous)) * (60_000 / Math.max(1, s.t - previous.t)) : 0;
}

/**
 * The `q` quantile, in ms, of the XDB round trips answered between two samples, interpolated
 * within its bucket as Prometheus's `histogram_quantile` does (0 when there were none; the last
 * finite bound when it falls in +Inf).
 */
export function latencyQuantile(q: number, s: Sample, previous?: Sample): number {
  const counts = s.xdbLatency.map((n, i) => n - (previous?.xdbLatency[i] ?? 0));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    if (below + counts[i] >= rank && counts[i] > 0) {
      if (i === XDB_LATENCY_BUCKETS_MS.length) return XDB_LATENCY_BUCKETS_MS[i - 1];
      const lower = i === 0 ? 0 : XDB_LATENCY_BUCKETS_MS[i - 1];
      return lower + (XDB_LATENCY_BUCKETS_MS[i] - lower) * ((rank - below) / counts[i]);
    }
    below += counts[i];
  }
  return XDB_LATENCY_BUCKETS_MS.at(-1)!;
}

/** A number as a chart label: at most one decimal. */
const short = (value: number) => String(Math.round(value * 10) / 10);

/** A line chart of some series over the samples' time, with the latest values in the legend. */
export function chart(
  title: string,
  samples: readonly Sample[],
  series: { name: string; color: string; value: (s: Sample, previous?: Sample) => number }[],
): string {
  const width = 480, height = 140, left = 36, bottom = 20;
  const values = series.map((line) => samples.map((s, i) => line.value(s, samples[i - 1])));
  const max = Math.max(1, ...values.flat());
  const first = samples[0]?.t ?? 0;
  const span = Math.max(1, (samples.at(-1)?.t ?? 0) - first);
  const x = (t: number) => left + ((t - first) / span) * (width - left - 4);
  const y = (v: number) => height - bottom - (v / max) * (height - bottom - 8);
  const lines = series.map((line, n) => {
    const points = samples.map((s, i) => `${x(s.t).toFixed(1)},${y(values[n][i]).toFixed(1)}`);
    return `<polyline fill="none" stroke="${line.color}" stroke-width="2" points="${
      points.join(" ")
    }"><title>${e(line.name)}</title></polyline>`;
  }).join("");
  const legend = series.map((line, n) =>
    `<span style="color:${line.color}">■</span> ${e(line.name)}: ${short(values[n].at(-1) ?? 0)}`
  ).join(" &nbsp; ");
  // Under a minute of samples (a server just started) "last 0 min" said nothing: seconds then.
  const last = span < 60_000 ? `${Math.round(span / 1000)} s` : `${Math.round(span / 60_000)} min`;
  return `<figure><figcaption>${e(title)} <small>(last ${last})</small></figcaption>` +
    `<svg width="${width}" height="${height}" role="img" aria-label="${escapeAttr(title)}">` +
    `<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${
      height - bottom
    }" stroke="#999"/>` +
    `<line x1="${left}" y1="0" x2="${left}" y2="${height - bottom}" stroke="#999"/>` +
    `<text x="2" y="12" font-size="11">${short(max)}</text><text x="2" y="${
      height - bottom
    }" font-size="11">0</text>${lines}</svg><div>${legend}</div></figure>`;
}

interface Node {
  id: string;
  label: string;
  column: number;
}

/**
 * The delivery tree as a layered SVG graph: kinds → host patterns → sections → handlers, each
 * section labelled, where its edges arrive, with its packets per minute when `rates` has them.
 */
export function treeGraph(view: ServerView, rates?: ReadonlyMap<string, number>): string {
  const nodes = new Map<string, Node>();
  const edges: [string, string][] = [];
  const node = (id: string, label: string, column: number) => {
    if (!nodes.has(id)) nodes.set(id, { id, label, column });
    return id;
  };
  const sections = new Map(view.sections().map((section) => [section.id, section]));
  // Sections and their handlers first, in start order, so each section's handlers sit together.
  for (const section of sections.values()) {
    const s = node(`s:${section.id}`, `${section.id} <${section.kind}>`, 2);
    section.handlers.forEach((handler, i) => {
      edges.push([s, node(`d:${section.id}:${i}`, `${handler.phase} ${handler.label}`, 3)]);
    });
  }
  for (const { kind, pattern, ids } of view.tree()) {
    // An id registered as its own host only is how replies reach it (jabberd tree skips it too).
    if (ids.length === 1 && ids[0] === pattern) continue;
    const k = node(`k:${kind}`, kind, 0);
    const h = node(`h:${kind}:${pattern}`, pattern, 1);
    edges.push([k, h]);
    for (const id of ids) edges.push([h, node(`s:${id}`, `${id} <${sections.get(id)?.kind}>`, 2)]);
  }
  const columns: Node[][] = [[], [], [], []];
  for (const n of nodes.values()) columns[n.column].push(n);
  const rowHeight = 22, columnWidth = 210;
  const height = Math.max(...columns.map((c) => c.length)) * rowHeight + 10;
  const place = new Map<string, { x: number; y: number }>();
  const spread = (column: Node[], c: number) => {
    const step = height / Math.max(1, column.length);
    column.forEach((n, r) => place.set(n.id, { x: 8 + c * columnWidth, y: step * r + step / 2 }));
  };
  spread(columns[3], 3);
  spread(columns[2], 2);
  // Hosts, then kinds, in the order of the mean height of what they lead to: fewer crossings.
  for (const c of [1, 0]) {
    const mean = (n: Node) => {
      const ys = edges.filter(([from]) => from === n.id).map(([, to]) => place.get(to)!.y);
      return ys.reduce((a, b) => a + b, 0) / Math.max(1, ys.length);
    };
    spread(columns[c].map((n) => ({ n, y: mean(n) })).sort((a, b) => a.y - b.y).map((e) => e.n), c);
  }
  const lines = edges.map(([from, to]) => {
    const a = place.get(from)!, b = place.get(to)!;
    const x1 = a.x + columnWidth - 30, x2 = b.x - 4;
    return `<line x1="${x1}" y1="${a.y}" x2="${x2}" y2="${b.y}" stroke="#bbb"/>`;
  }).join("");
  // A section's rate is of all it received, so it is drawn once, where its edges arrive (just
  // left of and above its name), not on each edge (two edges into one section overlapped).
  const sectionRates = [...nodes.values()].filter((n) => n.column === 2).map((n) => {
    const rate = rates?.get(n.id.slice(2));
    if (rate === undefined) return "";
    const { x, y } = place.get(n.id)!;
    return `<text x="${x - 6}" y="${y - 5}" font-size="10" text-anchor="end" class="rate" ` +
      `data-section="${escapeAttr(n.id.slice(2))}">${short(rate)}/min</text>`;
  }).join("");
  const labels = [...nodes.values()].map((n) => {
    const { x, y } = place.get(n.id)!;
    return `<text x="${x}" y="${y + 4}" font-size="12" class="c${n.column}">${e(n.label)}</text>`;
  }).join("");
  return `<svg width="${columnWidth * 4}" height="${height}" role="img" ` +
    `aria-label="delivery tree">${lines}${sectionRates}${labels}</svg>`;
}

export interface StatusPageData {
  name: string;
  version: string;
  uptimeSeconds: number;
  view: ServerView | undefined;
  c2s: readonly C2sStreams[];
  history: readonly Sample[];
  links: { rel: string; href: string }[];
}

/** The whole page. */
export function statusPage(data: StatusPageData): string {
  const streams = data.c2s.flatMap((c2s) => c2s.streams());
  const sessions = streams.filter((stream) => stream.jid !== undefined);
  const byTransport = new Map<string, number>();
  for (const stream of streams) {
    byTransport.set(stream.transport, (byTransport.get(stream.transport) ?? 0) + 1);
  }
  const rows = sessions.map((s) =>
    `<tr><td>${e(s.jid!)}</td><td>${e(s.transport)}</td><td>${e(s.remote)}</td>` +
    `<td>${new Date(s.since).toISOString()}</td></tr>`
  ).join("");
  const sections = data.view?.sections() ?? [];
  // Each section's packets per minute over the last sample, for the tree's edges.
  // (The page's own sample can fall on a timer's: then the one before that counts.)
  const last = data.history.at(-1);
  const previous = data.history.findLast((s) => s.t < (last?.t ?? 0));
  const rates = new Map<string, number>();
  for (const { id } of sections) {
    if (last) rates.set(id, ratePerMinute((s) => s.routedTo[id] ?? 0)(last, previous));
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="refresh" content="10"><title>${e(data.name)}: status</title>` +
    `<style>body{font:14px system-ui,sans-serif;margin:1.5em;max-width:1000px}` +
    `table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}` +
    `figure{display:inline-block;margin:0 1em 1em 0}.c0{font-weight:bold}.c2{fill:#036}` +
    `.c3{fill:#555}.rate{fill:#a50}</style></head><body>` +
    `<h1>${e(data.name)} ${e(data.version)}</h1>` +
    `<p id="summary"><b id="sessions">${sessions.length}</b> session(s) online, ` +
    `<b id="connections">${streams.length}</b> client connection(s) (${
      [...byTransport].map(([t, n]) => `${e(t)} ${n}`).join(", ") || "none"
    }), <b id="sections">${sections.length}</b> sections, up ${data.uptimeSeconds} s.</p>` +
    `<p>Clients connect through ${
      data.links.map((l) => `<code>${e(l.href)}</code>`).join(" and ") || "TCP only"
    } (XEP-0156: <a href="/.well-known/host-meta">host-meta</a>).</p>` +
    `<h2>Last hour</h2>` +
    chart("Sessions and connections", data.history, [
      { name: "sessions", color: "#06c", value: (s) => s.sessions },
      { name: "connections", color: "#c60", value: (s) => s.connections },
    ]) +
    chart("Logins per minute", data.history, [
      { name: "logins", color: "#090", value: ratePerMinute((s) => s.logins) },
      { name: "failures", color: "#c00", value: ratePerMinute((s) => s.failures) },
    ]) +
    chart("Packets routed per minute", data.history, [
      { name: "packets", color: "#639", value: ratePerMinute((s) => s.routed) },
    ]) +
    chart("XDB latency (ms)", data.history, [
      { name: "p50", color: "#06c", value: (s, p) => latencyQuantile(0.5, s, p) },
      { name: "p99", color: "#c00", value: (s, p) => latencyQuantile(0.99, s, p) },
    ]) +
    `<h2>Delivery tree</h2>` +
    (data.view ? treeGraph(data.view, rates) : "<p>Not available</p>") +
    `<h2>Sessions</h2>` +
    (rows
      ? `<table><tr><th>JID</th><th>transport</th><th>from</th><th>since</th></tr>${rows}</table>`
      : "<p>No session online.</p>") +
    `</body></html>`;
}
