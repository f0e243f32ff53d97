-- Release a user name, but only if this node still holds it (a name reaped and
-- claimed again elsewhere must not be deleted by its old holder).
-- KEYS: names hash, users hash, this node's user set
-- ARGV: folded name, display name, node id
-- Returns 1 if released, 0 if this node did not hold it.
redis.call('SREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
