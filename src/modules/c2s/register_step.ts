/**
 * The registration step of a stream before login (XEP-0077 §3.1): checks the stream may register,
 * lets `Registration` create the account, and writes its answer.
 */
import { describe, StanzaError, StreamError } from "../../util/errors.ts";
import type { Element } from "../../xml/element.ts";
import type { Registration } from "./register.ts";
import type { StreamControl } from "./stream.ts";

/** The pre-login registration step: a `jabber:iq:register` iq on an unauthenticated stream. */
export async function registerBeforeLogin(
  stream: StreamControl,
  registration: Registration,
  iq: Element,
): Promise<void> {
  if (!stream.conn.secure && stream.ctx.config.requireEncryption) {
    throw new StreamError("not-authorized", "Start TLS before registering");
  }
  let reply: Element;
  try {
    reply = await registration.handle(
      iq,
      stream.conn.remote.hostname,
      stream.domain,
      stream.ctx.timer.now(),
    );
  } catch (error) {
    if (error instanceof StanzaError) throw error;
    // Storage did not answer: the client may try again later.
    stream.ctx.log.error(`c2s registration: ${describe(error)}`);
    throw new StanzaError("internal-server-error");
  }
  stream.write(reply.toString());
}
