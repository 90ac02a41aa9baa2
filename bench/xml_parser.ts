/**
 * Benchmark of the XMPP stream parser (RFC 6120 §4, §11) against ltx and saxes on a realistic
 * stanza mix fed in 4 KiB chunks, plus a check that ours refuses everything saxes refuses.
 *
 * Run: `deno run -A bench/xml_parser.ts` (or through `bench/main.ts`).
 */

import { Parser as LtxParser } from "ltx";
import { SaxesParser, type SaxesTagNS } from "saxes";
import { Element } from "../src/xml/element.ts";
import { StreamParser } from "../src/xml/stream_parser.ts";

/** One line of the result table. */
export interface Row {
  bench: string;
  name: string;
  mbPerSecond: number;
  stanzasPerSecond: number;
  /** Median wall time of one round, in milliseconds. */
  milliseconds: number;
  note?: string;
}

const NS_STREAMS = "http://etherx.jabber.org/streams";
const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
  `xmlns:stream='${NS_STREAMS}' to='example.com' from='juliet@example.com' version='1.0' ` +
  `xml:lang='en'>`;
const STANZAS = 100_000;
const CHUNK = 4096;
const ROUNDS = 5;

/** A deterministic stanza mix: chat messages, rich presence, roster pushes, small iqs. */
export function makeStream(count = STANZAS): { bytes: Uint8Array; stanzas: number } {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const parts = [HEADER];
  const bodies = [
    "Wherefore art thou, Romeo?",
    "Meet me at the café at 8 &amp; bring the crème brûlée",
    "if (a &lt; b &amp;&amp; c &gt; d) { return &quot;yes&quot;; }",
    "日本語のメッセージです。よろしくお願いします。",
    "Привет! Как дела? 😀👍",
    "A somewhat longer message body that goes on for a while, as people do when they type " +
    "a paragraph into a chat window instead of a short reply, with a link https://example.org/" +
    "path?query=1&amp;other=2 in it.",
  ];
  for (let n = 0; n < count; n++) {
    const r = random();
    const user = `user${Math.floor(random() * 1000)}@example.org`;
    if (r < 0.4) {
      const body = bodies[Math.floor(random() * bodies.length)];
      parts.push(
        `<message from='${user}/phone' to='juliet@example.com' type='chat' id='m${n}' ` +
          `xml:lang='en'><body>${body}</body>` +
          `<active xmlns='http://jabber.org/protocol/chatstates'/>` +
          `<request xmlns='urn:xmpp:receipts'/></message>`,
      );
    } else if (r < 0.75) {
      parts.push(
        `<presence from='${user}/laptop' to='juliet@example.com'><show>away</show>` +
          `<status>Out to lunch — back soon</status><priority>5</priority>` +
          `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' ` +
          `node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>` +
          `<x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d` +
          `</photo></x></presence>`,
      );
    } else if (r < 0.77) {
      let items = "";
      for (let k = 0; k < 50; k++) {
        items += `<item jid='contact${k}@example.org' name='Contact ${k} &amp; Söhne' ` +
          `subscription='both'><group>Friends</group></item>`;
      }
      parts.push(
        `<iq type='result' id='roster${n}' to='juliet@example.com/balcony'>` +
          `<query xmlns='jabber:iq:roster' ver='ver${n}'>${items}</query></iq>`,
      );
    } else {
      parts.push(
        `<iq type='get' id='ping${n}' from='${user}/phone' to='example.com'>` +
          `<ping xmlns='urn:xmpp:ping'/></iq>`,
      );
    }
    if (r > 0.97) parts.push("\n ");
  }
  parts.push("</stream:stream>");
  return { bytes: new TextEncoder().encode(parts.join("")), stanzas: count };
}

function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < bytes.length; k += CHUNK) out.push(bytes.subarray(k, k + CHUNK));
  return out;
}

/** Parses with our parser; returns the number of stanzas. */
function runOurs(input: Uint8Array[]): number {
  let count = 0;
  const parser = new StreamParser({
    onStreamStart() {},
    onStanza() {
      count++;
    },
    onStreamEnd() {},
    onError(error) {
      throw error;
    },
  });
  for (const chunk of input) parser.write(chunk);
  parser.end();
  return count;
}

/** ltx's own SAX parser building elements the way @xmpp/xml does. */
function runLtx(input: Uint8Array[]): number {
  // deno-lint-ignore no-explicit-any
  const Sax = (LtxParser as any).prototype.DefaultParser;
  const sax = new Sax();
  let count = 0;
  let depth = 0;
  let cursor: Element | undefined;
  sax.on("startElement", (name: string, attrs: Record<string, string>) => {
    depth++;
    if (depth === 1) return;
    const el = new Element(name, attrs);
    if (cursor) cursor.append(el);
    cursor = el;
  });
  sax.on("endElement", () => {
    depth--;
    if (depth === 1 && cursor) {
      count++;
      cursor = undefined;
    } else if (cursor) {
      cursor = cursor.parent;
    }
  });
  sax.on("text", (text: string) => {
    if (cursor) cursor.t(text);
  });
  const decoder = new TextDecoder();
  for (const chunk of input) sax.write(decoder.decode(chunk, { stream: true }));
  sax.end();
  return count;
}

