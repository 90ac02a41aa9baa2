/**
 * Archive ids (XEP-0313 §4.1.2 "UID", XEP-0359 §3 stanza-id): ULID-like strings whose order is
 * the order of archiving, so that a time range or "after this id" is one range of KV keys. Ten
 * Crockford base-32 characters of milliseconds, then eight of a random start counted upwards
 * within one millisecond (and across a clock that went backwards), so ids of one process never
 * repeat and stay sorted.
 */

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
const TAIL_CHARS = 8;
/** 2^40: eight base-32 characters. */
const TAIL_SPAN = 2 ** 40;

function encode(value: number, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) {
    text = ALPHABET[value % 32] + text;
    value = Math.floor(value / 32);
  }
  return text;
}

/** The smallest id of millisecond `ms`: a range bound (`start` inclusive, `end` exclusive). */
export function idAt(ms: number): string {
  return encode(Math.max(0, Math.floor(ms)), TIME_CHARS);
}

/** The millisecond an id was made in, or undefined when it is not one of ours. */
export function timeOf(id: string): number | undefined {
  if (id.length !== TIME_CHARS + TAIL_CHARS) return undefined;
  let ms = 0;
  for (const char of id.slice(0, TIME_CHARS)) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return undefined;
    ms = ms * 32 + digit;
  }
  return ms;
}

/** The first key after `id` (an exclusive lower bound made inclusive). */
export function after(id: string): string {
  return id + "\u0000";
}

/** Makes ids in increasing order. */
export class IdMaker {
  #lastMs = -1;
  #tail = 0;
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** A new id for time `ms`; never smaller than the previous one. */
  next(ms: number): string {
    if (ms > this.#lastMs) {
      this.#lastMs = ms;
      // Half the span: room to count upwards within the millisecond.
      this.#tail = Math.floor(this.#random() * (TAIL_SPAN / 2));
    } else if (++this.#tail >= TAIL_SPAN) {
      this.#lastMs++;
      this.#tail = 0;
    }
    return idAt(this.#lastMs) + encode(this.#tail, TAIL_CHARS);
  }
}
