/**
 * Message archives (XEP-0313) shared by every archive of the server: the session manager's user
 * archives and MUC room archives (§6.1). Ids (XEP-0359), query and RSM reading (§4, XEP-0059),
 * storage on XDB keyed logs, and the results a query answers with.
 */
export { Archive, type Archived, type Page, type PageLimits, stripStanzaIds } from "./archive.ts";
export { after, idAt, IdMaker, timeOf } from "./ids.ts";
export { type MamQuery, queryForm, readQuery } from "./query.ts";
export { type QueryAnswer, queryAnswer } from "./results.ts";
