/**
 * A progress bar for long commands (`jabberd import`): redrawn in place on a terminal
 * (`Importing [#####-----] 5000/10000 accounts`), silent otherwise so logs and pipes get only the
 * final summary.
 */

export interface ProgressOptions {
  /** Where the bar goes (standard error). */
  write(text: string): void;
  /** Only a terminal gets the bar. */
  terminal: boolean;
  /** "Importing" */
  label: string;
  /** "accounts" */
  unit: string;
  /** Milliseconds since some origin, to limit redraws. */
  now(): number;
  /** Bar width in characters (default 30). */
  width?: number;
}

export class ProgressBar {
  readonly #options: ProgressOptions;
  #total = 0;
  #done = 0;
  #drawnAt = -Infinity;
  #drawn = false;

  constructor(options: ProgressOptions) {
    this.#options = options;
  }

  /** The total grows as a file is read: the bar shows what is known so far. */
  setTotal(total: number): void {
    this.#total = total;
    this.#draw(false);
  }

  advance(count = 1): void {
    this.#done += count;
    this.#draw(false);
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (!this.#options.terminal) return;
    this.#draw(true);
    if (this.#drawn) this.#options.write("\n");
  }

  /** The bar's text for the current counts (without the carriage return). */
  line(): string {
    const width = this.#options.width ?? 30;
    const total = Math.max(this.#total, this.#done);
    const filled = total === 0 ? 0 : Math.round((this.#done / total) * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    return `${this.#options.label} [${bar}] ${this.#done}/${total} ${this.#options.unit}`;
  }

  #draw(force: boolean): void {
    if (!this.#options.terminal) return;
    const now = this.#options.now();
    // About ten redraws a second: enough to look alive, few enough not to slow the work.
    if (!force && now - this.#drawnAt < 100) return;
    this.#drawnAt = now;
    this.#drawn = true;
    this.#options.write(`\r${this.line()}\x1b[K`);
  }
}
