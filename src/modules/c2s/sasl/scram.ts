/**
 * SASL SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) and their -PLUS variants with
 * `tls-server-end-point` channel binding (RFC 5929 §4), as a server-side state machine.
 */
import {
  constantTimeEqual,
  credentialFor,
  digest,
  hmac,
  type ScramCredential,
  type ScramHash,
  scramKeys,
  xor,
} from "../../../accounts/credentials.ts";
import { failure, type SaslContext, type SaslMechanism, type SaslStep } from "./mechanism.ts";

const CHANNEL_BINDING = "tls-server-end-point";

/** Decodes a saslname (RFC 5802 §5.1: `=2C` is `,`, `=3D` is `=`, other `=` are invalid). */
function saslName(text: string): string | undefined {
  if (/=(?!2C|3D)/.test(text)) return undefined;
  return text.replaceAll("=2C", ",").replaceAll("=3D", "=");
}

/** Splits `a=1,b=2` into attributes, keeping their order. */
function attributes(text: string): [string, string][] | undefined {
  const out: [string, string][] = [];
  for (const part of text.split(",")) {
    if (!/^[a-zA-Z]=/.test(part)) return undefined;
    out.push([part[0], part.slice(2)]);
  }
  return out;
}

export class ScramMechanism implements SaslMechanism {
  readonly #hash: ScramHash;
  readonly #plus: boolean;
  readonly #context: SaslContext;
  #state: "first" | "final" | "done" = "first";
  #gs2Header = "";
  #clientFirstBare = "";
  #serverFirst = "";
  #nonce = "";
  #username = "";
  #credential: ScramCredential | undefined;

  /** `plus`: the -PLUS variant; `plusOffered`: whether -PLUS was advertised (downgrade check). */
  constructor(hash: ScramHash, plus: boolean, context: SaslContext) {
    this.#hash = hash;
    this.#plus = plus;
    this.#context = context;
  }

  step(message: Uint8Array): Promise<SaslStep> {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(message);
    } catch {
      return Promise.resolve(failure("incorrect-encoding"));
    }
    if (this.#state === "first") return this.#first(text);
    if (this.#state === "final") return this.#final(text);
    return Promise.resolve(failure("malformed-request"));
  }

  async #first(text: string): Promise<SaslStep> {
    const match = /^(n|y|p=[a-zA-Z0-9.-]+),(a=[^,]*)?,(.*)$/s.exec(text);
    if (!match) return failure("malformed-request");
    const [, cbflag, authzidPart, bare] = match;
    if (this.#plus) {
      if (cbflag !== `p=${CHANNEL_BINDING}`) {
        this.#context.stream.triedOtherBinding = true;
        return {
          type: "failure",
          condition: "malformed-request",
          text: `The -PLUS mechanisms here bind to ${CHANNEL_BINDING}`,
          retryable: true,
        };
      }
      if (!this.#context.channelBinding) return failure("malformed-request");
    } else if (cbflag.startsWith("p=")) {
      return failure("malformed-request", "Channel binding needs the -PLUS mechanism");
    } else if (
      cbflag === "y" && this.#context.channelBinding && !this.#context.stream.triedOtherBinding
    ) {
      // The client could bind but thinks we cannot: someone stripped -PLUS (RFC 5802 §6).
      return failure("not-authorized", "Channel binding was offered");
    }
    const attrs = attributes(bare);
    if (!attrs || attrs[0]?.[0] !== "n" || attrs[1]?.[0] !== "r" || attrs[1][1] === "") {
      return failure("malformed-request");
    }
    if (attrs[0][1] === "" || attrs.some(([key]) => key === "m")) {
      return failure("malformed-request");
    }
    const decoded = saslName(attrs[0][1]);
    const username = decoded === undefined ? undefined : this.#context.normalizeUsername(decoded);
    if (username === undefined) return failure("not-authorized");
    if (authzidPart) {
      const authzid = saslName(authzidPart.slice(2));
      if (authzid !== this.#context.jidOf(username)) return failure("invalid-authzid");
    }
    this.#username = username;
    this.#gs2Header = `${cbflag},${authzidPart ?? ""},`;
    this.#clientFirstBare = bare;
    const credentials = await this.#context.credentials(username);
    this.#credential = credentials && credentialFor(credentials, this.#hash);
    // An unknown user gets a made-up salt, so the answer does not tell which users exist.
    const salt = this.#credential?.salt ?? crypto.getRandomValues(new Uint8Array(16));
    const iterations = this.#credential?.iterations ?? this.#context.iterations;
    const serverNonce = crypto.getRandomValues(new Uint8Array(18)).toBase64();
    this.#nonce = attrs[1][1] + serverNonce;
    this.#serverFirst = `r=${this.#nonce},s=${salt.toBase64()},i=${iterations}`;
    this.#state = "final";
    return { type: "challenge", data: new TextEncoder().encode(this.#serverFirst) };
  }

  async #final(text: string): Promise<SaslStep> {
    this.#state = "done";
    const attrs = attributes(text);
    const proofAt = text.lastIndexOf(",p=");
    if (!attrs || proofAt < 0 || attrs[0]?.[0] !== "c" || attrs[1]?.[0] !== "r") {
      return failure("malformed-request");
    }
    const proofText = attrs[attrs.length - 1];
    if (proofText[0] !== "p") return failure("malformed-request");
    const cbData = this.#plus ? this.#context.channelBinding! : new Uint8Array(0);
    const gs2 = new TextEncoder().encode(this.#gs2Header);
    const expectedC = new Uint8Array(gs2.length + cbData.length);
    expectedC.set(gs2);
    expectedC.set(cbData, gs2.length);
    let c: Uint8Array;
    let proof: Uint8Array;
    try {
      c = Uint8Array.fromBase64(attrs[0][1]);
      proof = Uint8Array.fromBase64(proofText[1]);
    } catch {
      return failure("incorrect-encoding");
    }
    if (!constantTimeEqual(c, expectedC)) {
      return failure("not-authorized", "Channel binding data does not match");
    }
    if (attrs[1][1] !== this.#nonce) return failure("not-authorized", "Nonce does not match");
    const credential = this.#credential;
    if (!credential) return failure("not-authorized");
    const withoutProof = text.slice(0, proofAt);
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const clientSignature = await hmac(this.#hash, credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length) return failure("not-authorized");
    const clientKey = xor(proof, clientSignature);
    if (!constantTimeEqual(await digest(this.#hash, clientKey), credential.storedKey)) {
      return failure("not-authorized");
    }
    const serverSignature = await hmac(this.#hash, credential.serverKey, authMessage);
    return {
      type: "success",
      username: this.#username,
      data: new TextEncoder().encode(`v=${serverSignature.toBase64()}`),
    };
  }
}

/** Test and client support: the client side of SCRAM, for driving the server in tests. */
export async function scramClientProof(
  hash: ScramHash,
  salted: Uint8Array,
  authMessage: string,
): Promise<{ proof: string; serverSignature: string }> {
  const { clientKey, storedKey, serverKey } = await scramKeys(hash, salted);
  const clientSignature = await hmac(hash, storedKey, authMessage);
  return {
    proof: xor(clientKey, clientSignature).toBase64(),
    serverSignature: (await hmac(hash, serverKey, authMessage)).toBase64(),
  };
}