/** saxes with namespaces, building the same elements. */
function runSaxes(input: Uint8Array[]): number {
  const parser = new SaxesParser({ xmlns: true, position: false });
  let count = 0;
  let depth = 0;
  let cursor: Element | undefined;
  parser.on("opentag", (tag: SaxesTagNS) => {
    depth++;
    if (depth === 1) return;
    const attrs: Record<string, string> = {};
    for (const key in tag.attributes) attrs[key] = tag.attributes[key].value;
    const el = new Element(tag.name, attrs, [], tag.uri);
    if (cursor) cursor.append(el);
    cursor = el;
  });
  parser.on("closetag", () => {
    depth--;
    if (depth === 1 && cursor) {
      count++;
      cursor = undefined;
    } else if (cursor) {
      cursor = cursor.parent;
    }
  });
  parser.on("text", (text: string) => {
    if (cursor) cursor.t(text);
  });
  parser.on("error", (error: Error) => {
    throw error;
  });
  const decoder = new TextDecoder();
  for (const chunk of input) parser.write(decoder.decode(chunk, { stream: true }));
  parser.close();
  return count;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Inputs every strict parser must refuse, as whole streams. */
export const MALFORMED: string[] = [
  "<message><body>hi</message>",
  "<message to='a' to='b'/>",
  "<message to='a<b'/>",
  "<message to=a/>",
  "<message to='a'from='b'/>",
  "<message><foo:bar/></message>",
  "<message>&#0;</message>",
  "<message>&#xD800;</message>",
  "<message>&#x110000;</message>",
  "<message>&foo;</message>",
  "<message>a & b</message>",
  "<message>&amp</message>",
  "<message>]]></message>",
  "<message>\u0001</message>",
  "<message to='\u0001'/>",
  "<1message/>",
  "<message 1to='a'/>",
  "<message><</message>",
  "<message></ message>",
  "<message/ >",
  "<a:b:c xmlns:a='x'/>",
  "<message xmlns:p='x' xmlns:q='x' p:a='1' q:a='2'/>",
  "<message xmlns:xmlns='x'/>",
  "<message xmlns:xml='x'/>",
  "<message xmlns:p=''/>",
  "<xmlns:message/>",
  "</message>",
  "<message><![CDATA[x]]</message>",
  "<message><![CDAT[x]]></message>",
  "<message>text</message></stream:stream>trailing",
  "<message>\uFFFE</message>",
  "<!DOCTYPE x>",
  "<message><!-- c --></message>",
  "<?pi x?>",
  "<message><?pi x?></message>",
  "<message attr='&lt'/>",
  "<message attr='&#;'/>",
];

/** Whether each parser refuses a stream with `inner` inside; our set must cover saxes's. */
export function crossCheck(): { input: string; saxes: boolean; ours: boolean }[] {
  const open = `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}'>`;
  return MALFORMED.map((inner) => {
    const text = open + inner + (inner.includes("</stream:stream>") ? "" : "</stream:stream>");
    let saxes = false;
    const parser = new SaxesParser({ xmlns: true });
    parser.on("error", () => {
      saxes = true;
    });
    try {
      parser.write(text).close();
    } catch {
      saxes = true;
    }
    let ours = false;
    const stream = new StreamParser({
      onStreamStart() {},
      onStanza() {},
      onStreamEnd() {},
      onError() {
        ours = true;
      },
    });
    stream.write(text);
    stream.end();
    return { input: inner, saxes, ours };
  });
}

/** Runs every parser `ROUNDS` times on the same mix; one row per parser with median speeds. */
export async function benchXmlParser(): Promise<Row[]> {
  const { bytes, stanzas } = makeStream();
  const input = chunks(bytes);
  const contenders: [string, (input: Uint8Array[]) => number, string][] = [
    ["ours (StreamParser)", runOurs, "strict, namespaces, element tree"],
    ["ltx (SaxLtx)", runLtx, "not strict, no namespaces"],
    ["saxes", runSaxes, "strict, namespaces, element tree"],
  ];
  const times = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of contenders) {
      const start = performance.now();
      const count = run(input);
      const elapsed = performance.now() - start;
      if (count !== stanzas) throw new Error(`${name} parsed ${count} of ${stanzas} stanzas`);
      times.get(name)!.push(elapsed);
      await Promise.resolve();
    }
  }
  return contenders.map(([name, , note]) => {
    const ms = median(times.get(name)!);
    return {
      bench: "xml_parser",
      name,
      mbPerSecond: Math.round(bytes.length / 1e6 / (ms / 1000) * 10) / 10,
      stanzasPerSecond: Math.round(stanzas / (ms / 1000)),
      milliseconds: Math.round(ms),
      note,
    };
  });
}

if (import.meta.main) {
  const { bytes } = makeStream();
  console.log(
    `${STANZAS} stanzas, ${(bytes.length / 1e6).toFixed(1)} MB, ${CHUNK}-byte chunks, ` +
      `median of ${ROUNDS} rounds`,
  );
  console.table(await benchXmlParser());
  const checks = crossCheck();
  const missed = checks.filter((c) => c.saxes && !c.ours);
  const stricter = checks.filter((c) => !c.saxes && c.ours);
  console.log(
    `Malformed inputs: ${checks.length}; saxes refuses ${checks.filter((c) => c.saxes).length}, ` +
      `ours ${checks.filter((c) => c.ours).length}; missed by ours: ${missed.length}`,
  );
  for (const c of missed) console.log(`  MISSED: ${JSON.stringify(c.input)}`);
  for (const c of stricter) console.log(`  only ours refuses: ${JSON.stringify(c.input)}`);
  if (missed.length > 0) throw new Error("The stream parser accepts input that saxes refuses");
}
