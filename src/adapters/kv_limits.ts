/**
 * Deno KV's limits with its error messages (docs/runtime-notes.md "Deno KV"), for the stores that
 * stand in for it (memory, PostgreSQL), so code that passes on them passes on Deno KV too.
 */
export const MAX_WRITE_KEY_BYTES = 2048;
export const MAX_READ_KEY_BYTES = 2049;
export const MAX_VALUE_BYTES = 65536;
export const MAX_MUTATIONS = 1000;
export const MAX_CHECKS = 100;
export const MAX_TOTAL_MUTATION_BYTES = 819200;
export const MAX_GET_MANY = 10;

/** `getMany` of at most ten keys. */
export function checkGetMany(count: number): void {
  if (count > MAX_GET_MANY) throw new TypeError(`Too many ranges (max ${MAX_GET_MANY})`);
}

/** An atomic's counts of mutations and checks. */
export function checkAtomic(mutations: number, checks: number): void {
  if (mutations > MAX_MUTATIONS) throw new TypeError(`Too many mutations (max ${MAX_MUTATIONS})`);
  if (checks > MAX_CHECKS) throw new TypeError(`Too many checks (max ${MAX_CHECKS})`);
}

/** One written key's encoded length. */
export function checkWriteKey(bytes: number): void {
  if (bytes > MAX_WRITE_KEY_BYTES) {
    throw new TypeError(`Key too large for write (max ${MAX_WRITE_KEY_BYTES} bytes)`);
  }
}

/** One read key's encoded length. */
export function checkReadKey(bytes: number): void {
  if (bytes > MAX_READ_KEY_BYTES) {
    throw new TypeError(`Key too large for read (max ${MAX_READ_KEY_BYTES} bytes)`);
  }
}

/** One value's serialized size. */
export function checkValue(bytes: number): void {
  if (bytes > MAX_VALUE_BYTES) {
    throw new TypeError(`Value too large (max ${MAX_VALUE_BYTES} bytes)`);
  }
}

/** An atomic's keys and values together. */
export function checkTotal(bytes: number): void {
  if (bytes > MAX_TOTAL_MUTATION_BYTES) {
    throw new TypeError(`Total mutation size too large (max ${MAX_TOTAL_MUTATION_BYTES} bytes)`);
  }
}
