/**
 * The classes of hostile input the stream fuzzer sends, each at one stage of a c2s stream
 * (RFC 6120 §4 streams, §5 STARTTLS, §6 SASL, §7 bind, §8 stanzas, §11 XML restrictions), with
 * the answer the server owes it: a stream error (§4.9.3), a stanza error (§8.3.3), a SASL
 * failure (§6.5), or going on serving the stream.
 */
import { StreamParser } from "../../src/xml/stream_parser.ts";
import { DOMAIN, FuzzClient, HEADER, NS_SASL, NS_STREAMS, PROBE } from "./client.ts";

/** Where in the stream the hostile input comes. */
export type Stage =
  | "before the header"
  | "in the header"
  | "before auth"
  | "during SASL"
  | "before bind"
  | "after bind";

/** What the server must answer, at most 1 s after the input was sent (`afterMs` more for timeouts). */
export type Expect =
  | { stream: string; afterMs?: number }
  | { stanza: string }
  | { sasl: string }
  /** No error, and a ping sent after the input is answered. */
  | { served: true }
  /** The stream features arrive (for a header sent slowly). */
  | { features: true }
  /** The server closes the connection, with no stream error. */
  | { closed: true }
  /** Reading is throttled: at most `maxAnswers` pings answered within 1 s, no error. */
  | { throttled: { maxAnswers: number } }
  /** No error, and the connection still open after 1 s. */
  | { open: true }
  /**
   * Never `internal-server-error`, and what our own parser predicts (`predict`): for a `fault`
   * a stream error, for `complete` input a stream error or the ping answered, for input that
   * leaves an element `open` anything but a close without a stream error.
   */
  | { survives: Prediction };

export type Prediction = "fault" | "complete" | "open";

export interface FuzzClass {
  name: string;
  stage: Stage;
  expect: Expect;
  /**
   * Sends the hostile input; `resource` is the session's own resource after bind. Returns
   * another client when that one holds the answer to check (it is closed after the check).
   */
  attack(client: FuzzClient, context: AttackContext): Promise<FuzzClient | void>;
  /** Runs with no other class at the same time (it counts connections). */
  alone?: boolean;
}

export interface AttackContext {
  resource: string;
  port: number;
}

const encoder = new TextEncoder();

/** Concatenates text (as UTF-8) and raw bytes. */
export function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const arrays = parts.map((part) =>
    typeof part === "string" ? encoder.encode(part) : Uint8Array.from(part)
  );
  const out = new Uint8Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let k = 0; k < text.length; k++) {
    out[2 * k] = text.charCodeAt(k) & 0xff;
    out[2 * k + 1] = text.charCodeAt(k) >> 8;
  }
  return out;
}

const many = (unit: (k: number) => string, count: number) =>
  Array.from({ length: count }, (_, k) => unit(k)).join("");
const MIB2 = "x".repeat(2 << 20);
const HEADER_OPEN = HEADER.slice(0, -1);

/** A class whose attack is one write. */
function send(
  name: string,
  stage: Stage,
  expect: Expect,
  input: string | Uint8Array | ((context: AttackContext) => string),
): FuzzClass {
  return {
    name,
    stage,
    expect,
    attack: (client, context) => client.send(typeof input === "function" ? input(context) : input),
  };
}

const stream = (condition: string) => ({ stream: condition });

