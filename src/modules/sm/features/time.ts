/** XEP-0202 Entity Time: the server's UTC time and zone offset for an iq to a host. */
import { NS_TIME } from "../../../util/ns.ts";
import { xml } from "../../../xml/element.ts";
import type { SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

/** The zone offset of `now` in XEP-0082's form (`+02:00`, `-05:30`, `Z` is not allowed here). */
export function zoneOffset(now: number): string {
  const minutes = -new Date(now).getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** A XEP-0082 DateTime in UTC, without fractions of a second. */
export function utcStamp(now: number): string {
  return new Date(now).toISOString().replace(/\.\d+Z$/, "Z");
}

export const time: SmFeature = {
  name: "time",
  register(sm) {
    advertise(sm, "host", NS_TIME);
    sm.api.hook<StanzaEvent>(`iq-get/host/${NS_TIME}:time`, ({ stanza }) => {
      const now = sm.api.timer.now();
      const payload = xml("time", { xmlns: NS_TIME });
      payload.append(xml("tzo", {}, zoneOffset(now)), xml("utc", {}, utcStamp(now)));
      sm.reply(stanza, payload);
      return true;
    });
  },
};
