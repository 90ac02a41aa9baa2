/**
 * Hidden input on Deno's terminal: standard input in raw mode (no echo, no line editing by the
 * terminal), so a password typed for `jabberd user add` never appears on the screen. Handles
 * Enter, Backspace, Ctrl-U (erase the line), Ctrl-C and Ctrl-D (give up).
 */

const ENTER = new Set([10, 13]);
const CTRL_C = 3;
const CTRL_D = 4;
const CTRL_U = 21;
const BACKSPACE = new Set([8, 127]);

export class DenoTerminal {
  readonly #write: (text: string) => void;
  /** Bytes read after an Enter (typed ahead), kept for the next prompt. */
  #ahead: number[] = [];

  /** `write` shows the prompt (standard error). */
  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  async readHiddenLine(prompt: string): Promise<string | undefined> {
    this.#write(prompt);
    Deno.stdin.setRaw(true);
    try {
      let line: number[] = [];
      const buffer = new Uint8Array(256);
      for (;;) {
        while (this.#ahead.length > 0) {
          const byte = this.#ahead.shift()!;
          if (byte === CTRL_C || (byte === CTRL_D && line.length === 0)) return undefined;
          if (ENTER.has(byte)) {
            // A CR LF pair is one Enter.
            if (byte === 13 && this.#ahead[0] === 10) this.#ahead.shift();
            return new TextDecoder().decode(new Uint8Array(line));
          }
          if (byte === CTRL_U) line = [];
          else if (BACKSPACE.has(byte)) {
            // Remove one character: its UTF-8 continuation bytes (10xxxxxx) and its first byte.
            while (line.length > 0 && (line[line.length - 1] & 0xc0) === 0x80) line.pop();
            line.pop();
          } else if (byte >= 32 || byte === 9) line.push(byte);
        }
        const count = await Deno.stdin.read(buffer);
        if (count === null) {
          return line.length > 0 ? new TextDecoder().decode(new Uint8Array(line)) : undefined;
        }
        this.#ahead.push(...buffer.subarray(0, count));
      }
    } finally {
      Deno.stdin.setRaw(false);
      this.#write("\n");
    }
  }
}
