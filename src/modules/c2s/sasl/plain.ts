/** SASL PLAIN (RFC 4616) checked against stored SCRAM credentials, never a stored password. */
import { verifyPlain } from "../../../accounts/credentials.ts";
import { failure, type SaslContext, type SaslMechanism, type SaslStep } from "./mechanism.ts";

export class PlainMechanism implements SaslMechanism {
  readonly #context: SaslContext;

  constructor(context: SaslContext) {
    this.#context = context;
  }

  async step(message: Uint8Array): Promise<SaslStep> {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(message);
    } catch {
      return failure("incorrect-encoding");
    }
    const parts = text.split("\0");
    if (parts.length !== 3 || parts[1] === "") return failure("malformed-request");
    const [authzid, authcid, password] = parts;
    const username = this.#context.normalizeUsername(authcid);
    if (username === undefined) return failure("not-authorized");
    if (authzid !== "" && authzid !== this.#context.jidOf(username)) {
      return failure("invalid-authzid");
    }
    const credentials = await this.#context.credentials(username);
    if (!credentials || !(await verifyPlain(credentials, password))) {
      return failure("not-authorized");
    }
    return { type: "success", username };
  }
}
