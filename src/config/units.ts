/**
 * Durations and sizes as the config file writes them (docs/architecture.md "The config file": `30s`, `5m`,
 * `1h`, `256KiB`, `10MiB`). Written here rather than taken from a package because the grammar is
 * a dozen lines and the error sentences must tell an operator exactly what to write instead.
 */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Binary units are powers of 1024, SI units powers of 1000 (IEC 80000-13). */
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const NUMBER = String.raw`\d+(?:\.\d+)?`;
const BARE_NUMBER = new RegExp(`^${NUMBER}$`);
/** One `<number><unit>` part; a duration may chain several (`1h30m`). */
const DURATION_PART = new RegExp(`(${NUMBER})\\s*([a-zA-Z]+)`, "y");
const SIZE = new RegExp(`^(${NUMBER})\\s*([a-zA-Z]+)$`);

/**
 * Milliseconds from `250ms`, `30s`, `5m`, `1h`, `2d`, or a chain such as `1h30m`. A bare number
 * is refused: `30` could mean seconds or milliseconds, and guessing wrong is a silent bug.
 */
export function parseDuration(text: string): number {
  const value = text.trim();
  if (value === "") {
    throw new Error("Duration is empty; write a number with a unit such as 30s, 5m or 1h");
  }
  if (value.startsWith("-")) {
    throw new Error(`Duration "${value}" is negative; write zero or more, such as 0s or 30s`);
  }
  if (BARE_NUMBER.test(value)) {
    throw new Error(
      `Duration "${value}" needs a unit; write ${value}ms, ${value}s, ${value}m, ${value}h ` +
        `or ${value}d`,
    );
  }
  let total = 0;
  let index = 0;
  while (index < value.length) {
    DURATION_PART.lastIndex = index;
    const match = DURATION_PART.exec(value);
    if (!match) {
      throw new Error(
        `Duration "${value}" is not a number with a unit; write it like 250ms, 30s, 5m, 1h or 2d`,
      );
    }
    const unit = match[2];
    const factor = DURATION_UNITS[unit];
    if (factor === undefined) {
      throw new Error(
        `Duration "${value}" has an unknown unit "${unit}"; use ms, s, m, h or d ` +
          `(such as 30s or 5m)`,
      );
    }
    total += Number(match[1]) * factor;
    index = DURATION_PART.lastIndex;
    while (value[index] === " ") index++;
  }
  return checkedInteger(total, "Duration", value);
}

/** Bytes from `512B`, `256KiB`, `10MiB`, `1GiB` (powers of 1024) or `1kB`, `1MB` (of 1000). */
export function parseSize(text: string): number {
  const value = text.trim();
  if (value === "") {
    throw new Error("Size is empty; write a number with a unit such as 512B, 256KiB or 10MiB");
  }
  if (value.startsWith("-")) {
    throw new Error(`Size "${value}" is negative; write zero or more, such as 0B or 64KiB`);
  }
  if (BARE_NUMBER.test(value)) {
    throw new Error(
      `Size "${value}" needs a unit; write ${value}B, ${value}KiB, ${value}MiB or ${value}GiB`,
    );
  }
  const match = SIZE.exec(value);
  if (!match) {
    throw new Error(
      `Size "${value}" is not a number with a unit; write it like 512B, 256KiB, 10MiB or 1GiB`,
    );
  }
  const factor = SIZE_UNITS[match[2].toLowerCase()];
  if (factor === undefined) {
    throw new Error(
      `Size "${value}" has an unknown unit "${match[2]}"; use B, KiB, MiB, GiB, TiB ` +
        `(powers of 1024) or kB, MB, GB, TB (powers of 1000)`,
    );
  }
  return checkedInteger(Number(match[1]) * factor, "Size", value);
}

function checkedInteger(amount: number, what: string, value: string): number {
  const rounded = Math.round(amount);
  if (!Number.isSafeInteger(rounded)) throw new Error(`${what} "${value}" is too large`);
  return rounded;
}
