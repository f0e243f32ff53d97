-- Claim a user name for one session, atomically across the cluster. Refused while the
-- same name (folded) or a name that looks like it (skeleton) is online.
-- While Redis recovers from losing its data (heartbeat.lua: the registry marker is gone,
-- or the recovery window is open), nothing is claimed: the connected users' nodes put
-- their names back first.
-- KEYS: names hash, skeletons hash, claims hash, users hash, this node's user hash,
--       recovery window key, registry marker
-- ARGV: folded name, skeleton, display name, node id, claim token, presence limit
-- Returns {1, all display names} on success, or {2, how many are online} on success when
-- that is more than the presence limit (no names: that list would grow with every
-- login); {0, the online name in the way} if taken; {-1} during a recovery window.
if redis.call('EXISTS', KEYS[6]) == 1 or redis.call('EXISTS', KEYS[7]) == 0 then
  return {-1}
end
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if not holder then
  local lookalike = redis.call('HGET', KEYS[2], ARGV[2])
  if lookalike then
    holder = redis.call('HGET', KEYS[1], lookalike)  -- nil: a stale entry, free
  end
end
if holder then
  return {0, holder}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
local online = redis.call('HLEN', KEYS[4])
if online > tonumber(ARGV[6]) then
  return {2, online}
end
return {1, redis.call('HKEYS', KEYS[4])}
