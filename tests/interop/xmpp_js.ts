/**
 * A thin driver of the real `@xmpp/client` (xmpp.js 0.14) for the interop tests: connect over
 * STARTTLS trusting the test CA, register in-band before SASL (XEP-0077 §3.1), and wait for the
 * stanzas a test expects with a bounded wait that shows what did arrive when it fails.
 */
import tls from "node:tls";
import { client, xml } from "@xmpp/client";
import { CA_FILE, type InteropServer } from "./harness.ts";

/** An xmpp.js element (ltx): just what the tests read. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string | undefined>;
  children: (XmlElement | string)[];
  is(name: string, xmlns?: string): boolean;
  getChild(name: string, xmlns?: string): XmlElement | undefined;
  getChildren(name: string, xmlns?: string): XmlElement[];
  getChildText(name: string, xmlns?: string): string | null;
  getChildElements(): XmlElement[];
  text(): string;
  toString(): string;
}

export { xml };

/** How long a test waits for one expected stanza before failing. */
export const WAIT_MS = 10_000;

let trusted = false;

/**
 * Makes `node:tls` (which xmpp.js's STARTTLS upgrade uses through `tls.connect`, with no way to
 * pass a CA) trust the test CA besides the system roots, so certificates are really verified.
 */
export function trustTestCa(): void {
  if (trusted) return;
  const ca = Deno.readTextFileSync(CA_FILE);
  // Deno implements Node's tls.setDefaultCACertificates (Node 22.15+); its bundled typings lag.
  const setDefault = (tls as unknown as { setDefaultCACertificates(certs: string[]): void })
    .setDefaultCACertificates;
  setDefault([...tls.getCACertificates("default"), ca]);
  trusted = true;
}

export interface ConnectOptions {
  username: string;
  password: string;
  resource?: string;
  /** Register the account in-band on the encrypted stream before authenticating. */
  register?: boolean;
  /**
   * Fetch the roster once online, as IM clients do: only resources that asked for the roster
   * get roster pushes (RFC 6121 §2.1.6). Default true.
   */
  roster?: boolean;
  /** Send initial presence once online, after the roster (default true). */
  presence?: boolean | XmlElement;
}

export class JsClient {
  /** The xmpp.js client itself, for what this driver does not wrap. */
  // deno-lint-ignore no-explicit-any
  readonly xmpp: any;
  /** The SASL mechanism used to log in. */
  mechanism = "";
  /** The full JID the server bound. */
  jid = "";
  /** The answer to the in-band registration, when `register` was asked. */
  registration: XmlElement | undefined;
  readonly #unread: XmlElement[] = [];
  readonly #seen: XmlElement[] = [];
  #wake: (() => void) | undefined;

  // deno-lint-ignore no-explicit-any
  constructor(xmpp: any) {
    this.xmpp = xmpp;
    xmpp.on("stanza", (stanza: XmlElement) => {
      this.#unread.push(stanza);
      this.#seen.push(stanza);
      this.#wake?.();
    });
    // Roster pushes (RFC 6121 §2.1.6) must be acknowledged, and are also kept for waitFor().
    xmpp.iqCallee.set("jabber:iq:roster", "query", () => true);
  }

  /** The bare JID. */
  get bare(): string {
    return this.jid.split("/")[0];
  }

  send(stanza: XmlElement): Promise<void> {
    return this.xmpp.send(stanza);
  }

  /** Sends an iq and returns the result (an error reply rejects with the StanzaError). */
  request(iq: XmlElement): Promise<XmlElement> {
    return this.xmpp.iqCaller.request(iq, WAIT_MS);
  }

  /** Sends an iq and returns the reply whatever its type. */
  async exchange(iq: XmlElement): Promise<XmlElement> {
    try {
      return await this.request(iq);
    } catch (error) {
      const element = (error as { element?: XmlElement }).element;
      if (element) return element;
      throw error;
    }
  }

  /**
   * The first stanza not yet taken that matches, waiting up to `ms` for it; it is taken, so a
   * second call finds the next one.
   */
  async waitFor(
    what: string,
    match: (stanza: XmlElement) => boolean,
    ms = WAIT_MS,
  ): Promise<XmlElement> {
    const deadline = Date.now() + ms;
    for (;;) {
      const index = this.#unread.findIndex(match);
      if (index >= 0) return this.#unread.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) {
        const recent = this.#seen.slice(-8).map((s) => s.toString()).join("\n  ");
        throw new Error(`${this.jid || "client"} did not receive ${what}; it got:\n  ${recent}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Forgets the stanzas received so far (before a step that expects new ones). */
  clear(): void {
    this.#unread.length = 0;
  }

  async stop(): Promise<void> {
    this.xmpp.reconnect.stop();
    if (this.xmpp.status === "offline") return;
    await this.xmpp.stop().catch(() => {});
  }
}

/** Logs in (registering first if asked) and returns the online client. */
export async function connect(server: InteropServer, options: ConnectOptions): Promise<JsClient> {
  trustTestCa();
  const xmpp = client({
    service: `xmpp://${server.hostname}:${server.port}`,
    domain: server.domain,
    resource: options.resource,
    credentials: async (
      authenticate: (credentials: unknown, mechanism: string) => Promise<void>,
      mechanisms: string[],
    ) => {
      if (options.register) {
        holder.registration = await xmpp.iqCaller.request(
          xml(
            "iq",
            { type: "set" },
            xml(
              "query",
              { xmlns: "jabber:iq:register" },
              xml("username", {}, options.username),
              xml("password", {}, options.password),
            ),
          ),
          WAIT_MS,
        );
      }
      holder.mechanism = mechanisms[0];
      await authenticate(
        { username: options.username, password: options.password },
        mechanisms[0],
      );
    },
  });
  xmpp.reconnect.stop();
  // Errors also reject start(); the listener keeps EventEmitter from throwing them.
  xmpp.on("error", () => {});
  // The credentials callback runs only after start(), once `holder` exists.
  const holder = new JsClient(xmpp);
  try {
    const address = await xmpp.start();
    holder.jid = address.toString();
  } catch (error) {
    await holder.stop();
    throw error;
  }
  if (options.roster !== false) {
    await holder.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  }
  if (options.presence !== false) {
    await holder.send(
      options.presence === undefined || options.presence === true
        ? xml("presence")
        : options.presence,
    );
  }
  return holder;
}

/** Registers an account in-band and logs out. */
export async function register(
  server: InteropServer,
  username: string,
  password: string,
): Promise<XmlElement> {
  const c = await connect(server, {
    username,
    password,
    register: true,
    roster: false,
    presence: false,
  });
  await c.stop();
  return c.registration!;
}
