/**
 * The settings of `<http xmlns="jabberd:config:http">`: listeners (plain, or TLS with c2s's
 * certificates), the WebSocket and BOSH endpoints, and the admin API's token and allowed
 * addresses; one schema validates and reads them (src/config/options.ts).
 */
import {
  boolean,
  duration,
  integer,
  list,
  options,
  port,
  string,
  value,
  type Values,
} from "../../config/options.ts";
import type { Element } from "../../xml/element.ts";
import { type Cidr, parseCidr } from "../../util/cidr.ts";

export const NS_HTTP_CONFIG = "jabberd:config:http";

/** Space-separated CIDR ranges. */
function parseCidrList(text: string): Cidr[] {
  return text.trim().split(/\s+/).map(parseCidr);
}

const LOOPBACK = "127.0.0.0/8 ::1/128";

const HTTP = options({
  listen: list(options({
    port: port(undefined, { listen: true }).required("a port attribute"),
    ip: string("::"),
    tls: boolean(false),
  })),
  // consider-secure: the requests come through a proxy that terminated TLS (Prosody's
  // consider_websocket_secure), so c2s may offer SASL where it requires encryption.
  websocket: options({
    enabled: boolean(true),
    "see-other-uri": string(),
    "consider-secure": boolean(false),
  }),
  bosh: options({
    enabled: boolean(true),
    "consider-secure": boolean(false),
    wait: duration(60_000, { positive: true }),
    hold: integer(1, { min: 1, max: 5 }),
    inactivity: duration(60_000, { positive: true }),
    "max-pause": duration(120_000, { positive: true }),
  }),
  admin: options({
    token: string().required('token="…" (for example token="${JABBERD_ADMIN_TOKEN}")'),
    allow: value(parseCidrList, parseCidrList(LOOPBACK)),
  }).optional(),
  metrics: options({ enabled: boolean(true) }),
});

export type HttpConfig = Values<typeof HTTP>;

export function validateHttpConfig(
  element: Element,
  context: { problem(at: Element, message: string): void; warning(at: Element, m: string): void },
): void {
  const config = HTTP.validate(element, context);
  const token = config.admin?.token;
  if (token !== undefined && token.length < 16) {
    context.problem(
      element.getChild("admin") ?? element,
      "The admin token must be at least 16 characters; make one with `openssl rand -hex 24`",
    );
  }
}

/** Reads a config `check` validated; without `<listen>`, 5280 on loopback. */
export function readHttpConfig(element: Element): HttpConfig {
  const config = HTTP.read(element);
  if (config.listen.length === 0) config.listen = [{ port: 5280, ip: "127.0.0.1", tls: false }];
  return config;
}
