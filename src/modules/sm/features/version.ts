/**
 * XEP-0092 Software Version: the server's name and version for an iq to a host. The operating
 * system is left out unless `<version os="…"/>` in the `<sm>` config names it (§4: it can help an
 * attacker, and the core has no portable way to read it).
 */
import { NS_VERSION } from "../../../util/ns.ts";
import { NAME, VERSION } from "../../../version.ts";
import { xml } from "../../../xml/element.ts";
import type { SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

export const version: SmFeature = {
  name: "version",
  settings: ["version"],
  validate(setting, context) {
    for (const name of Object.keys(setting.attrs)) {
      if (name !== "os") context.problem(setting, `<version> takes only os="…", not "${name}"`);
    }
  },
  register(sm) {
    const os = sm.api.config.getChild("version")?.attrs.os;
    advertise(sm, "host", NS_VERSION);
    sm.api.hook<StanzaEvent>(`iq-get/host/${NS_VERSION}:query`, ({ stanza }) => {
      const query = xml("query", { xmlns: NS_VERSION }, xml("name", {}, NAME));
      query.append(xml("version", {}, VERSION));
      if (os) query.append(xml("os", {}, os));
      sm.reply(stanza, query);
      return true;
    });
  },
};
