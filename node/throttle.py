"""At most one report per interval, counting what was held back in between, so a
fault that repeats many times a second (EMFILE on accept, a full node) is logged as
one line per interval, never as a storm. Pure: time comes in as ``now``."""

import math


class Throttle:
    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = -math.inf
        self._held_back = 0

    def report(self, now: float) -> int | None:
        """None to stay quiet; else how many occurrences were held back since the last
        report (0 for the first)."""
        if now < self._next:
            self._held_back += 1
            return None
        held_back, self._held_back = self._held_back, 0
        self._next = now + self._interval
        return held_back
