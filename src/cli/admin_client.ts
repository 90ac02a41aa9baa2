/**
 * The command line's client of the admin API (src/modules/http/admin.ts): `jabberd status` adds
 * what the running server says (sessions, connections, sections) and `jabberd sessions` lists
 * who is online, when the config has an `<http>` component with `<admin token>`.
 */
import type { Adapters } from "../adapters/types.ts";
import type { Config } from "../config/mod.ts";

const NS_HTTP_CONFIG = "jabberd:config:http";

export interface AdminEndpoint {
  /** `http://127.0.0.1:5280` */
  base: string;
  token: string;
}

/** Where the config's admin API answers, from its first `<http>` with `<admin token>`. */
export function adminEndpoint(config: Config): AdminEndpoint | undefined {
  for (const section of config.sections) {
    for (const module of section.modules) {
      const http = module.element;
      if (http.attrs.xmlns !== NS_HTTP_CONFIG) continue;
      const token = http.getChild("admin")?.attrs.token;
      if (!token) continue;
      const listens = http.getChildren("listen");
      const listen = listens.find((l) => l.attrs.tls !== "true") ?? listens[0];
      const port = Number(listen?.attrs.port ?? 5280);
      const tls = listen?.attrs.tls === "true";
      const ip = listen?.attrs.ip ?? (listen ? "::" : "127.0.0.1");
      // A wildcard address is reached on loopback, which the admin API allows by default.
      const host = ip === "::"
        ? "[::1]"
        : ip === "0.0.0.0"
        ? "127.0.0.1"
        : ip.includes(":")
        ? `[${ip}]`
        : ip;
      return { base: `${tls ? "https" : "http"}://${host}:${port}`, token };
    }
  }
  return undefined;
}

/** GETs `path` of the admin API; the parsed JSON, or an Error saying why not. */
export async function adminGet(
  adapters: Adapters,
  endpoint: AdminEndpoint,
  path: string,
): Promise<Record<string, unknown> | Error> {
  try {
    const response = await adapters.http.fetch(`${endpoint.base}/admin${path}`, {
      headers: { authorization: `Bearer ${endpoint.token}` },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      return new Error(`${endpoint.base} answered ${response.status}: ${body.error ?? ""}`);
    }
    return body;
  } catch (error) {
    return new Error(`cannot reach ${endpoint.base}: ${(error as Error).message}`);
  }
}

interface StatusAnswer {
  version: string;
  uptimeSeconds: number;
  connections: number;
  sessions: number;
  sections: { id: string; kind: string }[];
  peers?: { domain: string; direction: string }[];
}

/** The lines `jabberd status` adds from the admin API. */
export function describeStatus(status: StatusAnswer): string {
  const sections = status.sections.map((s) => `${s.id} <${s.kind}>`).join(", ");
  const peers = (status.peers ?? []).map((p) => `${p.domain} (${p.direction})`).join(", ");
  return `${status.sessions} session(s) online, ${status.connections} client connection(s), ` +
    `up ${status.uptimeSeconds} s, version ${status.version}\nsections: ${sections}\n` +
    `federation peers: ${peers || "none"}\n`;
}

interface SessionsAnswer {
  sessions: { jid: string; transport: string; remote: string; since: string; section: string }[];
}

/** `jabberd sessions`: one line per session, as a table. */
export function describeSessions(answer: SessionsAnswer): string {
  if (answer.sessions.length === 0) return "No session online\n";
  const rows = answer.sessions.map((s) => [s.jid, s.transport, s.remote, s.since]);
  const header = ["JID", "TRANSPORT", "FROM", "SINCE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n") + "\n";
}

/** `jabberd sessions [-c FILE]`. */
export async function runSessions(config: Config, adapters: Adapters): Promise<number> {
  const endpoint = adminEndpoint(config);
  if (!endpoint) {
    adapters.stderr(
      'jabberd sessions asks the admin API: add <admin token="…"/> to the config\'s ' +
        '<http xmlns="jabberd:config:http"> component\n',
    );
    return 1;
  }
  const answer = await adminGet(adapters, endpoint, "/sessions");
  if (answer instanceof Error) {
    adapters.stderr(`The admin API did not answer: ${answer.message}\n`);
    return 1;
  }
  adapters.stdout(describeSessions(answer as unknown as SessionsAnswer));
  return 0;
}

/** The status lines from the admin API, or a sentence saying why there are none. */
export async function adminStatus(config: Config, adapters: Adapters): Promise<string> {
  const endpoint = adminEndpoint(config);
  if (!endpoint) return "";
  const answer = await adminGet(adapters, endpoint, "/status");
  if (answer instanceof Error) return `(the admin API did not answer: ${answer.message})\n`;
  return describeStatus(answer as unknown as StatusAnswer);
}
