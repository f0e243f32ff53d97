-- Who gets names and who gets a count (docs/protocol.md, "Presence"): names while at
-- most the presence limit are online cluster-wide. When the count crosses the limit the
-- mode changes here, once, and the change goes out on the broadcast channel, in the same
-- order as every join and leave: every node switches at the same point of the stream.
-- KEYS: users hash, presence mode key
-- ARGV: broadcast channel, presence limit
-- Returns the number of users online.
local online = redis.call('HLEN', KEYS[1])
local mode = 'listed'
if online > tonumber(ARGV[2]) then
  mode = 'counted'
end
if (redis.call('GET', KEYS[2]) or 'listed') ~= mode then
  redis.call('SET', KEYS[2], mode)
  redis.call('PUBLISH', ARGV[1], cjson.encode({v = 1, kind = 'presence', mode = mode,
                                               online = online}))
end
return online
