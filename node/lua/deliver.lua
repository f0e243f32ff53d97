-- Find the node holding a user and publish a direct message to that node's channel,
-- in one step, so "no such user" and delivery are decided together; and only while
-- the sender's session still holds its own name (its claim token: the fence).
-- On a Redis Cluster the node channel hashes to another slot than these keys, so the
-- caller passes no channel prefix: the script only looks up, and the caller publishes.
-- KEYS: names hash, users hash, claims hash
-- ARGV: folded target, node channel prefix ('' to look up only), envelope, folded
--       sender, sender's claim token
-- Returns {1, the target's display name, their node id} when found (and published
-- unless looking up only), {0} when nobody of that name is online, {-1} when the
-- sender no longer holds its name (nothing is published).
if redis.call('HGET', KEYS[3], ARGV[4]) ~= ARGV[5] then
  return {-1}
end
local display = redis.call('HGET', KEYS[1], ARGV[1])
if not display then
  return {0}
end
local node = redis.call('HGET', KEYS[2], display)
if not node then
  return {0}
end
if ARGV[2] ~= '' then
  redis.call('PUBLISH', ARGV[2] .. node, ARGV[3])
end
return {1, display, node}
