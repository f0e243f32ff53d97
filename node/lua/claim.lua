-- Claim a user name for one session, atomically across the cluster. Refused while the
-- same name (folded) or a name that looks like it (skeleton) is online.
-- KEYS: names hash, skeletons hash, claims hash, users hash, this node's user hash
-- ARGV: folded name, skeleton, display name, node id, claim token
-- Returns {1, all display names} on success, {0, the online name in the way} if taken.
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
return {1, redis.call('HKEYS', KEYS[4])}
