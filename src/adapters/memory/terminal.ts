/** A pretend terminal for tests of password prompts: `readHiddenLine` answers lines a test queued. */

export class MemoryTerminal {
  /** What the person "types", one entry per prompt; undefined stands for Ctrl-C. */
  readonly lines: (string | undefined)[] = [];
  /** The prompts shown, in order. */
  readonly prompts: string[] = [];
  readonly #write: (text: string) => void;

  /** `write` receives the prompts and the line break after each answer (standard error). */
  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  readHiddenLine(prompt: string): Promise<string | undefined> {
    this.prompts.push(prompt);
    this.#write(prompt);
    if (this.lines.length === 0) {
      return Promise.reject(new Error(`Nothing was typed for the prompt "${prompt}"`));
    }
    const line = this.lines.shift();
    // A real terminal shows nothing of the answer, only the line break.
    this.#write("\n");
    return Promise.resolve(line);
  }
}
