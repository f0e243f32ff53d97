"""The collector settings a node (and the benchmark's generator) runs with."""

import subprocess
import sys

from node import gc_policy

PROBE = """
import gc
from node import gc_policy
before = gc.get_freeze_count()
gc_policy.settle()
print(before, gc.get_freeze_count(), *gc.get_threshold())
"""


def test_settle_freezes_what_exists_and_spaces_out_collections() -> None:
    # A fresh interpreter: the settings are process-wide, not for the test runner.
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout.split()
    before, frozen, *thresholds = map(int, out)
    assert before == 0
    assert frozen > 1000  # the imported modules' objects, at least
    assert tuple(thresholds) == gc_policy.THRESHOLDS
    young, middle, full = gc_policy.THRESHOLDS
    assert young > 700  # CPython's default: the point of the change
    assert young * middle * full >= 1_000_000  # a full collection after ≥ 1M new objects
