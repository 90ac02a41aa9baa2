/**
 * The shape of a server-side SASL mechanism (RFC 6120 §6, RFC 4422): a state machine fed the
 * client's messages, answering a challenge, success or failure with an RFC 6120 §6.5 condition.
 */
import type { Credentials } from "../../../accounts/credentials.ts";

export type SaslCondition =
  | "aborted"
  | "account-disabled"
  | "credentials-expired"
  | "encryption-required"
  | "incorrect-encoding"
  | "invalid-authzid"
  | "invalid-mechanism"
  | "malformed-request"
  | "mechanism-too-weak"
  | "not-authorized"
  | "temporary-auth-failure";

export type SaslStep =
  | { type: "challenge"; data: Uint8Array }
  | { type: "success"; username: string; data?: Uint8Array }
  | {
    type: "failure";
    condition: SaslCondition;
    text?: string;
    /** True when the failure must not count toward the stream's auth-attempts limit. */
    retryable?: boolean;
  };

export interface SaslContext {
  /** The credentials of a username (a localpart, already normalized), or undefined. */
  credentials(username: string): Promise<Credentials | undefined>;
  /** Normalizes a username to a localpart; undefined when it is not a valid one. */
  normalizeUsername(username: string): string | undefined;
  /** The bare JID an authzid must equal for `username` (we allow no proxy authorization). */
  jidOf(username: string): string;
  /** `tls-server-end-point` data of this TLS session, when channel binding is possible. */
  channelBinding: Uint8Array | undefined;
  /** Iterations used for the made-up challenge to an unknown user. */
  iterations: number;
  /**
   * What this stream's earlier SASL attempts showed, shared by its mechanisms: a client that
   * tried -PLUS with a channel binding type we lack (slixmpp binds to tls-unique) saw -PLUS, so
   * its later `y` flag is no downgrade (RFC 5802 §6) and must not be refused as one.
   */
  stream: { triedOtherBinding: boolean };
}

export interface SaslMechanism {
  step(message: Uint8Array): Promise<SaslStep>;
}

export function failure(condition: SaslCondition, text?: string): SaslStep {
  return { type: "failure", condition, text };
}
