/** Streaming strict UTF-8 decoding for XML streams (RFC 6120 §11.6: UTF-8 only, faults are errors). */

/**
 * Decodes chunks that may split a character, refusing invalid UTF-8. Unlike a `TextDecoder`
 * with `fatal: true` alone, a fault still yields the text before it, so a stream that breaks
 * mid-chunk reports the same stanzas whichever way it was split.
 */
export class Utf8Decoder {
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  #carry: Uint8Array | undefined;
  /** Set once invalid UTF-8 was seen; `decode()` then returned only the text before it. */
  failed = false;

  /** The text of `chunk` up to its last complete character (the rest is kept for the next). */
  decode(chunk: Uint8Array): string {
    let data = chunk;
    if (this.#carry) {
      data = new Uint8Array(this.#carry.length + chunk.length);
      data.set(this.#carry);
      data.set(chunk, this.#carry.length);
      this.#carry = undefined;
    }
    const cut = completeLength(data);
    if (cut < data.length) this.#carry = data.slice(cut);
    try {
      return this.#decoder.decode(data.subarray(0, cut));
    } catch {
      this.failed = true;
      this.#carry = undefined;
      return this.#decoder.decode(data.subarray(0, validPrefixLength(data)));
    }
  }

  /** True when the input so far ends inside a character. */
  get pending(): boolean {
    return this.#carry !== undefined;
  }
}

/** Length of `data` without a trailing sequence that the next chunk may still complete. */
function completeLength(data: Uint8Array): number {
  const n = data.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = data[n - k];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? n - k : n;
  }
  return n;
}

/** Length of the longest valid UTF-8 prefix (RFC 3629 §4: no overlongs, surrogates, > U+10FFFF). */
export function validPrefixLength(data: Uint8Array): number {
  let k = 0;
  while (k < data.length) {
    const b = data[k];
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b < 0x80) {
      k++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return k;
    if (k + need >= data.length) return k;
    const second = data[k + 1];
    if (second < low || second > high) return k;
    for (let m = 2; m <= need; m++) if ((data[k + m] & 0xc0) !== 0x80) return k;
    k += need + 1;
  }
  return k;
}
