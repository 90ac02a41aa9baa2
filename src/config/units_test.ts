import assert from "node:assert/strict";
import { parseDuration, parseSize } from "./units.ts";

Deno.test("parseDuration() reads every unit into milliseconds", () => {
  const table: [string, number][] = [
    ["250ms", 250],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["2d", 172_800_000],
    ["0s", 0],
    ["1.5s", 1500],
    ["1h30m", 5_400_000],
    ["1h 30m", 5_400_000],
    [" 10 s ", 10_000],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration() refuses a bare number and tells to add a unit", () => {
  assert.throws(() => parseDuration("30"), {
    message: 'Duration "30" needs a unit; write 30ms, 30s, 30m, 30h or 30d',
  });
});

Deno.test("parseDuration() refuses malformed text with a sentence", () => {
  const table: [string, RegExp][] = [
    ["", /^Duration is empty/],
    ["5min", /unknown unit "min"; use ms, s, m, h or d/],
    ["-5s", /is negative/],
    ["soon", /is not a number with a unit/],
    ["5s!", /is not a number with a unit/],
    ["9999999999999999d", /is too large/],
  ];
  for (const [text, message] of table) assert.throws(() => parseDuration(text), { message }, text);
});

Deno.test("parseSize() reads binary and SI units into bytes", () => {
  const table: [string, number][] = [
    ["512B", 512],
    ["256KiB", 262_144],
    ["10MiB", 10_485_760],
    ["1GiB", 1_073_741_824],
    ["1TiB", 1024 ** 4],
    ["1kB", 1000],
    ["1MB", 1_000_000],
    ["1GB", 1_000_000_000],
    ["1.5KiB", 1536],
    ["64 KiB", 65_536],
    ["0B", 0],
  ];
  for (const [text, bytes] of table) assert.equal(parseSize(text), bytes, text);
});

Deno.test("parseSize() refuses a bare number and tells to add a unit", () => {
  assert.throws(() => parseSize("512"), {
    message: 'Size "512" needs a unit; write 512B, 512KiB, 512MiB or 512GiB',
  });
});

Deno.test("parseSize() refuses malformed text with a sentence", () => {
  const table: [string, RegExp][] = [
    ["", /^Size is empty/],
    ["10 megs", /unknown unit "megs"/],
    ["-1KiB", /is negative/],
    ["KiB", /is not a number with a unit/],
    ["99999999TiB", /is too large/],
  ];
  for (const [text, message] of table) assert.throws(() => parseSize(text), { message }, text);
});
