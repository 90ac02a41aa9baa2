/**
 * The session manager's features (RFC 6121 and the XEPs of issue 3), in one plain list: the
 * composition is explicit here and nothing registers itself on import. `<sm>` registers each one
 * in this order unless `<disable>name</disable>` switches it off.
 */
import type { SmFeature } from "../types.ts";
import { announce } from "./announce.ts";
import { avatarConversion } from "./avatar_conversion.ts";
import { blocking } from "./blocking.ts";
import { carbons } from "./carbons.ts";
import { csi } from "./csi.ts";
import { disco } from "./disco.ts";
import { externalServices } from "./external_services.ts";
import { last } from "./last.ts";
import { mam } from "./mam/mod.ts";
import { pep } from "./pep/mod.ts";
import { idlePing } from "./idle_ping.ts";
import { ping } from "./ping.ts";
import { privateXml } from "./private.ts";
import { push } from "./push.ts";
import { register } from "./register.ts";
import { presence, roster, subscription } from "./roster/mod.ts";
import { time } from "./time.ts";
import { vcard } from "./vcard.ts";
import { version } from "./version.ts";

export const smFeatures: SmFeature[] = [
  roster,
  subscription,
  presence,
  blocking,
  carbons,
  csi,
  push,
  mam,
  vcard,
  privateXml,
  pep,
  avatarConversion,
  disco,
  version,
  time,
  last,
  ping,
  idlePing,
  externalServices,
  announce,
  register,
];
