-- Claim a user name for a node, atomically across the cluster.
-- KEYS: names hash, users hash, this node's user set
-- ARGV: folded name, display name, node id
-- Returns {1, all display names} on success, {0} when the name is taken.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return {0}
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
return {1, redis.call('HKEYS', KEYS[2])}
