/**
 * The SASL mechanisms c2s offers (RFC 6120 §6.3.3), strongest first: SCRAM-SHA-256(-PLUS),
 * SCRAM-SHA-1(-PLUS), and PLAIN where allowed.
 */
import type { SaslContext, SaslMechanism } from "./mechanism.ts";
import { PlainMechanism } from "./plain.ts";
import { ScramMechanism } from "./scram.ts";

export type { SaslCondition, SaslContext, SaslMechanism, SaslStep } from "./mechanism.ts";

export interface OfferOptions {
  /** Channel binding is possible (TLS with a certificate whose hash is known). */
  channelBinding: boolean;
  /** PLAIN may be offered on this stream. */
  plain: boolean;
}

/** The mechanism names to advertise, in order of preference. */
export function mechanismNames(options: OfferOptions): string[] {
  const names: string[] = [];
  if (options.channelBinding) names.push("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS");
  names.push("SCRAM-SHA-256", "SCRAM-SHA-1");
  if (options.plain) names.push("PLAIN");
  return names;
}

/** A new state machine for an offered mechanism name, or undefined. */
export function createMechanism(
  name: string,
  offered: readonly string[],
  context: SaslContext,
): SaslMechanism | undefined {
  if (!offered.includes(name)) return undefined;
  switch (name) {
    case "SCRAM-SHA-256-PLUS":
      return new ScramMechanism("SHA-256", true, context);
    case "SCRAM-SHA-1-PLUS":
      return new ScramMechanism("SHA-1", true, context);
    case "SCRAM-SHA-256":
      return new ScramMechanism("SHA-256", false, context);
    case "SCRAM-SHA-1":
      return new ScramMechanism("SHA-1", false, context);
    case "PLAIN":
      return new PlainMechanism(context);
    default:
      return undefined;
  }
}
