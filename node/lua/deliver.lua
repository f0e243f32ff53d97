-- Find the node holding a user and publish a direct message to that node's channel,
-- in one step, so "no such user" and delivery are decided together.
-- KEYS: names hash, users hash
-- ARGV: folded target, node channel prefix, envelope
-- Returns the target's display name, or false when nobody of that name is online.
local display = redis.call('HGET', KEYS[1], ARGV[1])
if not display then
  return false
end
local node = redis.call('HGET', KEYS[2], display)
if not node then
  return false
end
redis.call('PUBLISH', ARGV[2] .. node, ARGV[3])
return display
