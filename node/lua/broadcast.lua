-- Publish a broadcast, only while the sender's session still holds its name (its
-- claim token: the fence against a paused node speaking for a name reclaimed since).
-- KEYS: claims hash
-- ARGV: folded sender, sender's claim token, channel, envelope
-- Returns 1 when published, 0 when the sender no longer holds its name.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
