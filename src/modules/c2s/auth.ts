/**
 * The SASL exchange of one stream (RFC 6120 §6.4): `<auth/>`, challenges and responses,
 * `<abort/>`, success or failure, and closing the stream after too many failures (§6.4.5). The
 * mechanisms themselves live in `sasl/`.
 */
import { credentialsFromElement, NS_CREDENTIALS } from "../../accounts/credentials.ts";
import { JID } from "../../util/jid.ts";
import { type Element, escapeText } from "../../xml/element.ts";
import { NS_SASL } from "./features.ts";
import { createMechanism, mechanismNames, type SaslMechanism, type SaslStep } from "./sasl/mod.ts";
import type { StreamControl } from "./stream.ts";
import { serverEndPoint } from "../../tls/x509.ts";

type Failure = Extract<SaslStep, { type: "failure" }>;

export class SaslAuthentication {
  #offered: string[] = [];
  /** What earlier SASL attempts on this stream showed (see SaslContext.stream). */
  readonly #saslStream = { triedOtherBinding: false };
  #mechanism: SaslMechanism | undefined;
  #mechanismName = "";
  /** The account the running exchange is about, for the log, once the mechanism read it. */
  #attempted: string | undefined;
  #failures = 0;

  /** The mechanisms to advertise now; only those may be chosen (none: TLS comes first). */
  offer(options: { allowed: boolean; channelBinding: boolean; plain: boolean }): string[] {
    this.#offered = options.allowed ? mechanismNames(options) : [];
    return this.#offered;
  }

  /** Handles an element of the SASL namespace; returns the username once it succeeded. */
  async handle(stream: StreamControl, stanza: Element): Promise<string | undefined> {
    if (stanza.local === "auth") {
      if (this.#offered.length === 0) {
        const condition = stream.conn.secure ? "invalid-mechanism" : "encryption-required";
        return this.#fail(stream, { type: "failure", condition });
      }
      const name = stanza.attrs.mechanism ?? "";
      this.#attempted = undefined;
      this.#mechanism = createMechanism(name, this.#offered, {
        credentials: (username) => this.#credentials(stream, username),
        normalizeUsername: (username) => {
          try {
            const jid = new JID(username, stream.domain);
            this.#attempted = jid.toString();
            return jid.local;
          } catch {
            // What the client sent stays out of the log: it may be anything, a password too.
            this.#attempted = "an invalid username";
            return undefined;
          }
        },
        jidOf: (username) => `${username}@${stream.domain}`,
        channelBinding: await channelBinding(stream),
        stream: this.#saslStream,
        iterations: stream.ctx.config.iterations,
      });
      if (!this.#mechanism) {
        return this.#fail(stream, { type: "failure", condition: "invalid-mechanism" });
      }
      this.#mechanismName = name;
    } else if (stanza.local === "abort") {
      return this.#fail(stream, { type: "failure", condition: "aborted" });
    } else if (stanza.local !== "response" || !this.#mechanism) {
      return this.#fail(stream, { type: "failure", condition: "malformed-request" });
    }
    let data: Uint8Array;
    try {
      const text = stanza.text().trim();
      data = text === "=" ? new Uint8Array(0) : Uint8Array.fromBase64(text);
    } catch {
      return this.#fail(stream, { type: "failure", condition: "incorrect-encoding" });
    }
    let step: SaslStep;
    try {
      step = await this.#mechanism!.step(data);
    } catch (error) {
      // Storage could not answer (RFC 6120 §6.5.12): the client may try again; the stream stays.
      stream.ctx.log.warn(`c2s connection ${stream.id}: SASL failed on storage: ${error}`);
      step = { type: "failure", condition: "temporary-auth-failure" };
    }
    if (step.type === "challenge") {
      const payload = step.data.length > 0 ? step.data.toBase64() : "=";
      stream.write(`<challenge xmlns='${NS_SASL}'>${payload}</challenge>`);
      return undefined;
    }
    if (step.type === "failure") return this.#fail(stream, step);
    this.#mechanism = undefined;
    stream.restart(); // the client restarts the stream (RFC 6120 §6.4.6)
    const payload = step.data ? step.data.toBase64() : "";
    stream.write(`<success xmlns='${NS_SASL}'>${payload}</success>`);
    stream.ctx.log.info(`c2s connection ${stream.id}: ${step.username}@${stream.domain} logged in`);
    stream.ctx.counters.logins++;
    return step.username;
  }

  #fail(stream: StreamControl, step: Failure): undefined {
    this.#mechanism = undefined;
    const text = step.text ? `<text xml:lang='en'>${escapeText(step.text)}</text>` : "";
    stream.write(`<failure xmlns='${NS_SASL}'><${step.condition}/>${text}</failure>`);
    if (this.#attempted !== undefined && step.condition !== "aborted") {
      // Who tried which account from where, for the operator (never what was sent as proof).
      stream.ctx.counters.loginFailures++;
      stream.ctx.log.info(
        `c2s: failed login as ${this.#attempted} from ` +
          `${stream.conn.remote.hostname} with ${this.#mechanismName}: ${step.condition}`,
      );
    }
    this.#attempted = undefined;
    if (
      step.condition === "aborted" || step.condition === "temporary-auth-failure" || step.retryable
    ) return undefined;
    this.#failures++;
    if (this.#failures >= stream.ctx.config.limits.authAttempts) {
      // RFC 6120 §6.4.5: after a configurable number of retries, close the stream.
      stream.close();
    }
    return undefined;
  }

  async #credentials(stream: StreamControl, username: string) {
    const element = await stream.ctx.xdb.get(`${username}@${stream.domain}`, NS_CREDENTIALS);
    return element ? credentialsFromElement(element) : undefined;
  }
}

/** `tls-server-end-point` data (RFC 5929 §4) when the stream is encrypted with our certificate. */
async function channelBinding(stream: StreamControl): Promise<Uint8Array | undefined> {
  const der = stream.conn.secure ? stream.conn.tls?.localCertificate : undefined;
  return der ? await serverEndPoint(der) : undefined;
}
