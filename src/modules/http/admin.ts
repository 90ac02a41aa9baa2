/**
 * The admin API at `/admin/…` (JSON): sessions online, accounts (through `src/accounts/`), kick,
 * announce, config reload, the delivery tree, per-section counters and every metric. The figures
 * come from the same snapshot as `/metrics` (metrics.ts `collectMetrics`). Only from the allowed
 * addresses (loopback by default, else 403), and only with the configured token as
 * `Authorization: Bearer …` (none: 401, another: 403).
 */
import { createAccount, deleteAccount, listAccounts, setPassword } from "../../accounts/store.ts";
import type { Logger, ServerView, XdbClient } from "../../server/module_api.ts";
import { StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { Element } from "../../xml/element.ts";
import { type Cidr, inRanges } from "../../util/cidr.ts";
import type { C2sStreams } from "../../server/c2s_streams.ts";
import { Hono, type MiddlewareHandler } from "./hono.ts";
import type { HttpEnv } from "./app.ts";
import type { Peer } from "../../server/s2s_peers.ts";
import type { MetricsSnapshot } from "./metrics.ts";

export interface AdminContext {
  token: string;
  allow: readonly Cidr[];
  view(): ServerView | undefined;
  c2s(): C2sStreams[];
  /** The live federation peers of every s2s section. */
  peers(): Peer[];
  xdb: XdbClient;
  log: Logger;
  deliver(element: Element): void;
  /** Every figure, read now: the source `/metrics` renders too. */
  metrics(): MetricsSnapshot;
  startedAt: number;
  now(): number;
  version: string;
}

const encoder = new TextEncoder();

/** Compares in time that depends on the length only, so timing tells nothing of the token. */
export function sameToken(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

/** Refuses what is not from an allowed address or lacks the token. */
export function adminGuard(ctx: AdminContext): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const remote = c.env.info.remote.hostname;
    const address = remote.startsWith("::ffff:") ? remote.slice(7) : remote;
    if (!inRanges(address, ctx.allow)) {
      ctx.log.notice(`http: refused an admin request from ${remote} (not in <admin allow>)`);
      return c.json({ error: "The admin API answers only the addresses in <admin allow>" }, 403);
    }
    const header = c.req.header("authorization");
    const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!match) {
      c.header("www-authenticate", 'Bearer realm="jabberd admin"');
      return c.json({ error: "Send the admin token as Authorization: Bearer <token>" }, 401);
    }
    if (!sameToken(match[1], ctx.token)) {
      ctx.log.notice(`http: refused an admin request from ${remote} with a wrong token`);
      return c.json({ error: "Wrong admin token" }, 403);
    }
    await next();
    return undefined;
  };
}

/** The status code for an error of the accounts store. */
function statusOf(error: unknown): 400 | 404 | 409 | 500 {
  if (!(error instanceof StanzaError)) return 500;
  if (error.condition === "conflict") return 409;
  if (error.condition === "item-not-found") return 404;
  return 400;
}

