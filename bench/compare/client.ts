/**
 * One raw XMPP client connection of the load generator (RFC 6120 §4 streams, §6 SASL PLAIN and
 * RFC 5802 SCRAM-SHA-1, §7 resource binding): a `Deno.connect` socket with one read buffer,
 * writes queued and coalesced while one is in flight, and text matching instead of XML parsing,
 * so that thousands fit in one process and the generator stays far from being the bottleneck.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import type { Account } from "./accounts.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type Mechanism = "PLAIN" | "SCRAM-SHA-1";

export class Client {
  readonly conn: Deno.TcpConn;
  /** Received text not consumed yet. */
  text = "";
  closed = false;
  /** Called after each read when set (the routing phases); otherwise waiters are checked. */
  onData: ((client: Client) => void) | undefined;
  #buffer = new Uint8Array(8192);
  #writing = false;
  #pending: Uint8Array[] = [];
  #waiter: (() => void) | undefined;
  /** True once the socket was closed by us (`closed` also turns true when the peer ends). */
  #released = false;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    conn.setNoDelay(true);
    this.#readLoop();
  }

  static async connect(port: number): Promise<Client> {
    return new Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #readLoop() {
    try {
      while (true) {
        const n = await this.conn.read(this.#buffer);
        if (n === null) break;
        this.text += decoder.decode(this.#buffer.subarray(0, n));
        if (this.onData) this.onData(this);
        else this.#waiter?.();
      }
    } catch {
      // Reset or closed by us.
    }
    // The peer ended the stream: release the socket too, or every such client keeps its file
    // descriptor (10k sessions a server ran a later server's memory phase out of them).
    this.close();
    this.#waiter?.();
  }

  send(data: Uint8Array | string): void {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#writing) {
      this.#pending.push(bytes);
      return;
    }
    this.#writing = true;
    this.#flush(bytes);
  }

  async #flush(first: Uint8Array) {
    let current = first;
    try {
      while (true) {
        let offset = 0;
        while (offset < current.length) offset += await this.conn.write(current.subarray(offset));
        if (this.#pending.length === 0) break;
        if (this.#pending.length === 1) current = this.#pending[0];
        else {
          let length = 0;
          for (const p of this.#pending) length += p.length;
          current = new Uint8Array(length);
          length = 0;
          for (const p of this.#pending) {
            current.set(p, length);
            length += p.length;
          }
        }
        this.#pending = [];
      }
    } catch {
      this.closed = true;
    }
    this.#writing = false;
  }

  /**
   * Waits until `marker` arrives and returns the text up to its end (consumed); throws when one
   * of `bad` comes first or the stream closes.
   */
  expect(marker: string, ...bad: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const at = this.text.indexOf(marker);
        for (const b of bad) {
          const where = this.text.indexOf(b);
          if (where >= 0 && (at < 0 || where < at)) {
            this.#waiter = undefined;
            reject(new Error(`got ${b} while waiting for ${marker}: ${this.text.slice(0, 300)}`));
            return;
          }
        }
        if (at >= 0) {
          this.#waiter = undefined;
          const end = at + marker.length;
          const consumed = this.text.slice(0, end);
          this.text = this.text.slice(end);
          resolve(consumed);
        } else if (this.closed) {
          this.#waiter = undefined;
          reject(
            new Error(`stream closed while waiting for ${marker}: ${this.text.slice(0, 300)}`),
          );
        }
      };
      this.#waiter = check;
      check();
    });
  }

  close(): void {
    if (this.#released) return;
    this.#released = true;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

const BAD = ["<failure", "stream:error", "</stream:stream>"];

function header(domain: string) {
  return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
    `xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
}

const hmac = (key: Uint8Array, text: string) =>
  new Uint8Array(createHmac("sha1", key).update(text).digest());

/** Counts of SCRAM logins where the server's salt/iterations differed from the cached ones. */
export const scramStats = { cacheMisses: 0 };

/**
 * Connect, SASL, bind, (with `roster`, the roster get every client sends, RFC 6121 §2.2, until
 * its result,) initial presence, until the server sends a presence back (its echo of the initial
 * presence to the session itself, RFC 6121 §4.2.2, or a contact's presence).
 */
export async function login(
  port: number,
  domain: string,
  account: Account,
  mechanism: Mechanism,
  roster = false,
): Promise<Client> {
  const client = await Client.connect(port);
  try {
    client.send(header(domain));
    await client.expect("features>", ...BAD);
    if (mechanism === "PLAIN") {
      const token = btoa(`\0${account.user}\0${account.password}`);
      client.send(
        `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${token}</auth>`,
      );
      await client.expect("<success", ...BAD);
    } else {
      await scram(client, account);
    }
    client.send(header(domain));
    await client.expect("features>", ...BAD);
    client.send(
      `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
        `<resource>bench</resource></bind></iq>`,
    );
    await client.expect("</jid>", ...BAD);
    if (roster) {
      client.send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>");
      // The accounts with rosters have contacts, so the result is never an empty <query/>.
      await client.expect("</query>", ...BAD);
    }
    client.send("<presence/>");
    await client.expect("<presence", ...BAD);
    client.text = "";
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

async function scram(client: Client, account: Account) {
  const nonce = randomBytes(12).toString("base64");
  const first = `n=${account.user},r=${nonce}`;
  client.send(
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${
      btoa(`n,,${first}`)
    }</auth>`,
  );
  const consumed = await client.expect("</challenge>", ...BAD);
  const open = consumed.lastIndexOf("<challenge");
  const content = consumed.slice(consumed.indexOf(">", open) + 1, -"</challenge>".length);
  const serverFirst = atob(content);
  const fields = new Map(serverFirst.split(",").map((f) => [f[0], f.slice(2)]));
  const r = fields.get("r")!, s = fields.get("s")!, i = Number(fields.get("i"));
  if (!r.startsWith(nonce)) throw new Error(`SCRAM: the server nonce does not extend ours`);
  let salted = account.salted;
  if (atob(s) !== account.salt || i !== 4096) {
    // A real client derives again when the salt or count changed; count it as a miss.
    scramStats.cacheMisses++;
    const { pbkdf2Sync } = await import("node:crypto");
    salted = new Uint8Array(pbkdf2Sync(account.password, Uint8Array.fromBase64(s), i, 20, "sha1"));
  }
  const clientKey = hmac(salted, "Client Key");
  const storedKey = new Uint8Array(createHash("sha1").update(clientKey).digest());
  const finalBare = `c=biws,r=${r}`;
  const signature = hmac(storedKey, `${first},${serverFirst},${finalBare}`);
  const proof = clientKey.map((b, k) => b ^ signature[k]);
  client.send(
    `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${
      btoa(`${finalBare},p=${proof.toBase64()}`)
    }</response>`,
  );
  await client.expect("<success", ...BAD);
}
