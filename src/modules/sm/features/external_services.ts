/**
 * XEP-0215 External Service Discovery (§2, §3.1, §3.2): tells the server's own users which STUN
 * and TURN servers to use, as the `<external-service type host port transport name/>` children of
 * `<sm>` list them: all of them, or those of the `type` asked for. The worked example of
 * docs/CONTRIBUTING.md, which shows this file as it is; tests/contributing_example_test.ts
 * runs it in a real session manager.
 */
import { oneOf, options, port, string } from "../../../config/options.ts";
import { StanzaError } from "../../../util/errors.ts";
import { NS_EXTDISCO } from "../../../util/ns.ts";
import { xml } from "../../../xml/element.ts";
import type { SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

/** One `<external-service>`: the attributes of XEP-0215's `<service>` that the config may set. */
const SERVICE = options({
  type: string().required(`type, such as type="stun" or type="turn"`),
  host: string().required("host, the service's domain name or address"),
  port: port(),
  transport: oneOf(["udp", "tcp"]),
  name: string(),
});

export const externalServices: SmFeature = {
  name: "external-services",
  settings: ["external-service"],
  validate(setting, context) {
    SERVICE.validate(setting, context);
  },
  register(sm) {
    // Read once: a SIGHUP that changes the config restarts the section, and this with it.
    const services = sm.api.config.getChildren("external-service").map((setting) => {
      const attrs: Record<string, string> = {};
      for (const [name, value] of Object.entries(SERVICE.read(setting))) {
        if (value !== undefined) attrs[name] = String(value);
      }
      return attrs;
    });
    advertise(sm, "host", NS_EXTDISCO);
    sm.api.hook<StanzaEvent>(`iq-get/host/${NS_EXTDISCO}:services`, ({ stanza, origin }) => {
      // Relays cost bandwidth: only this server's sessions learn them (§2 allows forbidden).
      if (!origin) throw new StanzaError("forbidden", "Only local users may ask for services");
      const type = stanza.getChild("services", NS_EXTDISCO)?.attrs.type;
      const answer = xml("services", { xmlns: NS_EXTDISCO });
      if (type !== undefined) answer.attrs.type = type;
      for (const attrs of services) {
        if (type === undefined || attrs.type === type) answer.append(xml("service", { ...attrs }));
      }
      sm.reply(stanza, answer);
      return true;
    });
  },
};
