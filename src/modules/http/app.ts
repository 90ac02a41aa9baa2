/**
 * The http component's Hono app: the status page at `/`, `/xmpp-websocket` (RFC 7395),
 * `/http-bind` (XEP-0206), `/.well-known/host-meta[.json]` (XEP-0156), `/admin/…` and
 * `/metrics`. Runtime-free: the
 * adapter's `serve` calls `app.fetch(request, { info })`, tests may call it directly.
 */
import type { HttpRequestInfo } from "../../adapters/types.ts";
import type { BoshSessions } from "./bosh.ts";
import { type Endpoints, hostMetaJson, hostMetaXml, links } from "./host_meta.ts";
import { Hono } from "./hono.ts";

/** What every handler gets besides the request: the connection it came on (`c.env.info`). */
export type HttpEnv = { Bindings: { info: HttpRequestInfo } };

export interface HttpAppParts {
  websocket?: (request: Request, info: HttpRequestInfo) => Response;
  bosh?: BoshSessions;
  admin?: Hono<HttpEnv>;
  metrics?: () => string;
  /** `/upload/…`: XEP-0363 files (upload.ts). */
  upload?: Hono<HttpEnv>;
  /** Whether an address may read `/metrics` (the admin API's ranges, loopback by default). */
  metricsAllowed(address: string): boolean;
  /** Counts a request to an endpoint, for metrics. */
  count(endpoint: string): void;
  /** The status page for a request to `url` (`/`), served to the `metricsAllowed` addresses. */
  statusPage(links: { rel: string; href: string }[]): string;
}

const CORS = { "access-control-allow-origin": "*" };

export function httpApp(parts: HttpAppParts): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const endpoints: Endpoints = { websocket: !!parts.websocket, bosh: !!parts.bosh };
  app.get("/", (c) => {
    parts.count("status");
    if (!parts.metricsAllowed(c.env.info.remote.hostname)) {
      return c.text("The status page is served to the addresses in <admin allow> only\n", 403);
    }
    return c.html(parts.statusPage(links(new URL(c.req.url), endpoints)));
  });
  app.get("/.well-known/host-meta", (c) => {
    parts.count("host-meta");
    return c.body(hostMetaXml(new URL(c.req.url), endpoints), 200, {
      ...CORS,
      "content-type": "application/xrd+xml; charset=utf-8",
    });
  });
  app.get("/.well-known/host-meta.json", (c) => {
    parts.count("host-meta");
    return c.body(hostMetaJson(new URL(c.req.url), endpoints), 200, {
      ...CORS,
      "content-type": "application/json",
    });
  });
  if (parts.websocket) {
    const websocket = parts.websocket;
    app.get("/xmpp-websocket", (c) => {
      parts.count("websocket");
      return websocket(c.req.raw, c.env.info);
    });
  }
  if (parts.bosh) {
    const bosh = parts.bosh;
    app.all("/http-bind", (c) => {
      parts.count("bosh");
      return bosh.handle(c.req.raw, c.env.info);
    });
  }
  if (parts.admin) {
    const admin = parts.admin;
    app.use("/admin/*", async (_c, next) => {
      parts.count("admin");
      await next();
    });
    app.route("/admin", admin);
  }
  if (parts.metrics) {
    const metrics = parts.metrics;
    app.get("/metrics", (c) => {
      parts.count("metrics");
      if (!parts.metricsAllowed(c.env.info.remote.hostname)) {
        return c.text("Metrics are served to the addresses in <admin allow> only\n", 403);
      }
      return c.body(metrics(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    });
  }
  if (parts.upload) app.route("/upload", parts.upload);
  return app;
}
