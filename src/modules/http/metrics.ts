/**
 * Prometheus metrics at `/metrics`, in the text exposition format (version 0.0.4): client
 * connections by transport, bound sessions, logins and failures, refused connections, HTTP
 * requests by endpoint, BOSH sessions, XDB requests in flight and their latency, the delivery
 * tree's size, packets routed per kind and section, bounces, the router's queues and memory.
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

export function metricsText(sources: MetricsSources): string {
  const c2s = sources.c2s();
  const connections: [Labels, number][] = [];
  for (const section of c2s) {
    const byTransport = new Map<string, number>();
    for (const stream of section.streams()) {
      byTransport.set(stream.transport, (byTransport.get(stream.transport) ?? 0) + 1);
    }
    for (const transport of ["tcp", "tcp-tls", "websocket", "bosh"]) {
      connections.push([{ section: section.id, transport }, byTransport.get(transport) ?? 0]);
    }
  }
  const perC2s = (read: (section: C2sStreams) => number): [Labels, number][] =>
    c2s.map((section) => [{ section: section.id }, read(section)]);
  const view = sources.view();
  const sections = view?.sections() ?? [];
  const routing = view?.routing();
  const latency: [Labels, number, string][] = [];
  for (const { id, xdbLatency } of sections) {
    let cumulative = 0;
    xdbLatency.counts.forEach((n, i) => {
      cumulative += n;
      const le = i < XDB_LATENCY_BUCKETS_MS.length
        ? String(XDB_LATENCY_BUCKETS_MS[i] / 1000)
        : "+Inf";
      latency.push([{ section: id, le }, cumulative, "_bucket"]);
    });
    latency.push([{ section: id }, xdbLatency.sumMs / 1000, "_sum"]);
    latency.push([{ section: id }, xdbLatency.count, "_count"]);
  }
  const memory = view?.memory();
  const treeSizes = new Map<string, number>();
  for (const entry of view?.tree() ?? []) {
    treeSizes.set(entry.kind, (treeSizes.get(entry.kind) ?? 0) + 1);
  }
  return exposition([
    {
      name: "jabberd_info",
      help: "The running version.",
      type: "gauge",
      samples: [[{ version: sources.version }, 1]],
    },
    {
      name: "jabberd_uptime_seconds",
      help: "Seconds since the http component started.",
      type: "gauge",
      samples: [[{}, sources.uptimeSeconds()]],
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
      samples: perC2s((section) => section.streams().filter((s) => s.jid !== undefined).length),
    },
    {
      name: "jabberd_c2s_logins_total",
      help: "Successful SASL logins.",
      type: "counter",
      samples: perC2s((section) => section.counters.logins),
    },
    {
      name: "jabberd_c2s_login_failures_total",
      help: "Failed SASL logins.",
      type: "counter",
      samples: perC2s((section) => section.counters.loginFailures),
    },
    {
      name: "jabberd_c2s_refused_total",
      help: "Connections refused by <limits connections-per-ip>.",
      type: "counter",
      samples: perC2s((section) => section.counters.refused),
    },
    {
      name: "jabberd_http_requests_total",
      help: "HTTP requests by endpoint.",
      type: "counter",
      samples: Object.entries(sources.requests).map(([endpoint, n]) => [{ endpoint }, n]),
    },
    {
      name: "jabberd_websocket_opened_total",
      help: "WebSocket streams opened.",
      type: "counter",
      samples: [[{}, sources.websocketsOpened()]],
    },
    {
      name: "jabberd_bosh_sessions",
      help: "Open BOSH sessions.",
      type: "gauge",
      samples: [[{}, sources.boshSessions()]],
    },
    {
      name: "jabberd_bosh_sessions_created_total",
      help: "BOSH sessions created.",
      type: "counter",
      samples: [[{}, sources.boshCreated()]],
    },
    {
      name: "jabberd_xdb_requests_in_flight",
      help: "XDB requests waiting for their reply, by section.",
      type: "gauge",
      samples: sections.map((s) => [{ section: s.id }, s.xdbInFlight]),
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
      samples: (routing?.delivered ?? []).map((d) => [{ kind: d.kind, section: d.id }, d.count]),
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
      samples: [...treeSizes].map(([kind, n]) => [{ kind }, n]),
    },
  ]);
}
