/**
 * Reading an archive query (XEP-0313 §4.1 filters in a XEP-0004 form, §4.3 paging with XEP-0059
 * result set management, §7 `urn:xmpp:mam:2#extended`: before-id, after-id, ids, flip-page)
 * into the key range it selects, and the empty form of §5.1 that tells clients the fields.
 */
import { StanzaError } from "../util/errors.ts";
import { JID } from "../util/jid.ts";
import { NS_DATA_FORMS, NS_MAM, NS_RSM } from "../util/ns.ts";
import { type Element, xml } from "../xml/element.ts";
import { after, idAt, timeOf } from "./ids.ts";

export interface MamQuery {
  queryid?: string;
  /** The `with` filter: a bare JID (or domain) matches every resource, a full JID only itself. */
  with?: JID;
  /** Keys in [start, end): from the form's start, end, after-id and before-id. */
  start?: string;
  end?: string;
  /** Extended `ids`: exactly these messages. */
  ids?: string[];
  /** RSM `<after>`: the page after this id. */
  after?: string;
  /** RSM `<before>`: the page before this id; "" (an empty `<before/>`) the last page. */
  before?: string;
  /** RSM `<max>`, undefined when absent. */
  max?: number;
  /** §7: the page's results newest first. */
  flip: boolean;
  /** The after-id and before-id given: item-not-found unless archived (§7). */
  mustExist: string[];
}

const FIELDS = ["with", "start", "end", "before-id", "after-id", "ids"];

/** The `<query>` of an iq set as a MamQuery; throws `bad-request` for what it cannot read. */
export function readQuery(query: Element): MamQuery {
  const result: MamQuery = { flip: query.getChild("flip-page") !== undefined, mustExist: [] };
  if (query.attrs.queryid !== undefined) result.queryid = query.attrs.queryid;
  const form = query.getChild("x", NS_DATA_FORMS);
  if (form) readForm(form, result);
  const set = query.getChild("set", NS_RSM);
  if (set) {
    const max = set.getChildText("max");
    if (max !== undefined) {
      const n = Number(max.trim());
      if (!Number.isInteger(n) || n < 0) throw bad(`<max> "${max}" is not a count`);
      result.max = n;
    }
    const afterId = set.getChildText("after");
    if (afterId !== undefined) {
      if (afterId.trim() === "") throw bad("<after> needs the id to page after");
      result.after = afterId.trim();
    }
    const beforeId = set.getChildText("before");
    if (beforeId !== undefined) result.before = beforeId.trim();
    if (set.getChild("index")) {
      throw new StanzaError("feature-not-implemented", "Paging by <index> is not supported");
    }
  }
  return result;
}

function readForm(form: Element, result: MamQuery): void {
  for (const field of form.getChildren("field")) {
    const name = field.attrs.var;
    const values = field.getChildren("value").map((value) => value.text().trim());
    if (name === "FORM_TYPE") {
      if (values[0] !== NS_MAM) throw bad(`FORM_TYPE must be ${NS_MAM}`);
      continue;
    }
    if (name === undefined || !FIELDS.includes(name)) throw bad(`Unknown field "${name}"`);
    if (name === "ids") {
      result.ids = values.filter((value) => value !== "");
      continue;
    }
    const value = values[0];
    if (value === undefined || value === "") continue;
    switch (name) {
      case "with": {
        const jid = JID.tryParse(value);
        if (!jid) throw new StanzaError("jid-malformed", `"${value}" is not a JID`);
        result.with = jid;
        break;
      }
      case "start":
        raise(result, idAt(timeField(value)));
        break;
      case "end":
        // The end is inclusive: every id of that millisecond.
        lower(result, idAt(timeField(value) + 1));
        break;
      case "after-id":
        raise(result, after(value));
        result.mustExist.push(value);
        break;
      case "before-id":
        lower(result, value);
        result.mustExist.push(value);
        break;
    }
  }
}

function raise(result: MamQuery, key: string): void {
  if (result.start === undefined || key > result.start) result.start = key;
}

function lower(result: MamQuery, key: string): void {
  if (result.end === undefined || key < result.end) result.end = key;
}

/** XEP-0082 date and time, with a zone (an id of ours is accepted as its time too). */
function timeField(value: string): number {
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value)
    ? Date.parse(value)
    : NaN;
  if (Number.isNaN(ms)) {
    const fromId = timeOf(value);
    if (fromId !== undefined) return fromId;
    throw bad(`"${value}" is not a date and time such as 2024-05-17T08:30:05Z`);
  }
  return ms;
}

function bad(text: string): StanzaError {
  return new StanzaError("bad-request", text);
}

/** §5.1: the fields a query may use, as an empty form. */
export function queryForm(): Element {
  const field = (name: string, type: string) => xml("field", { var: name, type });
  return xml(
    "query",
    { xmlns: NS_MAM },
    xml(
      "x",
      { xmlns: NS_DATA_FORMS, type: "form" },
      xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_MAM)),
      field("with", "jid-single"),
      field("start", "text-single"),
      field("end", "text-single"),
      field("before-id", "text-single"),
      field("after-id", "text-single"),
      field("ids", "text-multi"),
    ),
  );
}
