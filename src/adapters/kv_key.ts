/**
 * Encodes KV keys exactly as Deno KV does (the FoundationDB tuple layer), so the in-memory store
 * orders keys like Deno KV: Uint8Array < string < bigint < number < boolean per part, strings by
 * UTF-8 bytes, and a key before every longer key it prefixes. The PostgreSQL store
 * (`src/adapters/postgres/`) keeps these bytes as its primary key and decodes them back.
 */

import type { KvKey } from "./types.ts";

const BYTES = 0x01;
const STRING = 0x02;
const INT_ZERO = 0x14;
const NEG_INT_START = 0x0b;
const POS_INT_END = 0x1d;
const DOUBLE = 0x21;
const FALSE = 0x26;
const TRUE = 0x27;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a key to its tuple-layer bytes; comparing the bytes compares the keys. */
export function encodeKey(key: KvKey): Uint8Array {
  const out: number[] = [];
  for (const part of key) {
    if (part instanceof Uint8Array) {
      out.push(BYTES);
      pushEscaped(out, part);
    } else if (typeof part === "string") {
      out.push(STRING);
      pushEscaped(out, encoder.encode(part));
    } else if (typeof part === "bigint") {
      pushBigint(out, part);
    } else if (typeof part === "number") {
      pushDouble(out, part);
    } else if (typeof part === "boolean") {
      out.push(part ? TRUE : FALSE);
    } else {
      throw new TypeError(`Invalid key part: ${String(part)}`);
    }
  }
  return Uint8Array.from(out);
}

/** The bytes as a string of code units 0–255: such strings compare with `<` like the bytes. */
export function bytesToBinaryString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** A deep copy of a key, so callers cannot change a stored key through a shared Uint8Array. */
export function copyKey(key: KvKey): KvKey {
  return key.map((part) => part instanceof Uint8Array ? part.slice() : part);
}

function pushEscaped(out: number[], bytes: Uint8Array): void {
  for (const byte of bytes) {
    out.push(byte);
    if (byte === 0) out.push(0xff);
  }
  out.push(0);
}

function bigintBytes(value: bigint): number[] {
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  return bytes;
}

function pushBigint(out: number[], value: bigint): void {
  if (value === 0n) {
    out.push(INT_ZERO);
    return;
  }
  const magnitude = bigintBytes(value < 0n ? -value : value);
  const n = magnitude.length;
  if (value > 0n) {
    if (n <= 8) out.push(INT_ZERO + n);
    else out.push(POS_INT_END, n);
    out.push(...magnitude);
  } else {
    // Negative integers are stored as the ones' complement of their magnitude.
    if (n <= 8) out.push(INT_ZERO - n);
    else out.push(NEG_INT_START, n ^ 0xff);
    out.push(...magnitude.map((byte) => byte ^ 0xff));
  }
}

function pushDouble(out: number[], value: number): void {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value);
  // Negative numbers flip every bit, others only the sign bit, so byte order is numeric order.
  if (bytes[0] & 0x80) {
    for (let i = 0; i < 8; i++) bytes[i] ^= 0xff;
  } else {
    bytes[0] ^= 0x80;
  }
  out.push(DOUBLE, ...bytes);
}

/** Decodes tuple-layer bytes made by `encodeKey` back into the key. */
export function decodeKey(bytes: Uint8Array): KvKey {
  const key: (string | number | bigint | boolean | Uint8Array)[] = [];
  let at = 0;
  const escaped = (): Uint8Array => {
    const out: number[] = [];
    while (bytes[at] !== 0 || bytes[at + 1] === 0xff) {
      if (at >= bytes.length) throw new TypeError("Invalid key: unterminated part");
      out.push(bytes[at]);
      at += bytes[at] === 0 ? 2 : 1;
    }
    at++;
    return Uint8Array.from(out);
  };
  const magnitude = (n: number, negative: boolean): bigint => {
    let value = 0n;
    for (let i = 0; i < n; i++) {
      value = (value << 8n) | BigInt(negative ? bytes[at + i] ^ 0xff : bytes[at + i]);
    }
    at += n;
    return negative ? -value : value;
  };
  while (at < bytes.length) {
    const tag = bytes[at++];
    if (tag === BYTES) key.push(escaped());
    else if (tag === STRING) key.push(decoder.decode(escaped()));
    else if (tag === FALSE) key.push(false);
    else if (tag === TRUE) key.push(true);
    else if (tag === DOUBLE) {
      const double = Uint8Array.from(bytes.subarray(at, at + 8));
      at += 8;
      if (double[0] & 0x80) double[0] ^= 0x80;
      else for (let i = 0; i < 8; i++) double[i] ^= 0xff;
      key.push(new DataView(double.buffer).getFloat64(0));
    } else if (tag === POS_INT_END) key.push(magnitude(bytes[at++], false));
    else if (tag === NEG_INT_START) key.push(magnitude(bytes[at++] ^ 0xff, true));
    else if (tag > NEG_INT_START && tag < POS_INT_END) {
      key.push(magnitude(Math.abs(tag - INT_ZERO), tag < INT_ZERO));
    } else throw new TypeError(`Invalid key: unknown type code ${tag}`);
  }
  return key;
}
