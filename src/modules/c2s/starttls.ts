/**
 * STARTTLS (RFC 6120 §5.4): `<proceed/>`, then the TLS handshake on the same connection, after
 * which the client opens a new stream; refused with `<failure/>` and a close where not offered.
 */
import type { Element } from "../../xml/element.ts";
import { NS_TLS } from "./features.ts";
import type { StreamControl } from "./stream.ts";

/** Handles an element of the TLS namespace; `offered` is false once TLS or SASL is done. */
export function startTls(
  stream: StreamControl,
  stanza: Element,
  offered: boolean,
): Promise<void> | void {
  if (stanza.local !== "starttls" || !offered) {
    // RFC 6120 §5.4.2.2: a failure ends the stream and the connection.
    stream.write(`<failure xmlns='${NS_TLS}'/>`);
    return stream.close();
  }
  stream.write(`<proceed xmlns='${NS_TLS}'/>`);
  // Nothing sent after <starttls/> may be read as the new stream (RFC 6120 §5.4.3.3).
  stream.conn.pause();
  stream.restart();
  return stream.conn.startTlsServer(stream.ctx.tls()).then(
    () => stream.conn.resume(),
    (error) => {
      stream.ctx.log.info(`c2s connection ${stream.id}: TLS handshake failed: ${error}`);
      stream.end();
    },
  );
}
