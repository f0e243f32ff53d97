"""bench.redis_info: INFO text in, CPU seconds and per-command calls out; differences
between two readings and sums over shards."""

from bench.redis_info import RedisReading, parse_info, total

INFO = (
    "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.250000\r\n"
    "used_cpu_sys_children:9.000000\r\n\r\n# Memory\r\nused_memory:1048576\r\n"
    "used_memory_human:1.00M\r\n\r\n# Commandstats\r\n"
    "cmdstat_evalsha:calls=10,usec=150,usec_per_call=15.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_cluster|slots:calls=2,usec=4,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_info:calls=7,usec=70,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n"
)


def test_parse_keeps_own_cpu_and_every_command_but_info() -> None:
    reading = parse_info(INFO)
    assert reading.cpu_s == 1.75  # not the children's
    assert reading.calls == {"evalsha": 10, "cluster|slots": 2}
    assert reading.usec == {"evalsha": 150, "cluster|slots": 4}
    assert reading.memory == 1048576


def test_since_and_total() -> None:
    before = RedisReading(1.0, {"evalsha": 4, "hget": 1}, {"evalsha": 40, "hget": 1}, 1000)
    after = RedisReading(1.5, {"evalsha": 10, "hget": 1, "publish": 3},
                         {"evalsha": 100, "hget": 1, "publish": 6}, 1500)
    work = after.since(before)
    assert work == RedisReading(0.5, {"evalsha": 6, "publish": 3}, {"evalsha": 60, "publish": 6},
                                500)
    summed = total({"redis-1": work, "redis-2": RedisReading(0.25, {"publish": 1}, {"publish": 2})})
    assert summed == RedisReading(0.75, {"evalsha": 6, "publish": 4}, {"evalsha": 60, "publish": 8},
                                  500)
