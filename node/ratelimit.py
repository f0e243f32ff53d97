"""Pacing of one client's commands: a token bucket. Pure; time comes in as ``now``.

A client may send ``burst`` cluster commands at once and ``rate`` per second after
that. Beyond it the node does not refuse anything: it reads the client's next line
later ("fake lag", as IRC servers do), so a flooding client slows only itself.
"""


class TokenBucket:
    __slots__ = ("_rate", "_burst", "_tokens", "_last")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float) -> float:
        """Spend one token; the seconds to wait before acting (0.0 when within limits)."""
        if self._rate <= 0:
            return 0.0  # pacing switched off
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate
