-- Pins remote domains to a fixed address for outgoing server-to-server connections, so a
-- throwaway Prosody reaches test domains without DNS (tests/federation/harness.ts).
-- Config: s2s_fixed_routes = { ["jabberd.test"] = { "127.0.0.21", 5269 } }
-- mod_s2s asks net.resolvers.service for "_xmpp-server._tcp" and "_xmpps-server._tcp" targets
-- (XEP-0368) on every new connection; a pinned domain gets its one address instead.
module:set_global();

local service = require "net.resolvers.service";
local basic = require "net.resolvers.basic";

local routes = module:get_option("s2s_fixed_routes", {});
local original_new = service.new;

-- A resolver with no targets: no direct TLS (xmpps-server) for pinned domains.
local none = { next = function(_, cb) cb(nil); end };

function service.new(hostname, service_name, proto, extra)
	local route = routes[hostname];
	if route == nil then return original_new(hostname, service_name, proto, extra); end
	if service_name ~= "xmpp-server" then return none; end
	module:log("debug", "Pinned route for %s: %s port %d", hostname, route[1], route[2]);
	return basic.new(route[1], route[2], proto, extra);
end

function module.unload()
	service.new = original_new;
end