async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  try {
    const body = await request.json();
    return body && typeof body === "object" ? body as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** The bound sessions of every c2s section. */
export function sessionsOf(ctx: AdminContext) {
  return ctx.c2s().flatMap((c2s) =>
    c2s.streams().filter((stream) => stream.jid !== undefined).map((stream) => ({
      jid: stream.jid!,
      section: c2s.id,
      transport: stream.transport,
      remote: stream.remote,
      since: new Date(stream.since).toISOString(),
    }))
  );
}

export function adminRoutes(ctx: AdminContext): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.use("*", adminGuard(ctx));
  app.get("/status", (c) => {
    const view = ctx.view();
    const streams = ctx.c2s().flatMap((c2s) => c2s.streams());
    const { routing, memory } = ctx.metrics();
    return c.json({
      version: ctx.version,
      uptimeSeconds: Math.round((ctx.now() - ctx.startedAt) / 1000),
      connections: streams.length,
      sessions: streams.filter((stream) => stream.jid !== undefined).length,
      sections: view?.sections().map(({ id, kind }) => ({ id, kind })) ?? [],
      addresses: view?.addresses() ?? [],
      peers: ctx.peers(),
      packetsRouted: routing?.delivered.reduce((sum, d) => sum + d.count, 0) ?? 0,
      bounces: routing?.bounces ?? {},
      routerQueued: routing?.queued ?? 0,
      memory,
    });
  });
  app.get("/metrics", (c) => c.json(ctx.metrics()));
  app.get("/peers", (c) => c.json({ peers: ctx.peers() }));
  app.get("/sessions", (c) => c.json({ sessions: sessionsOf(ctx) }));
  app.get("/tree", (c) => c.json({ tree: ctx.view()?.tree() ?? [] }));
  app.get("/sections", (c) => {
    const c2s = new Map(ctx.c2s().map((streams) => [streams.id, streams]));
    const metrics = ctx.metrics();
    const xdb = new Map(metrics.xdb.map((figures) => [figures.section, figures]));
    const sections = (ctx.view()?.sections() ?? []).map((section) => {
      const streams = c2s.get(section.id);
      const routed: Record<string, number> = {};
      for (const { section: id, kind, count } of metrics.routing?.delivered ?? []) {
        if (id === section.id) routed[kind] = count;
      }
      return {
        ...section,
        counters: streams
          ? { connections: streams.streams().length, ...streams.counters }
          : undefined,
        // Packets the router delivered to this section, by kind (`jabberd_packets_routed_total`).
        routed,
        xdb: xdb.get(section.id),
      };
    });
    const { requests, websocketsOpened, boshSessions } = metrics.http;
    return c.json({ sections, http: { ...requests, websocketsOpened, boshSessions } });
  });
  app.get("/accounts", async (c) => {
    const host = c.req.query("host");
    if (!host) return c.json({ error: "Name the host: /admin/accounts?host=example.org" }, 400);
    return c.json({ accounts: await listAccounts(ctx.xdb, host.toLowerCase()) });
  });
  app.post("/accounts", async (c) => {
    const { jid, password } = await jsonBody(c.req.raw);
    const account = typeof jid === "string" ? JID.tryParse(jid) : undefined;
    if (!account?.local || account.resource || typeof password !== "string" || !password) {
      return c.json({ error: 'Send {"jid": "user@host", "password": "…"}' }, 400);
    }
    try {
      await createAccount(ctx.xdb, account, password);
    } catch (error) {
      return c.json({ error: (error as Error).message }, statusOf(error));
    }
    ctx.log.notice(`http: admin created the account ${account}`);
    return c.json({ created: account.toString() }, 201);
  });
  app.delete("/accounts/:jid", async (c) => {
    const account = JID.tryParse(c.req.param("jid"));
    if (!account?.local) return c.json({ error: "Name an account: user@host" }, 400);
    try {
      await deleteAccount(ctx.xdb, account);
    } catch (error) {
      return c.json({ error: (error as Error).message }, statusOf(error));
    }
    for (const c2s of ctx.c2s()) c2s.kick(account.toString(), "The account was deleted");
    ctx.log.notice(`http: admin deleted the account ${account}`);
    return c.json({ deleted: account.toString() });
  });
  app.post("/accounts/:jid/password", async (c) => {
    const account = JID.tryParse(c.req.param("jid"));
    const { password } = await jsonBody(c.req.raw);
    if (!account?.local || typeof password !== "string" || !password) {
      return c.json({ error: 'Send {"password": "…"} for user@host' }, 400);
    }
    try {
      await setPassword(ctx.xdb, account, password);
    } catch (error) {
      return c.json({ error: (error as Error).message }, statusOf(error));
    }
    ctx.log.notice(`http: admin changed the password of ${account}`);
    return c.json({ changed: account.toString() });
  });
  app.post("/kick", async (c) => {
    const { jid, reason } = await jsonBody(c.req.raw);
    if (typeof jid !== "string" || !JID.tryParse(jid)) {
      return c.json({ error: 'Send {"jid": "user@host[/resource]"}' }, 400);
    }
    const text = typeof reason === "string" && reason
      ? reason
      : "Disconnected by the administrator";
    const kicked = ctx.c2s().reduce((sum, c2s) => sum + c2s.kick(jid, text), 0);
    ctx.log.notice(`http: admin kicked ${jid} (${kicked} stream(s))`);
    return c.json({ kicked });
  });
  app.post("/announce", async (c) => {
    const { body, host } = await jsonBody(c.req.raw);
    if (typeof body !== "string" || !body) {
      return c.json({ error: 'Send {"body": "…", "host": "example.org" (optional)}' }, 400);
    }
    let sent = 0;
    for (const session of sessionsOf(ctx)) {
      const domain = JID.parse(session.jid).domain;
      if (typeof host === "string" && host && host.toLowerCase() !== domain) continue;
      ctx.deliver(
        new Element("message", { from: domain, to: session.jid, type: "headline" }, [
          new Element("body", {}, [body]),
        ]),
      );
      sent++;
    }
    return c.json({ sent });
  });
  app.post("/reload", (c) => {
    const view = ctx.view();
    if (!view?.reload()) {
      return c.json({ error: "This server was not started from a config file" }, 501);
    }
    return c.json({ reloading: true }, 202);
  });
  return app;
}
