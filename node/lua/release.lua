-- Release one session's name, only if that session still holds it (its claim token):
-- a name reaped and claimed again, elsewhere or here, must not be freed by its old holder.
-- KEYS: names hash, skeletons hash, claims hash, users hash, this node's user hash
-- ARGV: folded name, skeleton, display name, node id, claim token
-- Returns 1 if released, 0 if the session did not hold it.
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[5] then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then
  redis.call('HDEL', KEYS[2], ARGV[2])
end
if redis.call('HGET', KEYS[4], ARGV[3]) == ARGV[4] then
  redis.call('HDEL', KEYS[4], ARGV[3])
end
return 1
