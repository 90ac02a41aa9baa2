/**
 * Limits on what clients may cost (jabberd's "karma"): a token bucket over the bytes a
 * connection reads, a count of connections per address, and a sliding window for rare actions
 * such as in-band registration (XEP-0077 §9.3 asks servers to rate-limit it).
 */

/**
 * A token bucket: `rate` bytes per second on average, `burst` at once. Reading may overdraw it
 * (a chunk is already in memory); the caller then pauses the socket for `waitMs()`.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #at: number;

  constructor(rate: number, burst: number, now: number) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
    this.#at = now;
  }

  /** Takes `bytes`; returns true while the bucket is still not empty. */
  take(bytes: number, now: number): boolean {
    this.#refill(now);
    this.#tokens -= bytes;
    return this.#tokens > 0;
  }

  /** How long until the bucket holds tokens again (0 when it does). */
  waitMs(now: number): number {
    this.#refill(now);
    return this.#tokens > 0 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.rate);
  }
}

/** What the karma needs to know of the stream parser (`StreamParser` has both). */
export interface StanzaProgress {
  /** True while the input read so far ends inside a stanza or a tag. */
  readonly inStanza: boolean;
  /** Stream headers and stanzas finished so far: changes when the unfinished one ends. */
  readonly completed: number;
}

/**
 * jabberd's karma for one connection: a token bucket over the bytes read, and when reading
 * pauses. Not in the middle of the stanza that was unfinished when the bucket ran dry: a pause
 * there holds back the very bytes that prove it too large (a 2 MiB attribute behind a 16 KiB/s
 * rate met the 256 KiB stanza limit only 12 s later). The parser refuses a stanza past its limit
 * as soon as it reads that far, so going on costs at most one stanza's bytes, and the pause at
 * its end pays for them: the average rate stays `rate`. Only that one stanza: stanzas sent back
 * to back, every chunk ending inside the next one, still pause at the next boundary.
 */
export class Karma {
  readonly #bucket: TokenBucket;
  /** `completed` of the parser when the bucket ran dry; undefined while it holds tokens. */
  #dryAt: number | undefined;

  constructor(rate: number, burst: number, now: number) {
    this.#bucket = new TokenBucket(rate, burst, now);
  }

  /** Counts `bytes` just read and parsed; returns how long to pause reading, 0 to go on. */
  read(bytes: number, now: number, parser: StanzaProgress): number {
    if (this.#bucket.take(bytes, now)) {
      this.#dryAt = undefined;
      return 0;
    }
    this.#dryAt ??= parser.completed;
    if (parser.inStanza && parser.completed === this.#dryAt) return 0;
    this.#dryAt = undefined;
    return this.#bucket.waitMs(now);
  }
}

/** Open connections per remote address, refusing more than `max`. */
export class ConnectionCounter {
  readonly max: number;
  #counts = new Map<string, number>();

  constructor(max: number) {
    this.max = max;
  }

  /** Counts a new connection from `address`; false (and not counted) when over the limit. */
  acquire(address: string): boolean {
    const count = this.#counts.get(address) ?? 0;
    if (count >= this.max) return false;
    this.#counts.set(address, count + 1);
    return true;
  }

  release(address: string): void {
    const count = (this.#counts.get(address) ?? 0) - 1;
    if (count > 0) this.#counts.set(address, count);
    else this.#counts.delete(address);
  }

  count(address: string): number {
    return this.#counts.get(address) ?? 0;
  }
}

/** At most `limit` events per key within any `windowMs`. */
export class SlidingWindow {
  readonly limit: number;
  readonly windowMs: number;
  #events = new Map<string, number[]>();

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Records an event for `key` if allowed; false when the key used up its window. */
  tryRecord(key: string, now: number): boolean {
    const recent = (this.#events.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      this.#events.set(key, recent);
      return false;
    }
    recent.push(now);
    this.#events.set(key, recent);
    return true;
  }
}
