-- Publish to a shard channel on a Redis Cluster. The channel is passed as the key, so
-- the client routes this like any key command: after a failover it finds the new
-- primary within a second, where glide's own SPUBLISH kept going to the dead one for
-- about 18 s (docs/decisions.md, "SPUBLISH through a script").
-- KEYS: the channel
-- ARGV: the message
-- Returns the number of subscribers that received it.
return redis.call('SPUBLISH', KEYS[1], ARGV[1])
