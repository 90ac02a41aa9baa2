/**
 * The `<http xmlns="jabberd:config:http">` component: a Hono app (app.ts) served through the
 * http adapter on each `<listen>` (TLS with c2s's certificates), with XMPP over WebSocket and
 * BOSH run by the c2s section that offers its streams (`C2S_STREAMS`), XEP-0156 discovery, the
 * admin API, Prometheus metrics and the status page.
 */
import type { HttpServer } from "../../adapters/types.ts";
import {
  type ModuleDefinition,
  SERVER_STOPPING,
  SERVER_VIEW,
  type ServerView,
} from "../../server/module_api.ts";
import { NAME, VERSION } from "../../version.ts";
import { inRanges, parseCidr } from "../../util/cidr.ts";
import { C2S_STREAMS, type C2sStreams } from "../../server/c2s_streams.ts";
import { adminRoutes } from "./admin.ts";
import { httpApp } from "./app.ts";
import { BoshSessions } from "./bosh.ts";
import { NS_HTTP_CONFIG, readHttpConfig, validateHttpConfig } from "./config.ts";
import { collectMetrics, type MetricsSources, metricsText } from "./metrics.ts";
import { History, SAMPLE_MS, statusPage } from "./status_page.ts";
import { acceptWebSocket } from "./websocket.ts";
import { UPLOAD_STORE, type UploadStore } from "../../server/upload_store.ts";
import { uploadRoutes } from "./upload.ts";
import { type Peer, S2S_PEERS } from "../../server/s2s_peers.ts";

const LOOPBACK = [parseCidr("127.0.0.0/8"), parseCidr("::1/128")];

export const httpModule: ModuleDefinition = {
  element: NS_HTTP_CONFIG,
  sections: ["service"],
  validate: validateHttpConfig,
  async register(api) {
    const config = readHttpConfig(api.config);
    const c2sAll = () => api.offered<C2sStreams>(C2S_STREAMS).map((offer) => offer.value);
    const c2s = () => c2sAll()[0];
    const view = () => api.offered<ServerView>(SERVER_VIEW)[0]?.value;
    const startedAt = api.timer.now();
    const requests: Record<string, number> = {};
    let websocketsOpened = 0;
    const servers: HttpServer[] = [];
    // The first listener's address stands for all as a connection's `local` (logs only).
    const local = { hostname: config.listen[0].ip, port: config.listen[0].port };
    const bosh = config.bosh.enabled
      ? new BoshSessions({
        c2s,
        timer: api.timer,
        log: api.log,
        local,
        considerSecure: config.bosh["consider-secure"],
        settings: {
          maxWait: config.bosh.wait,
          maxHold: config.bosh.hold,
          inactivity: config.bosh.inactivity,
          maxPause: config.bosh["max-pause"],
        },
      })
      : undefined;
    const allow = config.admin?.allow ?? LOOPBACK;
    // One source for `/metrics` and the admin API's JSON (metrics.ts).
    const metricsSources: MetricsSources = {
      view,
      c2s: c2sAll,
      requests,
      websocketsOpened: () => websocketsOpened,
      boshSessions: () => bosh?.size ?? 0,
      boshCreated: () => bosh?.created ?? 0,
      uptimeSeconds: () => Math.round((api.timer.now() - startedAt) / 1000),
      version: VERSION,
    };
    const history = new History();
    history.take(startedAt, c2sAll(), view());
    api.timer.setInterval(() => history.take(api.timer.now(), c2sAll(), view()), SAMPLE_MS);
    const app = httpApp({
      statusPage: (links) =>
        statusPage({
          name: NAME,
          version: VERSION,
          uptimeSeconds: Math.round((api.timer.now() - startedAt) / 1000),
          view: view(),
          c2s: c2sAll(),
          history: history.withNow(api.timer.now(), c2sAll(), view()),
          links,
        }),
      count: (endpoint) => void (requests[endpoint] = (requests[endpoint] ?? 0) + 1),
      websocket: config.websocket.enabled
        ? (request, info) =>
          acceptWebSocket(
            {
              http: api.adapters.http,
              c2s,
              seeOtherUri: config.websocket["see-other-uri"],
              considerSecure: config.websocket["consider-secure"],
              local,
              log: api.log,
              opened: () => void websocketsOpened++,
            },
            request,
            info,
          )
        : undefined,
      bosh,
      admin: config.admin
        ? adminRoutes({
          token: config.admin.token,
          allow,
          view,
          c2s: c2sAll,
          peers: () => api.offered<() => Peer[]>(S2S_PEERS).flatMap((offer) => offer.value()),
          xdb: api.xdb,
          log: api.log,
          deliver: (element) => api.deliver(element),
          metrics: () => collectMetrics(metricsSources),
          startedAt,
          now: () => api.timer.now(),
          version: VERSION,
        })
        : undefined,
      metrics: config.metrics.enabled ? () => metricsText(metricsSources) : undefined,
      upload: uploadRoutes(() =>
        api.offered<UploadStore>(UPLOAD_STORE).map((offer) => offer.value)
      ),
      metricsAllowed: (address) =>
        inRanges(address.startsWith("::ffff:") ? address.slice(7) : address, allow),
    });
    const closeAll = async () => {
      bosh?.closeAll();
      for (const server of servers.splice(0)) await server.close();
    };
    try {
      for (const listen of config.listen) {
        const tls = listen.tls ? c2s()?.tls() : undefined;
        if (listen.tls && !tls) {
          throw new Error(
            `<listen port="${listen.port}" tls="true"> needs a c2s section before the http one for its certificates`,
          );
        }
        const server = await api.adapters.http.serve(
          { hostname: listen.ip, port: listen.port, tls },
          (request, info) => app.fetch(request, { info }),
        );
        servers.push(server);
        if (server.servedBy) {
          // Under `deno serve` the runtime owns the socket: `address` is only what was asked.
          const paths = [
            config.websocket.enabled ? "WebSocket at /xmpp-websocket" : undefined,
            config.bosh.enabled ? "BOSH at /http-bind" : undefined,
          ].filter((path) => path !== undefined);
          api.log.notice(
            `http: served by ${server.servedBy} (${paths.join(", ") || "no XMPP endpoint"})`,
          );
          continue;
        }
        const { hostname, port } = server.address;
        api.log.notice(
          `http: listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
        );
        api.publishAddress({ name: listen.tls ? "https" : "http", hostname, port });
      }
    } catch (error) {
      await closeAll();
      throw error;
    }
    // Client streams end through c2s (system-shutdown); the listeners close after them.
    api.hook(SERVER_STOPPING, () => bosh?.closeAll());
    api.onUnload(closeAll);
  },
};
