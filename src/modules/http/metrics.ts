/**
 * Prometheus metrics at `/metrics`, in the text exposition format (version 0.0.4): client
 * connections by transport, bound sessions, logins and failures, refused connections, HTTP
 * requests by endpoint, BOSH sessions, XDB requests in flight and their latency, the delivery
 * tree's size, packets routed per kind and section, bounces, the router's queues and memory.
 * They are read once into a `MetricsSnapshot` (`collectMetrics`), which the admin API's JSON
 * also serves, so `/metrics` and `/admin/metrics` show the same figures.
 */
import type { ServerView } from "../../server/module_api.ts";
import type { C2sStreams } from "../../server/c2s_streams.ts";
import { XDB_LATENCY_BUCKETS_MS } from "../../server/xdb_client.ts";

type Labels = Record<string, string>;

/** One metric family: its help line, type and samples. */
interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  /** Label set, value, and for a histogram the sample's suffix (`_bucket`, `_sum`, `_count`). */
  samples: [Labels, number, string?][];
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  const escaped = entries.map(([key, value]) =>
    `${key}="${value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`
  );
  return `{${escaped.join(",")}}`;
}

/** The exposition text of some families. */
export function exposition(families: Family[]): string {
  let out = "";
  for (const family of families) {
    out += `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} ${family.type}\n`;
    for (const [labels, value, suffix = ""] of family.samples) {
      out += `${family.name}${suffix}${labelText(labels)} ${value}\n`;
    }
  }
  return out;
}

export interface MetricsSources {
  view(): ServerView | undefined;
  c2s(): C2sStreams[];
  /** The http component's counters: requests by endpoint and the rest. */
  requests: Record<string, number>;
  websocketsOpened(): number;
  boshSessions(): number;
  boshCreated(): number;
  uptimeSeconds(): number;
  version: string;
}

/** One c2s section's figures. */
export interface C2sMetrics {
  section: string;
  /** Open connections by transport (`tcp`, `tcp-tls`, `websocket`, `bosh`). */
  connections: Record<string, number>;
  sessions: number;
  logins: number;
  loginFailures: number;
  refused: number;
}

/** One section's XDB requests: in flight, and the round trips answered by latency. */
export interface XdbMetrics {
  section: string;
  inFlight: number;
  /** Upper bounds of the latency buckets, in ms (`+Inf` follows the last). */
  bucketsMs: readonly number[];
  /** Round trips per bucket, not cumulative; one more than `bucketsMs` (the +Inf bucket). */
  counts: readonly number[];
  sumMs: number;
  count: number;
}

/**
 * Every figure the server keeps, read at one instant: the one source of `/metrics` (rendered by
 * `metricsText`) and of the admin API's JSON (`/admin/metrics`, `/admin/sections`), so the two
 * never disagree.
 */
export interface MetricsSnapshot {
  version: string;
  uptimeSeconds: number;
  c2s: C2sMetrics[];
  http: {
    requests: Record<string, number>;
    websocketsOpened: number;
    boshSessions: number;
    boshCreated: number;
  };
  xdb: XdbMetrics[];
  /** The router's counters (absent when the server view is not offered). */
  routing?: {
    /** Packets delivered per receiving section and kind. */
    delivered: { section: string; kind: string; count: number }[];
    /** Packets nobody took, by stanza error condition. */
    bounces: Record<string, number>;
    queues: number;
    queued: number;
  };
  memory?: { rss: number; heapUsed: number };
  /** Host patterns in the delivery tree, by packet kind. */
  treeHosts: Record<string, number>;
}

const TRANSPORTS = ["tcp", "tcp-tls", "websocket", "bosh"];

/** Reads every figure now. */
export function collectMetrics(sources: MetricsSources): MetricsSnapshot {
  const c2s = sources.c2s().map((section): C2sMetrics => {
    const connections: Record<string, number> = Object.fromEntries(TRANSPORTS.map((t) => [t, 0]));
    let sessions = 0;
    for (const stream of section.streams()) {
      connections[stream.transport] = (connections[stream.transport] ?? 0) + 1;
      if (stream.jid !== undefined) sessions++;
    }
    const { logins, loginFailures, refused } = section.counters;
    return { section: section.id, connections, sessions, logins, loginFailures, refused };
  });
  const view = sources.view();
  const routing = view?.routing();
  const treeHosts: Record<string, number> = {};
  for (const entry of view?.tree() ?? []) treeHosts[entry.kind] = (treeHosts[entry.kind] ?? 0) + 1;
  return {
    version: sources.version,
    uptimeSeconds: sources.uptimeSeconds(),
    c2s,
    http: {
      requests: { ...sources.requests },
      websocketsOpened: sources.websocketsOpened(),
      boshSessions: sources.boshSessions(),
      boshCreated: sources.boshCreated(),
    },
    xdb: (view?.sections() ?? []).map(({ id, xdbInFlight, xdbLatency }) => ({
      section: id,
      inFlight: xdbInFlight,
      bucketsMs: XDB_LATENCY_BUCKETS_MS,
      counts: [...xdbLatency.counts],
      sumMs: xdbLatency.sumMs,
      count: xdbLatency.count,
    })),
    routing: routing && {
      delivered: routing.delivered.map(({ id, kind, count }) => ({ section: id, kind, count })),
      bounces: { ...routing.bounces },
      queues: routing.queues,
      queued: routing.queued,
    },
    memory: view?.memory(),
    treeHosts,
  };
}

