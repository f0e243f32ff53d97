-- Put this node's connected users back into the registry where they are missing
-- (Redis lost its data, or survivors reaped this node while it was cut off).
-- KEYS: names hash, users hash, this node's user set
-- ARGV: node id, then folded name and display name pairs
-- Returns one status per pair: 0 = in place, 1 = restored, 2 = held by someone else.
local statuses = {}
for i = 2, #ARGV, 2 do
  local folded, display = ARGV[i], ARGV[i + 1]
  local holder = redis.call('HGET', KEYS[1], folded)
  if not holder then
    redis.call('HSET', KEYS[1], folded, display)
    redis.call('HSET', KEYS[2], display, ARGV[1])
    redis.call('SADD', KEYS[3], folded)
    table.insert(statuses, 1)
  elseif holder == display and redis.call('HGET', KEYS[2], display) == ARGV[1] then
    redis.call('SADD', KEYS[3], folded)
    table.insert(statuses, 0)
  else
    table.insert(statuses, 2)
  end
end
return statuses
