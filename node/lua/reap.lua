-- Remove every user a node holds and forget the node. Used by a node on its own
-- id (at start-up after a crash, and at shutdown) and by survivors on a node whose
-- heartbeat expired.
-- KEYS: names hash, users hash, the node's user set, nodes set, the node's alive key
-- ARGV: node id, "force" to reap even if the node's heartbeat is still alive
-- Returns the display names removed.
if ARGV[2] ~= 'force' and redis.call('EXISTS', KEYS[5]) == 1 then
  return {}
end
local removed = {}
for _, folded in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local display = redis.call('HGET', KEYS[1], folded)
  if display and redis.call('HGET', KEYS[2], display) == ARGV[1] then
    redis.call('HDEL', KEYS[1], folded)
    redis.call('HDEL', KEYS[2], display)
    table.insert(removed, display)
  end
end
redis.call('DEL', KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[5])
return removed
