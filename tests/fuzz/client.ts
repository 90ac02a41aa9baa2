/**
 * The fuzzer's raw XMPP client on a loopback socket (RFC 6120 §4 streams, §6 SASL, §7 bind):
 * it reads in the background, so a test sees every byte the server wrote and when it closed,
 * and it sends anything, well-formed or not, whole or a byte at a time.
 */
import { scramLogin } from "../../src/modules/c2s/_testing.ts";

export const DOMAIN = "localhost";
export const NS_STREAMS = "http://etherx.jabber.org/streams";
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
export const HEADER = `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' ` +
  `to='${DOMAIN}' version='1.0'>`;
/** A stanza every stream that is still served answers: a ping of the server (XEP-0199 §4.2). */
export const PROBE = `<iq type='get' id='probe' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`;
export const PROBE_ANSWER = /<iq[^>]*id='probe'[^>]*(\/>|>.*?<\/iq>)/s;

const encoder = new TextEncoder();

export class FuzzClient {
  readonly conn: Deno.TcpConn;
  /** Everything the server wrote, decoded leniently (the server may be what is broken). */
  text = "";
  /** Resolves when the server closed the connection (or it failed). */
  readonly closed: Promise<void>;
  #isClosed = false;
  #mark = 0;
  #waiters = new Set<() => void>();
  #writing: Promise<void> = Promise.resolve();

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.closed = this.#read();
  }

  static async connect(port: number): Promise<FuzzClient> {
    return new FuzzClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.text += decoder.decode(buf.subarray(0, n), { stream: true });
        this.#wake();
      }
    } catch {
      // reset by the server: closed all the same
    }
    this.#isClosed = true;
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /** Queues bytes to send; a server that closed makes later writes no-ops. */
  send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.#writing = this.#writing.then(async () => {
      let rest = bytes;
      try {
        while (rest.length > 0 && !this.#isClosed) {
          rest = rest.subarray(await this.conn.write(rest));
        }
      } catch {
        // the server closed first: what it wrote before is what the test checks
      }
    });
    return this.#writing;
  }

  /** Sends `data` in pieces of `size` bytes, `delayMs` apart (a slow sender). */
  async trickle(data: string, size: number, delayMs: number): Promise<void> {
    const bytes = encoder.encode(data);
    for (let k = 0; k < bytes.length && !this.#isClosed; k += size) {
      await this.send(bytes.subarray(k, k + size));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /**
   * Waits up to `ms` for `pattern` in what arrived since the last match (or for the close);
   * returns the text up to the match, or undefined.
   */
  async wait(pattern: RegExp, ms: number): Promise<string | undefined> {
    const end = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(this.text.slice(this.#mark));
      if (match) {
        const part = this.text.slice(this.#mark, this.#mark + match.index + match[0].length);
        this.#mark += match.index + match[0].length;
        return part;
      }
      const left = end - Date.now();
      if (left <= 0 || this.#isClosed) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /** As `wait`, but failing after 10 s: for the steps that set a stage up. */
  async next(pattern: RegExp): Promise<string> {
    const part = await this.wait(pattern, 10_000);
    if (part === undefined) {
      throw new Error(`No ${pattern} from the server; it wrote: ${this.text.slice(-400)}`);
    }
    return part;
  }

  /** Waits up to `ms` for the server to close the connection; true when it did. */
  async waitClosed(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
    const closed = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return closed;
  }

  /** Ends the sending side only (a half-closed socket). */
  async closeWrite(): Promise<void> {
    await this.#writing;
    try {
      await this.conn.closeWrite();
    } catch {
      // already closed
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** Sends the stream header and waits for the features. */
export async function openStream(client: FuzzClient): Promise<string> {
  await client.send(HEADER);
  return await client.next(/<\/stream:features>/);
}

/** Opens a stream and starts a SCRAM-SHA-256 exchange: the server's challenge is pending. */
export async function startSasl(client: FuzzClient, user: string): Promise<void> {
  await openStream(client);
  const first = encoder.encode(`n,,n=${user},r=fuzz${crypto.randomUUID()}`).toBase64();
  await client.send(`<auth xmlns='${NS_SASL}' mechanism='SCRAM-SHA-256'>${first}</auth>`);
  await client.next(/<\/challenge>/);
}

/** Logs in with SCRAM-SHA-256, restarts the stream and binds `resource`. */
export async function bindSession(
  client: FuzzClient,
  user: string,
  password: string,
  resource: string,
): Promise<void> {
  await openStream(client);
  const answer = await scramLogin(client, "SCRAM-SHA-256", user, password);
  if (!answer.includes("<success")) throw new Error(`Login failed: ${answer}`);
  await openStream(client);
  await client.send(
    `<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
      `<resource>${resource}</resource></bind></iq>`,
  );
  const bind = await client.next(/<\/iq>/);
  if (!bind.includes("<jid>")) throw new Error(`Bind failed: ${bind}`);
}
