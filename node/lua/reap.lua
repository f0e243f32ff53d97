-- Remove every user a node holds and forget the node. Used by a node on its own
-- id (at start-up after a crash, and at shutdown) and by survivors on a node whose
-- heartbeat expired.
-- KEYS: names hash, skeletons hash, claims hash, users hash, the node's user hash,
--       nodes set, the node's alive key
-- ARGV: node id, "force" to reap even if the node's heartbeat is still alive
-- Returns the display names removed.
if ARGV[2] ~= 'force' and redis.call('EXISTS', KEYS[7]) == 1 then
  return {}
end
local removed = {}
local held = redis.call('HGETALL', KEYS[5])
for i = 1, #held, 2 do
  local folded, skeleton = held[i], held[i + 1]
  local display = redis.call('HGET', KEYS[1], folded)
  if display and redis.call('HGET', KEYS[4], display) == ARGV[1] then
    redis.call('HDEL', KEYS[1], folded)
    redis.call('HDEL', KEYS[3], folded)
    redis.call('HDEL', KEYS[4], display)
    if redis.call('HGET', KEYS[2], skeleton) == folded then
      redis.call('HDEL', KEYS[2], skeleton)
    end
    table.insert(removed, display)
  end
end
redis.call('DEL', KEYS[5])
redis.call('SREM', KEYS[6], ARGV[1])
redis.call('DEL', KEYS[7])
return removed