/** `/metrics`: the snapshot in the text exposition format. */
export function metricsText(sources: MetricsSources): string {
  return metricsExposition(collectMetrics(sources));
}

export function metricsExposition(snapshot: MetricsSnapshot): string {
  const connections: [Labels, number][] = snapshot.c2s.flatMap((c2s) =>
    Object.entries(c2s.connections).map(([transport, n]): [Labels, number] => [
      { section: c2s.section, transport },
      n,
    ])
  );
  const perC2s = (read: (section: C2sMetrics) => number): [Labels, number][] =>
    snapshot.c2s.map((section) => [{ section: section.section }, read(section)]);
  const latency: [Labels, number, string][] = [];
  for (const xdb of snapshot.xdb) {
    let cumulative = 0;
    xdb.counts.forEach((n, i) => {
      cumulative += n;
      const le = i < xdb.bucketsMs.length ? String(xdb.bucketsMs[i] / 1000) : "+Inf";
      latency.push([{ section: xdb.section, le }, cumulative, "_bucket"]);
    });
    latency.push([{ section: xdb.section }, xdb.sumMs / 1000, "_sum"]);
    latency.push([{ section: xdb.section }, xdb.count, "_count"]);
  }
  const { routing, memory, http } = snapshot;
  return exposition([
    {
      name: "jabberd_info",
      help: "The running version.",
      type: "gauge",
      samples: [[{ version: snapshot.version }, 1]],
    },
    {
      name: "jabberd_uptime_seconds",
      help: "Seconds since the http component started.",
      type: "gauge",
      samples: [[{}, snapshot.uptimeSeconds]],
    },
    {
      name: "jabberd_c2s_connections",
      help: "Open client connections by c2s section and transport.",
      type: "gauge",
      samples: connections,
    },
    {
      name: "jabberd_c2s_sessions",
      help: "Bound client sessions by c2s section.",
      type: "gauge",
      samples: perC2s((section) => section.sessions),
    },
    {
      name: "jabberd_c2s_logins_total",
      help: "Successful SASL logins.",
      type: "counter",
      samples: perC2s((section) => section.logins),
    },
    {
      name: "jabberd_c2s_login_failures_total",
      help: "Failed SASL logins.",
      type: "counter",
      samples: perC2s((section) => section.loginFailures),
    },
    {
      name: "jabberd_c2s_refused_total",
      help: "Connections refused by <limits connections-per-ip>.",
      type: "counter",
      samples: perC2s((section) => section.refused),
    },
    {
      name: "jabberd_http_requests_total",
      help: "HTTP requests by endpoint.",
      type: "counter",
      samples: Object.entries(http.requests).map(([endpoint, n]) => [{ endpoint }, n]),
    },
    {
      name: "jabberd_websocket_opened_total",
      help: "WebSocket streams opened.",
      type: "counter",
      samples: [[{}, http.websocketsOpened]],
    },
    {
      name: "jabberd_bosh_sessions",
      help: "Open BOSH sessions.",
      type: "gauge",
      samples: [[{}, http.boshSessions]],
    },
    {
      name: "jabberd_bosh_sessions_created_total",
      help: "BOSH sessions created.",
      type: "counter",
      samples: [[{}, http.boshCreated]],
    },
    {
      name: "jabberd_xdb_requests_in_flight",
      help: "XDB requests waiting for their reply, by section.",
      type: "gauge",
      samples: snapshot.xdb.map((x) => [{ section: x.section }, x.inFlight]),
    },
    {
      name: "jabberd_xdb_latency_seconds",
      help: "XDB round trips answered, by section and latency.",
      type: "histogram",
      samples: latency,
    },
    {
      name: "jabberd_packets_routed_total",
      help: "Packets the router delivered, by packet kind and receiving section.",
      type: "counter",
      samples: (routing?.delivered ?? []).map((
        d,
      ) => [{ kind: d.kind, section: d.section }, d.count]),
    },
    {
      name: "jabberd_bounces_total",
      help: "Packets nobody took, bounced or dropped, by stanza error condition.",
      type: "counter",
      samples: Object.entries(routing?.bounces ?? {}).map(([condition, n]) => [{ condition }, n]),
    },
    {
      name: "jabberd_router_queues",
      help: "Sender-recipient pairs waiting behind an unfinished delivery.",
      type: "gauge",
      samples: routing ? [[{}, routing.queues]] : [],
    },
    {
      name: "jabberd_router_queued_packets",
      help: "Deliveries in those queues not finished yet.",
      type: "gauge",
      samples: routing ? [[{}, routing.queued]] : [],
    },
    {
      name: "jabberd_memory_bytes",
      help: "Process memory: resident set (rss) and JavaScript heap in use (heap).",
      type: "gauge",
      samples: memory ? [[{ kind: "rss" }, memory.rss], [{ kind: "heap" }, memory.heapUsed]] : [],
    },
    {
      name: "jabberd_tree_hosts",
      help: "Host patterns in the delivery tree, by packet kind.",
      type: "gauge",
      samples: Object.entries(snapshot.treeHosts).map(([kind, n]) => [{ kind }, n]),
    },
  ]);
}
