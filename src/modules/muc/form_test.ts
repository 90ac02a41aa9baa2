/** Tests of the XEP-0004 helpers and of reading the room configuration form. */
import assert from "node:assert/strict";
import { xml } from "../../xml/element.ts";
import { field, form, formBoolean, formValues } from "./form.ts";
import { applyForm } from "./owner.ts";
import { defaultConfig } from "./room.ts";

Deno.test("formValues() reads a submitted form, and formBoolean() its booleans", () => {
  const x = form("submit", "urn:test", [
    field("a", { values: ["1"] }),
    field("b", { values: ["x", "y"] }),
  ]);
  const values = formValues(x);
  assert.deepEqual(values.get("FORM_TYPE"), ["urn:test"]);
  assert.deepEqual(values.get("b"), ["x", "y"]);
  assert.equal(formBoolean(values.get("a")?.[0]), true);
  assert.equal(formBoolean("false"), false);
  assert.equal(formBoolean(undefined), undefined);
});

Deno.test("applyForm() changes only the fields sent and keeps the password only when protected", () => {
  const before = { ...defaultConfig("r", 20), password: "old" };
  const values = formValues(xml(
    "x",
    {},
    field("muc#roomconfig_roomname", { values: ["Cauldron"] }),
    field("muc#roomconfig_whois", { values: ["everyone"] }),
    field("muc#maxhistoryfetch", { values: ["500"] }),
    field("muc#roomconfig_passwordprotectedroom", { values: ["0"] }),
  ));
  const after = applyForm(before, values, 50);
  assert.equal(after.name, "Cauldron");
  assert.equal(after.whois, "moderators"); // not a known value: kept
  assert.equal(after.maxHistory, 50); // no more than the service keeps
  assert.equal(after.password, "");
  assert.equal(after.moderated, before.moderated);
});
