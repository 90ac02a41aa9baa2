/**
 * XEP-0156 §3 discovery over HTTP: `/.well-known/host-meta` (XRD, RFC 6415) and
 * `/.well-known/host-meta.json` (JRD) name the WebSocket and BOSH endpoints, as URLs built from
 * the request's own origin so they hold behind whatever name the client used.
 */
import { escapeAttr } from "../../xml/element.ts";

const REL_WEBSOCKET = "urn:xmpp:alt-connections:websocket";
const REL_BOSH = "urn:xmpp:alt-connections:xbosh";

export interface Endpoints {
  websocket: boolean;
  bosh: boolean;
}

/** The links for a request to `url` (its scheme and host decide ws/wss and http/https). */
export function links(url: URL, endpoints: Endpoints): { rel: string; href: string }[] {
  const secure = url.protocol === "https:";
  const result: { rel: string; href: string }[] = [];
  if (endpoints.websocket) {
    result.push({
      rel: REL_WEBSOCKET,
      href: `${secure ? "wss" : "ws"}://${url.host}/xmpp-websocket`,
    });
  }
  if (endpoints.bosh) result.push({ rel: REL_BOSH, href: `${url.origin}/http-bind` });
  return result;
}

export function hostMetaXml(url: URL, endpoints: Endpoints): string {
  const items = links(url, endpoints)
    .map(({ rel, href }) => `  <Link rel="${rel}" href="${escapeAttr(href)}"/>\n`).join("");
  return `<?xml version='1.0' encoding='utf-8'?>\n` +
    `<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n${items}</XRD>\n`;
}

export function hostMetaJson(url: URL, endpoints: Endpoints): string {
  return JSON.stringify({ links: links(url, endpoints) }, null, 2) + "\n";
}
