/**
 * Whether c2s must have certificates at start: for its own TCP listeners (STARTTLS, direct TLS),
 * for certificates the config names, and for an http `<listen tls="true">`, which serves HTTPS
 * with c2s's certificates (docs/architecture.md "Components: c2s and the session manager"). Without any of these, as
 * on Deno Deploy with `<tcp enabled="false"/>` and no http `<listen>`, WebSocket and BOSH get
 * their TLS from whatever serves HTTPS in front, and c2s makes no CA and no certificate.
 */
import { boolean, list, options } from "../../config/options.ts";
import type { Sink } from "../../config/option_kinds.ts";
import type { Element } from "../../xml/element.ts";
import type { C2sConfig } from "./config.ts";

/** The http component's element, read here for its listeners only (modules never import each other). */
const NS_HTTP_CONFIG = "jabberd:config:http";
const HTTP_LISTENS = options({ listen: list(options({ tls: boolean(false) }, { others: true })) }, {
  others: true,
});
/** The http validator already reported its own mistakes. */
const QUIET: Sink = { checkNames: false, problem() {}, warning() {} };

/** True when something in the config will ask c2s for its certificates. */
export function needsCertificates(config: C2sConfig, element: Element): boolean {
  if (config.listens.length > 0 || config.certificates.length > 0) return true;
  let root = element;
  while (root.parent) root = root.parent;
  for (const section of root.elements) {
    for (const http of section.getChildren("http", NS_HTTP_CONFIG)) {
      if (HTTP_LISTENS.validate(http, QUIET).listen.some((listen) => listen.tls)) return true;
    }
  }
  return false;
}
