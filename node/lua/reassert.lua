-- Put this node's connected sessions back into the registry where they are missing
-- (Redis lost its data, or survivors reaped this node while it was cut off or paused).
-- A session whose name, or a look-alike of it, someone else holds now is not restored.
-- KEYS: names hash, skeletons hash, claims hash, users hash, this node's user hash
-- ARGV: node id, then for each session: folded name, skeleton, display name, claim token
-- Returns one status per session: 0 = in place, 1 = restored, or (taken) the display
-- name of whoever holds that name or a look-alike of it now.
local statuses = {}
for i = 2, #ARGV, 4 do
  local folded, skeleton, display, token = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local status
  local intact = false
  if redis.call('HGET', KEYS[3], folded) == token then
    status = 0
    -- In place, the usual case every heartbeat: only reads, so nothing is written (or
    -- replicated) unless a partial loss took an entry away.
    intact = redis.call('HGET', KEYS[1], folded) == display
        and redis.call('HGET', KEYS[2], skeleton) == folded
        and redis.call('HGET', KEYS[4], display) == ARGV[1]
        and redis.call('HGET', KEYS[5], folded) == skeleton
  else
    status = redis.call('HGET', KEYS[1], folded)
    if not status then
      local lookalike = redis.call('HGET', KEYS[2], skeleton)
      if lookalike and lookalike ~= folded then
        status = redis.call('HGET', KEYS[1], lookalike)
      end
    end
    status = status or 1
  end
  if type(status) == 'number' and not intact then  -- ours: put back every entry
    redis.call('HSET', KEYS[1], folded, display)
    redis.call('HSET', KEYS[2], skeleton, folded)
    redis.call('HSET', KEYS[3], folded, token)
    redis.call('HSET', KEYS[4], display, ARGV[1])
    redis.call('HSET', KEYS[5], folded, skeleton)
  end
  table.insert(statuses, status)
end
return statuses
