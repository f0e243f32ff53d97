-- A node's heartbeat: list it, and set its alive key with a TTL. Also notices a lost
-- registry: the marker key is set by the first heartbeat ever and never expires, so a
-- running node that finds it gone knows Redis lost its data (a restart without
-- persistence, a FLUSHALL). It then opens a short recovery window in which claim.lua
-- refuses new claims, so every live node can re-assert its users first.
-- KEYS: nodes set, this node's alive key, registry marker, recovery window key
-- ARGV: node id, TTL in ms, recovery window in ms, "running" or "starting"
-- Returns 1 if the registry was found lost, else 0.
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
redis.call('SET', KEYS[3], ARGV[1])
if ARGV[4] ~= 'running' then
  return 0
end
redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[3], 'NX')
return 1
