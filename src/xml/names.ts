/** Character classes of XML 1.0 (Fifth Edition) §2.2 and §2.3, as fast code-unit checks for the tokenizer. */

/** Bit set in `ASCII_NAME` for a character that may start an NCName (letters and `_`). */
export const NAME_START = 1;
/** Bit set in `ASCII_NAME` for a character that may continue an NCName. */
export const NAME_CHAR = 2;

/**
 * Name classes of the ASCII range, indexed by char code. The colon is in neither class: the
 * tokenizer reads qualified names (Namespaces in XML §3) and treats it on its own.
 */
export const ASCII_NAME: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (let c = 0x41; c <= 0x5a; c++) table[c] = NAME_START | NAME_CHAR;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = NAME_START | NAME_CHAR;
  table[0x5f] = NAME_START | NAME_CHAR; // _
  for (let c = 0x30; c <= 0x39; c++) table[c] = NAME_CHAR;
  table[0x2d] = NAME_CHAR; // -
  table[0x2e] = NAME_CHAR; // .
  return table;
})();

/** NameStartChar (§2.3) for a code unit at or above 0x80, surrogates excluded. */
export function isNonAsciiNameStart(c: number): boolean {
  return (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xd7ff) || (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd);
}

/** NameChar (§2.3) for a code unit at or above 0x80, surrogates excluded. */
export function isNonAsciiNameChar(c: number): boolean {
  return isNonAsciiNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) ||
    c === 0x203f || c === 0x2040;
}

/** True for a high surrogate whose pair lies in U+10000–U+EFFFF, the astral NameStartChars. */
export function isNameHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdb7f;
}

/** True for a low (trailing) surrogate code unit. */
export function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Char (§2.2) for a whole code point, as a character reference may produce. */
export function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** S (§2.3): space, tab, line feed, carriage return. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}
