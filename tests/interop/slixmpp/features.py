"""The server's own answers, through slixmpp's plugins: service discovery (XEP-0030), version
(XEP-0092), time (XEP-0202), ping (XEP-0199), vCard-temp (XEP-0054), private XML (XEP-0049) and
last activity (XEP-0012). Prints one line per feature."""
from slixmpp.xmlstream import ElementBase

from common import Client, arguments, check, run, say

class Settings(ElementBase):
    """A private XML payload of our own (XEP-0049 stores any namespace but jabber:*)."""
    name = "settings"
    namespace = "interop:slixmpp"
    plugin_attrib = "interop_settings"
    interfaces = {"theme"}
    sub_interfaces = interfaces


PLUGINS = ("xep_0030", "xep_0092", "xep_0202", "xep_0199", "xep_0054", "xep_0049", "xep_0012")


class Features(Client):
    def __init__(self, args):
        super().__init__(args, plugins=PLUGINS)

    async def scenario(self):
        server = self.boundjid.domain
        timeout = self.args.timeout / 4

        info = await self["xep_0030"].get_info(jid=server, timeout=timeout)
        identities = [(c, t) for c, t, *_ in info["disco_info"]["identities"]]
        features = info["disco_info"]["features"]
        check(("server", "im") in identities, f"a server/im identity: {identities}")
        check("urn:xmpp:ping" in features, f"ping among the features: {features}")
        say("disco", len(features), "features")

        version = await self["xep_0092"].get_version(server, timeout=timeout)
        check(version["software_version"]["name"], f"a software name: {version}")
        say("version", version["software_version"]["name"], version["software_version"]["version"])

        time = await self["xep_0202"].get_entity_time(server, timeout=timeout)
        # The raw text: slixmpp's own date parser refuses some valid XEP-0082 forms.
        utc = time.xml.find("{urn:xmpp:time}time/{urn:xmpp:time}utc")
        check(utc is not None and utc.text, f"a UTC time: {time}")
        say("time", utc.text)

        await self["xep_0199"].ping(server, timeout=timeout)
        say("ping", "ok")

        card = self["xep_0054"].make_vcard()
        card["FN"] = "Slix McXmpp"
        card["NICKNAME"] = "slix"
        await self["xep_0054"].publish_vcard(card, timeout=timeout)
        stored = await self["xep_0054"].get_vcard(self.boundjid.bare, cached=False, timeout=timeout)
        check(stored["vcard_temp"]["FN"] == "Slix McXmpp", f"the vCard came back: {stored}")
        say("vcard", stored["vcard_temp"]["FN"])

        self["xep_0049"].register(Settings)
        settings = Settings()
        settings["theme"] = "dark"
        await self["xep_0049"].store(settings, timeout=timeout)
        private = await self["xep_0049"].retrieve("interop_settings", timeout=timeout)
        theme = private["private"]["interop_settings"]["theme"]
        check(theme == "dark", f"the private data came back: {private}")
        say("private", theme)

        uptime = await self["xep_0012"].get_last_activity(server, timeout=timeout)
        check(uptime["last_activity"]["seconds"] >= 0, f"an uptime: {uptime}")
        say("last", uptime["last_activity"]["seconds"])


if __name__ == "__main__":
    run(Features(arguments(__doc__)))