export const CLASSES: FuzzClass[] = [
  // Bad encodings (RFC 6120 §11.6: UTF-8 only).
  send(
    "invalid UTF-8 before the header",
    "before the header",
    stream("unsupported-encoding"),
    bytes([0xff], HEADER),
  ),
  send(
    "a UTF-16 header with its byte order mark",
    "before the header",
    stream("unsupported-encoding"),
    bytes([0xff, 0xfe], utf16le(HEADER)),
  ),
  send(
    "a UTF-8 byte order mark before the header",
    "before the header",
    stream("not-well-formed"),
    bytes([0xef, 0xbb, 0xbf], HEADER),
  ),
  send(
    "an overlong UTF-8 sequence in the header",
    "in the header",
    stream("unsupported-encoding"),
    bytes(HEADER_OPEN, " x='", [0xc0, 0xaf], "'>"),
  ),
  send(
    "an encoded surrogate in a stanza before auth",
    "before auth",
    stream("unsupported-encoding"),
    bytes("<message><body>", [0xed, 0xa0, 0x80], "</body></message>"),
  ),
  send(
    "invalid UTF-8 in a SASL response",
    "during SASL",
    stream("unsupported-encoding"),
    bytes(`<response xmlns='${NS_SASL}'>`, [0xfe], "</response>"),
  ),
  send(
    "an overlong UTF-8 sequence after bind",
    "after bind",
    stream("unsupported-encoding"),
    bytes(`<message to='${DOMAIN}'><body>`, [0xe0, 0x80, 0xaf], "</body></message>"),
  ),
  send(
    "an encoding other than UTF-8 declared",
    "before the header",
    stream("unsupported-encoding"),
    "<?xml version='1.0' encoding='ISO-8859-1'?>" + HEADER,
  ),
  send(
    "a NUL character in a stanza after bind",
    "after bind",
    stream("not-well-formed"),
    `<message to='${DOMAIN}'><body>\0</body></message>`,
  ),
  send(
    "a character reference to U+0000 after bind",
    "after bind",
    stream("not-well-formed"),
    `<message to='${DOMAIN}'><body>&#0;</body></message>`,
  ),

  // Huge and deep constructs (the stanza limit, 256 KiB, and the depth limit, 32).
  send(
    "a 2 MiB attribute in the header",
    "in the header",
    stream("policy-violation"),
    `${HEADER_OPEN} a='${MIB2}'>`,
  ),
  send(
    "10^5 attributes in the header",
    "in the header",
    stream("policy-violation"),
    HEADER_OPEN + many((k) => ` a${k}='x'`, 100_000) + ">",
  ),
  send(
    "10^5 namespace declarations in the header",
    "in the header",
    stream("policy-violation"),
    HEADER_OPEN + many((k) => ` xmlns:p${k}='urn:p'`, 100_000) + ">",
  ),
  send(
    "a 2 MiB text run before auth",
    "before auth",
    stream("policy-violation"),
    `<message><body>${MIB2}</body></message>`,
  ),
  send(
    "10^5 namespace declarations in a stanza before auth",
    "before auth",
    stream("policy-violation"),
    "<message" + many((k) => ` xmlns:p${k}='urn:p'`, 100_000) + "/>",
  ),
  send(
    "a 300 KiB SASL response",
    "during SASL",
    stream("policy-violation"),
    `<response xmlns='${NS_SASL}'>${"QUFB".repeat(75_000)}</response>`,
  ),
  send(
    "elements nested 10^4 deep after bind",
    "after bind",
    stream("policy-violation"),
    `<message to='${DOMAIN}'>` + "<a>".repeat(10_000),
  ),
  send(
    "10^5 attributes in a stanza after bind",
    "after bind",
    stream("policy-violation"),
    `<message to='${DOMAIN}'` + many((k) => ` a${k}='x'`, 100_000) + "/>",
  ),
  send(
    "a 300 KiB element name after bind",
    "after bind",
    stream("policy-violation"),
    `<m${"x".repeat(300 * 1024)}/>`,
  ),
  send(
    "a 40 KiB message, under every limit, after bind",
    "after bind",
    { served: true },
    (c) =>
      `<message to='fuzz@${DOMAIN}/${c.resource}'><body>${"y".repeat(40 * 1024)}</body></message>`,
  ),

  // XML that RFC 6120 §11.1 forbids, and what it allows (CDATA).
  send(
    "a billion-laughs DTD before the header",
    "before the header",
    stream("restricted-xml"),
    "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;'>]>" +
      HEADER,
  ),
  send(
    "a comment before the header",
    "before the header",
    stream("restricted-xml"),
    "<!-- hello -->" + HEADER,
  ),
  send("a comment before auth", "before auth", stream("restricted-xml"), "<!-- hello -->"),
  send(
    "a processing instruction after bind",
    "after bind",
    stream("restricted-xml"),
    "<?php echo 1; ?>",
  ),
  send(
    "an undeclared entity after bind",
    "after bind",
    stream("restricted-xml"),
    `<message to='${DOMAIN}'><body>&xxe;</body></message>`,
  ),
  send(
    "an XML declaration inside the stream",
    "before auth",
    stream("restricted-xml"),
    "<?xml version='1.0'?>",
  ),
  send(
    "a CDATA section in a message after bind",
    "after bind",
    { served: true },
    (c) =>
      `<message to='fuzz@${DOMAIN}/${c.resource}'><body><![CDATA[<b>&hi;</b>]]></body></message>`,
  ),

  // Malformed XML.
  send(
    "a mismatched end tag after bind",
    "after bind",
    stream("not-well-formed"),
    `<message to='${DOMAIN}'><body></message>`,
  ),
  send("an unbound prefix before auth", "before auth", stream("not-well-formed"), "<x:message/>"),
  send(
    "a duplicate attribute in the header",
    "in the header",
    stream("not-well-formed"),
    `${HEADER_OPEN} to='${DOMAIN}'>`,
  ),
  send(
    "< in an attribute value after bind",
    "after bind",
    stream("not-well-formed"),
    `<message to='a<b'/>`,
  ),
  send(
    "an end tag with no start before auth",
    "before auth",
    stream("not-well-formed"),
    "</message>",
  ),
  send("text before the header", "before the header", stream("not-well-formed"), "hello" + HEADER),

  // Headers and namespaces (RFC 6120 §4.3, §4.8, §4.9.3).
  send("a second stream header before auth", "before auth", stream("invalid-xml"), HEADER),
  send("a second stream header after bind", "after bind", stream("invalid-xml"), HEADER),
  send(
    "a stream root in another namespace",
    "before the header",
    stream("invalid-namespace"),
    "<stream:stream xmlns='jabber:client' xmlns:stream='urn:not-streams' to='localhost' version='1.0'>",
  ),
  send(
    "a header in the jabber:server namespace",
    "before the header",
    stream("invalid-namespace"),
    HEADER.replace("jabber:client", "jabber:server"),
  ),
  send(
    "a header for a host not served",
    "before the header",
    stream("host-unknown"),
    HEADER.replace(`to='${DOMAIN}'`, "to='elsewhere.example'"),
  ),
  send(
    "a header of version 2.0",
    "before the header",
    stream("unsupported-version"),
    HEADER.replace("version='1.0'", "version='2.0'"),
  ),
  send(
    "a top-level element in an unknown namespace after bind",
    "after bind",
    stream("unsupported-stanza-type"),
    "<foo xmlns='urn:example:unknown'/>",
  ),
  send(
    "a jabber:client element that is no stanza after bind",
    "after bind",
    stream("unsupported-stanza-type"),
    "<foo/>",
  ),
  send(
    "an iq with an unknown payload after bind",
    "after bind",
    { stanza: "service-unavailable" },
    `<iq type='get' id='u1' to='${DOMAIN}'><x xmlns='urn:example:unknown'/></iq>`,
  ),
  send(
    "a message before authentication",
    "before auth",
    stream("not-authorized"),
    `<message to='${DOMAIN}'><body>hi</body></message>`,
  ),
  send(
    "an iq without id after bind",
    "after bind",
    { stanza: "bad-request" },
    `<iq type='get' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
  ),
  send(
    "a bind with two resources",
    "before bind",
    { stanza: "bad-request" },
    "<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>a</resource><resource>b</resource></bind></iq>",
  ),
  send(
    "a forged from after bind",
    "after bind",
    stream("invalid-from"),
    `<message from='admin@${DOMAIN}/x' to='${DOMAIN}'><body>hi</body></message>`,
  ),
  send(
    "a SASL auth after bind",
    "after bind",
    stream("policy-violation"),
    `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>AGEAYg==</auth>`,
  ),

  // SASL (RFC 6120 §6.5).
  send(
    "an unknown SASL mechanism",
    "before auth",
    { sasl: "invalid-mechanism" },
    `<auth xmlns='${NS_SASL}' mechanism='X-UNKNOWN'>=</auth>`,
  ),
  send(
    "bad base64 in a SASL response",
    "during SASL",
    { sasl: "incorrect-encoding" },
    `<response xmlns='${NS_SASL}'>!!!not base64!!!</response>`,
  ),
  send(
    "a SASL response with no exchange",
    "before auth",
    { sasl: "malformed-request" },
    `<response xmlns='${NS_SASL}'>=</response>`,
  ),
  send(
    "three failed SASL attempts",
    "before auth",
    { closed: true },
    `<auth xmlns='${NS_SASL}' mechanism='X-1'/><auth xmlns='${NS_SASL}' mechanism='X-2'/><auth xmlns='${NS_SASL}' mechanism='X-3'/>`,
  ),

  // Floods. Karma: 64 KiB at once, then 16 KiB/s.
  // At most the burst, the rest of the 64 KiB chunk that finishes the stanza which ran the
  // bucket dry, one more chunk read as reading paused, and 1 s of the rate.
  send("6000 pings at once after bind", "after bind", {
    throttled: { maxAnswers: Math.ceil((64 + 2 * 64 + 16) * 1024 / PROBE.length) },
  }, PROBE.repeat(6000)),
  send("1 MiB of whitespace before auth", "before auth", { open: true }, " ".repeat(1 << 20)),
  {
    name: "connections from one address past connections-per-ip",
    stage: "before the header",
    expect: stream("policy-violation"),
    alone: true,
    async attack(_client, { port }) {
      // The canary and this class's client hold two places already; the rest are taken here.
      const held: FuzzClient[] = [];
      try {
        for (let k = 0; k < CONNECTIONS_PER_IP; k++) {
          const extra = await FuzzClient.connect(port);
          if (await extra.waitClosed(50)) return extra; // refused: its answer is the one to check
          held.push(extra);
        }
      } finally {
        for (const extra of held) extra.close();
      }
      return undefined; // none refused: the class's own client, still open, fails the check
    },
  },

  // Slow senders.
  {
    name: "a header sent a byte at a time",
    stage: "before the header",
    expect: { features: true },
    attack: (client) => client.trickle(HEADER, 1, 2),
  },
  {
    name: "a stanza sent a byte at a time after bind",
    stage: "after bind",
    expect: { served: true },
    attack: (client, c) =>
      client.trickle(
        `<message to='fuzz@${DOMAIN}/${c.resource}' type='chat'><body>slow</body></message>`,
        1,
        2,
      ),
  },
  send("silence after half a header", "in the header", {
    stream: "connection-timeout",
    afterMs: 3_000,
  }, HEADER.slice(0, 40)),

  // Half-closed sockets.
  {
    name: "a half-closed socket before the header",
    stage: "before the header",
    expect: { closed: true },
    attack: (client) => client.closeWrite(),
  },
  {
    name: "a half-closed socket during SASL",
    stage: "during SASL",
    expect: { closed: true },
    attack: (client) => client.closeWrite(),
  },
  {
    name: "a half-closed socket mid-stanza after bind",
    stage: "after bind",
    expect: { closed: true },
    async attack(client) {
      await client.send(`<message to='${DOMAIN}'><body>half a sta`);
      await client.closeWrite();
    },
  },

  // STARTTLS (RFC 6120 §5.4.3.3): garbage where the TLS ClientHello belongs.
  {
    name: "garbage instead of a TLS ClientHello",
    stage: "before auth",
    expect: { closed: true },
    async attack(client) {
      await client.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      await client.next(/<proceed[^>]*\/>/);
      await client.send(new Uint8Array(4096).fill(0x16));
      await client.send(`${HEADER}<message/>`);
    },
  },
];

/** `<limits connections-per-ip>` of the fuzzer's server. */
export const CONNECTIONS_PER_IP = 24;

/** A session's worth of stanzas the seeded mutants start from. */
const SESSION = `<message to='${DOMAIN}' id='m1' type='chat'><body>hi &amp; bye</body>` +
  `<thread>t1</thread></message><presence><status>away</status></presence>` +
  `<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>` +
  `<iq type='get' id='v1' to='${DOMAIN}'><query xmlns='jabber:iq:version'/></iq>`;

/** Bytes that break XML where they land. */
const BYTES = [..."<>&'\"/=!?:;[]# \n"].map((c) => c.charCodeAt(0))
  .concat([0x00, 0x0b, 0xff, 0xc0, 0xed, 0xef, 0xbb, 0xbf, 0x80]);

/** Attribute values that stay well-formed but test what reads them: JIDs, types, ids. */
const VALUES = [
  "",
  " ",
  "@",
  "a@b@c",
  "@localhost",
  "fuzz@localhost/",
  `${"u".repeat(1100)}@localhost`,
  "localhost/../../etc",
  "\u202eevil@localhost",
  "ﬀ@localhost",
  "&amp;lt;",
  "get",
  "set",
  "result",
  "error",
  "jabber:client",
  "urn:ietf:params:xml:ns:xmpp-bind",
];

/**
 * `count` classes each sending the session changed by the seeded `random`: half break bytes
 * (1 to 3 edits), half replace one attribute value with another well-formed one.
 */
export function mutants(count: number, random: () => number): FuzzClass[] {
  const pick = (n: number) => Math.floor(random() * n);
  return Array.from({ length: count }, (_, index) => {
    let input: Uint8Array;
    let edits: string;
    if (index % 2 === 1) {
      const values = [...SESSION.matchAll(/='([^']*)'/g)];
      const { index: at, 1: old } = values[pick(values.length)];
      const value = VALUES[pick(VALUES.length)];
      const start = at! + 2;
      input = encoder.encode(SESSION.slice(0, start) + value + SESSION.slice(start + old.length));
      edits = `'${old}' → '${value.length > 40 ? value.slice(0, 8) + "…" : value}'`;
    } else {
      const data = Array.from(encoder.encode(SESSION));
      const done: string[] = [];
      const editCount = 1 + pick(3);
      while (done.length < editCount) {
        const kind = pick(4);
        const k = pick(data.length);
        const length = 1 + pick(16);
        if (kind === 0) data[k] = BYTES[pick(BYTES.length)];
        else if (kind === 1) data.splice(k, 0, BYTES[pick(BYTES.length)]);
        else if (kind === 2) data.splice(k, length);
        else data.splice(k, 0, ...data.slice(k, k + length));
        done.push(`${["set", "insert", "delete", "repeat"][kind]}@${k}`);
      }
      input = new Uint8Array(data);
      edits = done.join(", ");
    }
    return send(
      `seeded mutant ${index + 1} of a session (${edits})`,
      "after bind",
      { survives: predict(input) },
      input,
    );
  });
}

/** What our own parser makes of `data` inside a stream: a fault, all complete, or unfinished. */
function predict(data: Uint8Array): Prediction {
  let failed = false;
  const parser = new StreamParser({
    onStreamStart() {},
    onStanza() {},
    onStreamEnd() {},
    onError: () => void (failed = true),
  });
  parser.write(`<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}'>`);
  parser.write(data);
  return failed ? "fault" : parser.inStanza ? "open" : "complete";
}

/** A small seeded generator (mulberry32): the same seed, the same mutants. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
