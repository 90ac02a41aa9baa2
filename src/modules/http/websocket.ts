/**
 * XMPP over WebSocket (RFC 7395) at `/xmpp-websocket`: the upgrade requires the `xmpp`
 * subprotocol and echoes it (§3.1), then c2s runs the stream with its element framing (§3.3);
 * with `see-other-uri` configured, every stream is sent elsewhere instead (§3.6.1).
 */
import type { HttpAdapter, HttpRequestInfo } from "../../adapters/types.ts";
import type { Logger } from "../../server/module_api.ts";
import { escapeAttr } from "../../xml/element.ts";
import type { C2sStreams } from "../../server/c2s_streams.ts";
import { MessageConnection } from "./message_connection.ts";

export const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";

export interface WebSocketEndpoint {
  http: HttpAdapter;
  /** The c2s that runs the streams; undefined when the server has none (503). */
  c2s(): C2sStreams | undefined;
  /** RFC 7395 §3.6.1: where to send every client instead. */
  seeOtherUri: string | undefined;
  /** Plain ws:// counts as encrypted (a proxy in front terminated TLS). */
  considerSecure: boolean;
  /** The address the http listener is bound to (the connection's `local`). */
  local: { hostname: string; port: number };
  log: Logger;
  /** Counts the WebSockets opened, for metrics. */
  opened(): void;
}

/** Answers one request to `/xmpp-websocket`. */
export function acceptWebSocket(
  endpoint: WebSocketEndpoint,
  request: Request,
  info: HttpRequestInfo,
): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return text(426, "This endpoint speaks XMPP over WebSocket (RFC 7395) only", {
      upgrade: "websocket",
    });
  }
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",")
    .map((protocol) => protocol.trim());
  if (!offered.includes("xmpp")) {
    // RFC 7395 §3.1: a client that does not offer "xmpp" does not speak XMPP over WebSocket.
    return text(400, "The WebSocket subprotocol xmpp is required (RFC 7395 §3.1)");
  }
  const c2s = endpoint.c2s();
  if (!c2s && endpoint.seeOtherUri === undefined) {
    return text(503, "No c2s section runs client streams on this server");
  }
  const { response, socket } = endpoint.http.upgradeWebSocket(request, { protocol: "xmpp" });
  endpoint.opened();
  if (endpoint.seeOtherUri !== undefined) {
    const uri = endpoint.seeOtherUri;
    socket.onMessage(() => {
      socket.send(`<close xmlns='${NS_FRAMING}' see-other-uri='${escapeAttr(uri)}'/>`);
      socket.close();
    });
    return response;
  }
  const conn = new MessageConnection(
    { send: (data) => socket.send(data), close: () => socket.close() },
    { remote: info.remote, local: endpoint.local, secure: info.secure || endpoint.considerSecure },
  );
  socket.onMessage((data) => conn.receive(data));
  socket.onClose(() => conn.gone());
  try {
    c2s!.accept(conn, "websocket");
  } catch (error) {
    endpoint.log.error(`http: could not start a WebSocket stream: ${error}`);
    socket.close(1011);
  }
  return response;
}

export function text(status: number, body: string, headers: Record<string, string> = {}) {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
