-- Put this node's connected sessions back into the registry where they are missing
-- (Redis lost its data, or survivors reaped this node while it was cut off or paused).
-- A session whose name, or a look-alike of it, someone else holds now is not restored.
-- KEYS: names hash, skeletons hash, claims hash, users hash, this node's user hash
-- ARGV: node id, then for each session: folded name, skeleton, display name, claim token
-- Returns one status per session: 0 = in place, 1 = restored, 2 = held by someone else.
local statuses = {}
for i = 2, #ARGV, 4 do
  local folded, skeleton, display, token = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local status
  if redis.call('HGET', KEYS[3], folded) == token then
    status = 0
  elseif redis.call('HEXISTS', KEYS[1], folded) == 1 then
    status = 2
  else
    local lookalike = redis.call('HGET', KEYS[2], skeleton)
    if lookalike and lookalike ~= folded and redis.call('HEXISTS', KEYS[1], lookalike) == 1 then
      status = 2
    else
      status = 1
    end
  end
  if status ~= 2 then  -- ours: make sure every entry is there, a partial loss included
    redis.call('HSET', KEYS[1], folded, display)
    redis.call('HSET', KEYS[2], skeleton, folded)
    redis.call('HSET', KEYS[3], folded, token)
    redis.call('HSET', KEYS[4], display, ARGV[1])
    redis.call('HSET', KEYS[5], folded, skeleton)
  end
  table.insert(statuses, status)
end
return statuses
